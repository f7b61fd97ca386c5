import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { DatasetUploadedData, ValidationIssue, ValidationProgressData } from '@flotilla/contracts';
import type { EventPublisher } from '@flotilla/messaging';
import type { MetricsService } from '@flotilla/observability';
import { dicom, png } from '@flotilla/samples';
import type { ObjectStorage } from '@flotilla/storage';
import { ValidatorEnv } from '../validator.env.js';
import type { FileResult, JobRow, JobStore } from './job-store.js';
import { ValidationRunner } from './validation-runner.js';

const sha256 = (content: Buffer): string => createHash('sha256').update(content).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  status: string;
  issues: ValidationIssue[];
  files: FileResult[];
  reportKey: string | null;
}

/**
 * An S3 whose objects arrive in `chunks` pieces, `delayMs(index)` apart, so reads of one
 * job overlap and finish in another order than they started; it counts open downloads.
 */
class FakeStorage {
  open = 0;
  maxOpen = 0;
  destroyed = 0;
  reports = new Map<string, string>();
  failKey?: string;

  constructor(
    private readonly objects: Map<string, Buffer>,
    private readonly delayMs: (key: string) => number,
    private readonly chunks = 4,
  ) {}

  async getStream(key: string, signal?: AbortSignal): Promise<Readable> {
    if (key === this.failKey) throw new Error(`S3 said no to ${key}`);
    const content = this.objects.get(key)!;
    const size = Math.ceil(content.length / this.chunks);
    const delay = this.delayMs(key);
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let closed = false;
    const close = (): void => {
      if (!closed) {
        closed = true;
        this.open--;
      }
    };
    async function* pieces(): AsyncGenerator<Buffer> {
      for (let i = 0; i * size < content.length; i++) {
        await sleep(delay);
        if (signal?.aborted) throw signal.reason;
        yield content.subarray(i * size, (i + 1) * size);
      }
    }
    const stream = Readable.from(pieces());
    stream.once('close', () => {
      if (!stream.readableEnded) this.destroyed++;
      close();
    });
    return stream;
  }

  async putObject(key: string, body: string): Promise<void> {
    this.reports.set(key, body);
  }
}

/** The job store's side of a run, in memory: what was written, and when. */
class FakeJobs {
  progress: { filesChecked: number; bytesChecked: number }[] = [];
  inFlight = 0;
  overlapping = false;
  failures: { error: string; retryInMs: number }[] = [];
  outcome?: Outcome;

  constructor(private readonly job: JobRow) {}

  claim = async (): Promise<{ kind: 'claimed'; job: JobRow }> => ({ kind: 'claimed', job: this.job });
  renewLease = async (): Promise<boolean> => true;
  expireAbandoned = async (): Promise<number> => 0;
  async progressWrite(filesChecked: number, bytesChecked: number): Promise<boolean> {
    if (this.inFlight > 0) this.overlapping = true;
    this.inFlight++;
    await sleep(5);
    this.inFlight--;
    this.progress.push({ filesChecked, bytesChecked });
    return true;
  }
  recordFailure = async (_id: string, error: string, retryInMs: number): Promise<void> => {
    this.failures.push({ error, retryInMs });
  };
  finish = async (_job: JobRow, outcome: Outcome): Promise<boolean> => {
    this.outcome = outcome;
    return true;
  };
}

function xrayJob(): { job: JobRow; objects: Map<string, Buffer> } {
  const datasetId = randomUUID();
  const images = [
    ['a.png', png({ width: 80, height: 80, seed: 1 })],
    ['b.png', png({ width: 20, height: 20, seed: 2 })], // too small
    ['c.dcm', dicom({ rows: 96, columns: 96, seed: 3 })],
    ['d.png', png({ width: 80, height: 80, seed: 1 })], // the same bytes as a.png
    ['e.png', png({ width: 90, height: 90, seed: 5 })], // not in the manifest
  ] as const;
  const manifest = Buffer.from(
    [
      'filename,label,sha256',
      `a.png,normal,${sha256(images[0][1])}`,
      `b.png,abnormal,${sha256(images[1][1])}`,
      `c.dcm,normal,${'0'.repeat(64)}`, // wrong checksum
      'd.png,normal,',
      'gone.png,normal,', // not in the dataset
      '',
    ].join('\n'),
  );
  const entries: [string, string, Buffer][] = [...images.map(([name, content]): [string, string, Buffer] => [name, 'image/png', content]), ['manifest.csv', 'text/csv', manifest]];
  const objects = new Map<string, Buffer>();
  const files: DatasetUploadedData['files'] = entries.map(([filename, contentType, content]) => {
    const fileId = randomUUID();
    const key = `datasets/${datasetId}/${fileId}/${filename}`;
    objects.set(key, content);
    return { fileId, filename, contentType, sizeBytes: content.length, key };
  });
  const job = {
    id: randomUUID(),
    dataset_id: datasetId,
    team_id: randomUUID(),
    profile: 'xray',
    options: {},
    files,
    status: 'running',
    files_total: files.length,
    attempts: 1,
  } as unknown as JobRow;
  return { job, objects };
}

const metrics = { histogram: () => ({ observe: () => undefined }) } as unknown as MetricsService;

/** What the runner published, as the broker would have taken it. */
class FakePublisher {
  readonly published: { type: string; data: ValidationProgressData; options: unknown }[] = [];
  publish = async (type: string, data: ValidationProgressData, options: unknown): Promise<void> => {
    this.published.push({ type, data, options });
  };
}

function runner(jobs: FakeJobs, storage: FakeStorage, settings: Partial<ValidatorEnv>, publisher = new FakePublisher()): ValidationRunner {
  const env = Object.assign(new ValidatorEnv(), settings);
  const store = { ...jobs, progress: (_id: string, files: number, bytes: number) => jobs.progressWrite(files, bytes) } as unknown as JobStore;
  return new ValidationRunner(store, storage as unknown as ObjectStorage, env, metrics, publisher as unknown as EventPublisher);
}

const event = (job: JobRow): DatasetUploadedData => ({
  datasetId: job.dataset_id,
  jobId: job.id,
  teamId: job.team_id,
  profile: 'xray',
  options: {},
  queuedAt: new Date().toISOString(),
  files: job.files,
});

describe('ValidationRunner', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('reads a few files at a time and reports exactly what reading them one by one does', async () => {
    const { job, objects } = xrayJob();
    const keys = [...objects.keys()];
    // Later files arrive faster, so the parallel reads finish in reverse order.
    const delay = (key: string): number => 2 + (keys.length - keys.indexOf(key)) * 3;

    const oneByOne = new FakeJobs(job);
    const sequentialStorage = new FakeStorage(objects, delay);
    await runner(oneByOne, sequentialStorage, { VALIDATION_FILE_CONCURRENCY: 1 }).run(event(job));
    expect(sequentialStorage.maxOpen).toBe(1);

    const parallel = new FakeJobs(job);
    const parallelStorage = new FakeStorage(objects, delay);
    await runner(parallel, parallelStorage, { VALIDATION_FILE_CONCURRENCY: 3 }).run(event(job));
    expect(parallelStorage.maxOpen).toBe(3);

    expect(parallel.outcome?.status).toBe('failed');
    expect(parallel.outcome?.issues.map((i) => `${i.code}:${i.file ?? ''}`).sort()).toEqual(
      ['checksum_mismatch:c.dcm', 'duplicate_content:d.png', 'image_too_small:b.png', 'missing_file:gone.png', 'unlisted_file:e.png'].sort(),
    );
    expect(parallel.outcome).toEqual(oneByOne.outcome);
    expect(parallel.outcome?.files.map((f) => f.fileId)).toEqual(job.files.map((f) => f.fileId));
    const [report] = [...parallelStorage.reports.values()];
    const [sequentialReport] = [...sequentialStorage.reports.values()];
    const withoutTime = (r: string | undefined): unknown => ({ ...JSON.parse(r!), generatedAt: undefined });
    expect(withoutTime(report)).toEqual(withoutTime(sequentialReport));
  });

  it('writes no progress for a job shorter than the interval: the verdict sets the totals', async () => {
    const { job, objects } = xrayJob();
    const jobs = new FakeJobs(job);
    await runner(jobs, new FakeStorage(objects, () => 0), { VALIDATION_PROGRESS_INTERVAL_MS: 60_000 }).run(event(job));
    expect(jobs.progress).toEqual([]);
    expect(jobs.outcome?.status).toBe('failed');
  });

  it('writes progress on its interval while a long job runs, one write at a time, never going back', async () => {
    const { job, objects } = xrayJob();
    const jobs = new FakeJobs(job);
    const storage = new FakeStorage(objects, () => 15, 8); // about 120 ms per file
    const publisher = new FakePublisher();
    await runner(jobs, storage, { VALIDATION_PROGRESS_INTERVAL_MS: 50, VALIDATION_FILE_CONCURRENCY: 2 }, publisher).run(event(job));
    // Each committed write is announced, transient, with the counts it wrote.
    expect(publisher.published.map((p) => p.data)).toEqual(jobs.progress.map((p) => ({ datasetId: job.dataset_id, jobId: job.id, ...p })));
    expect(new Set(publisher.published.map((p) => p.type))).toEqual(new Set(['validation.progress']));
    expect(publisher.published[0]?.options).toMatchObject({ persistent: false });
    const chunksRead = objects.size * 8;
    expect(jobs.progress.length).toBeGreaterThan(2);
    expect(jobs.progress.length).toBeLessThan(chunksRead / 2);
    expect(jobs.overlapping).toBe(false);
    for (const [i, p] of jobs.progress.entries()) {
      const before = jobs.progress[i - 1] ?? { filesChecked: 0, bytesChecked: 0 };
      expect(p.filesChecked).toBeGreaterThanOrEqual(before.filesChecked);
      expect(p.bytesChecked).toBeGreaterThanOrEqual(before.bytesChecked);
    }
    expect(jobs.progress.some((p) => p.filesChecked > 0 && p.filesChecked < objects.size)).toBe(true);
  });

  it('stops the other reads when one fails, and gives the lease up until the retry is due', async () => {
    const { job, objects } = xrayJob();
    const jobs = new FakeJobs(job);
    const storage = new FakeStorage(objects, () => 20, 10);
    storage.failKey = job.files[2]!.key;
    await expect(runner(jobs, storage, { VALIDATION_FILE_CONCURRENCY: 3, VALIDATION_RETRY_DELAY_MS: 700 }).run(event(job))).rejects.toThrow(
      `S3 said no to ${job.files[2]!.key}`,
    );
    expect(jobs.failures).toEqual([{ error: expect.stringContaining('S3 said no'), retryInMs: 700 }]);
    expect(jobs.outcome).toBeUndefined();
    expect(storage.destroyed).toBe(2); // the two reads under way were ended, not left holding connections
    expect(storage.open).toBe(0);
  });

  it('answers a duplicate delivery once the run in progress has settled, not at once', async () => {
    const { job, objects } = xrayJob();
    const jobs = new FakeJobs(job);
    const validator = runner(jobs, new FakeStorage(objects, () => 20, 5), {});
    const first = validator.run(event(job));
    await sleep(10);
    await validator.run(event(job));
    // The verdict was recorded before the duplicate was answered.
    expect(jobs.outcome?.status).toBe('failed');
    await first;
  });
});
