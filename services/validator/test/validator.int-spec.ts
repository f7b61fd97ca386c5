import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Message } from 'amqplib';
import { createHash, randomUUID } from 'node:crypto';
import { DatasetEvents } from '@flotilla/contracts';
import { nifti, png } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { ValidatorUnderTest, type LocalFile } from './support/validator-process.js';

const TEAM = randomUUID();

/**
 * The validator as a process against real RabbitMQ, Postgres and an S3: events are
 * published and observed on the bus exactly as the upload service and the admin see them.
 */
describe('validator as a process: redelivery, retries, poison messages, SIGKILL', () => {
  const v = new ValidatorUnderTest({
    VALIDATION_MAX_ATTEMPTS: '3',
    VALIDATION_RETRY_DELAY_MS: '500',
    VALIDATION_PROGRESS_INTERVAL_MS: '50',
    VALIDATION_LEASE_MS: '3000',
  });
  const uploaded = (files: LocalFile[], opts: { put?: boolean; envelopeId?: string } = {}) => v.uploaded(files, { ...opts, teamId: TEAM });
  const publish = (envelope: unknown, type?: string): void => v.publish(envelope, type);
  const completedFor = (jobId: string) => v.completedFor(jobId);

  const job = async (jobId: string): Promise<{ status: string; attempts: number; last_error: string | null } | undefined> =>
    (await v.db.query(`SELECT status, attempts, last_error FROM "${v.schema}".jobs WHERE id = $1`, [jobId])).rows[0];

  /** Dead letters taken so far (unacknowledged until a test acks them): each call adds the new ones. */
  const taken: Message[] = [];
  async function deadLetters(): Promise<Message[]> {
    for (;;) {
      const message = await v.channel.get(v.names.deadLetterQueue, { noAck: false });
      if (!message) return [...taken];
      taken.push(message);
    }
  }
  function settle(messages: Message[]): void {
    for (const m of messages) {
      v.channel.ack(m);
      taken.splice(taken.indexOf(m), 1);
    }
  }

  const manifestFor = (...files: { filename: string; content: Buffer }[]) => ({
    filename: 'manifest.csv',
    contentType: 'text/csv',
    content: Buffer.from(`filename,label,sha256\n${files.map((f) => `${f.filename},normal,${createHash('sha256').update(f.content).digest('hex')}`).join('\n')}\n`),
  });

  beforeAll(() => v.start());
  afterAll(() => v.stop());

  it('validates a job once when its event is delivered twice', async () => {
    const image = { filename: 'a.png', contentType: 'image/png', content: png({ width: 80, height: 80 }) };
    const first = await uploaded([image, manifestFor(image)]);
    publish(first); // the same event again: a redelivery, or the outbox publishing it twice
    await waitFor(async () => completedFor(first.data.jobId).length > 0, { what: 'validation.completed' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(completedFor(first.data.jobId)).toHaveLength(1);
    expect(completedFor(first.data.jobId)[0]!.data).toMatchObject({ status: 'passed', summary: { errors: 0, warnings: 0 } });
    expect(await job(first.data.jobId)).toMatchObject({ status: 'passed', attempts: 1 });
  });

  it('retries while S3 is down, using up no attempt, and finishes once it is back', async () => {
    const image = { filename: 'b.png', contentType: 'image/png', content: png({ width: 90, height: 90 }) };
    const files = [image, manifestFor(image)];
    const keys = { datasetId: '', objects: [] as { key: string; content: Buffer; type: string }[] };
    await v.s3.close();
    const event = await uploaded(files, { put: false });
    keys.datasetId = event.data.datasetId;
    await waitFor(async () => (await job(event.data.jobId))?.last_error ?? undefined, { what: 'a failed attempt' });
    const failed = await job(event.data.jobId);
    expect(failed?.last_error).toMatch(/not reachable|ECONNREFUSED/);
    await v.startS3();
    for (const [i, f] of files.entries()) await v.storage.putObject(event.data.files[i]!.key, f.content, f.contentType);
    await waitFor(async () => completedFor(event.data.jobId).length > 0, { what: 'the retried job to finish', timeoutMs: 30_000 });
    expect(completedFor(event.data.jobId).map((e) => e.data.status)).toEqual(['passed']);
    // An outage is no fault of the job's: the failed attempts were given back (RELIABILITY.md).
    expect((await job(event.data.jobId))?.attempts).toBe(1);
  });

  it('ends a job in error after its attempts, dead-letters it with the error, and a replay completes it', async () => {
    const image = { filename: 'c.png', contentType: 'image/png', content: png({ width: 70, height: 70 }) };
    const files = [image, manifestFor(image)];
    const event = await uploaded(files, { put: false }); // the objects are missing: every attempt fails
    await waitFor(async () => completedFor(event.data.jobId).length > 0, { what: 'the job to end in error', timeoutMs: 30_000 });
    expect(completedFor(event.data.jobId)[0]!.data.status).toBe('error');
    expect(await job(event.data.jobId)).toMatchObject({ status: 'error', attempts: 3 });
    // Each failed attempt gave its lease up until its retry was due (VALIDATION_RETRY_DELAY_MS,
    // 500 ms): the three attempts did not wait out two leases of 3 s between them.
    const { rows: [span] } = await v.db.query<{ ms: number }>(
      `SELECT EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000 AS ms FROM "${v.schema}".jobs WHERE id = $1`,
      [event.data.jobId],
    );
    expect(Number(span!.ms)).toBeLessThan(4500);
    const [dead] = await waitFor(async () => {
      const found = await deadLetters();
      return found.length > 0 ? found : undefined;
    }, { what: 'the dead letter' });
    expect(JSON.parse(dead!.content.toString()).id).toBe(event.id);
    expect(String(dead!.properties.headers?.['x-error'])).toContain(`validation job ${event.data.jobId} failed 3 time(s)`);
    settle([dead!]);
    // The cause fixed (the objects uploaded), the dead letter is replayed.
    for (const [i, f] of files.entries()) await v.storage.putObject(event.data.files[i]!.key, f.content, f.contentType);
    publish(JSON.parse(dead!.content.toString()));
    await waitFor(async () => completedFor(event.data.jobId).length > 1, { what: 'the replayed job', timeoutMs: 30_000 });
    expect(completedFor(event.data.jobId).map((e) => e.data.status)).toEqual(['error', 'passed']);
  });

  it('dead-letters a poison message at once, with its error, and keeps going', async () => {
    publish({ id: randomUUID(), type: DatasetEvents.Uploaded, occurredAt: new Date().toISOString(), source: 'upload', correlationId: 'x', data: { datasetId: 'not-a-uuid' } });
    v.channel.publish(v.names.eventsExchange, DatasetEvents.Uploaded, Buffer.from('{not json'), { persistent: true });
    const dead = await waitFor(async () => {
      const found = await deadLetters();
      return found.length >= 2 ? found : undefined;
    }, { what: 'both poison messages in the DLQ', timeoutMs: 15_000 });
    const malformed = dead.find((m) => m.content.toString().includes('not-a-uuid'))!;
    expect(String(malformed.properties.headers?.['x-error'])).toMatch(/malformed \(datasetId/);
    settle(dead);
    const image = { filename: 'd.png', contentType: 'image/png', content: png({ width: 66, height: 66 }) };
    const next = await uploaded([image, manifestFor(image)]);
    await waitFor(async () => completedFor(next.data.jobId).length > 0, { what: 'the next job' });
  });

  it('ignores a dataset.uploaded that arrives after its dataset was deleted', async () => {
    const image = { filename: 'late.png', contentType: 'image/png', content: png({ width: 72, height: 72 }) };
    const datasetId = randomUUID();
    publish({ id: randomUUID(), type: DatasetEvents.Deleted, occurredAt: new Date().toISOString(), source: 'upload', correlationId: randomUUID(), data: { datasetId, teamId: TEAM, deletedBy: randomUUID() } }, DatasetEvents.Deleted);
    await waitFor(async () => ((await v.db.query(`SELECT 1 FROM "${v.schema}".deleted_datasets WHERE dataset_id = $1`, [datasetId])).rowCount === 1 ? true : undefined), { what: 'the deletion' });
    // A live dataset's job, and the same files announced for the deleted one.
    const alongside = await uploaded([image, manifestFor(image)]);
    publish({ ...alongside, id: randomUUID(), data: { ...alongside.data, datasetId, jobId: randomUUID() } });
    await waitFor(async () => completedFor(alongside.data.jobId).length > 0, { what: 'the live dataset\'s job' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await v.db.query(`SELECT 1 FROM "${v.schema}".jobs WHERE dataset_id = $1`, [datasetId])).rowCount).toBe(0);
    expect(v.completed.filter((e) => e.data.datasetId === datasetId)).toEqual([]);
    expect((await deadLetters()).filter((m) => m.content.toString().includes(datasetId))).toEqual([]);
  });

  it('ends a job nobody holds any more (its lease long lapsed) in error, and says so', async () => {
    const jobId = randomUUID();
    await v.db.query(
      `INSERT INTO "${v.schema}".jobs (id, dataset_id, team_id, profile, options, files, status, files_total, bytes_total, queued_at, started_at, attempts, lease_until)
       VALUES ($1, $2, $3, 'xray', '{}', '[]', 'running', 0, 0, now(), now(), 5, now() - interval '1 minute')`,
      [jobId, randomUUID(), TEAM],
    );
    await waitFor(async () => completedFor(jobId).length > 0, { what: 'the abandoned job to end', timeoutMs: 20_000 });
    expect(completedFor(jobId)[0]!.data.status).toBe('error');
    expect(await job(jobId)).toMatchObject({ status: 'error', last_error: expect.stringContaining('abandoned') });
  });

  it('finishes a job whose validator was killed mid-way, once', async () => {
    // Enough data (20 volumes of 5 MiB) that the job is still running when the process is killed.
    const files = Array.from({ length: 20 }, (_, i) => ({ filename: `volume-${i}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 80, seed: i }) }));
    const event = await uploaded([...files, manifestFor(...files)]);
    await waitFor(async () => ((await job(event.data.jobId))?.status === 'running' ? true : undefined), { what: 'the job to start', intervalMs: 5 });
    await v.restart();
    await waitFor(async () => completedFor(event.data.jobId).length > 0, { what: 'the job after the restart', timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(completedFor(event.data.jobId).map((e) => e.data.status)).toEqual(['passed']);
    expect((await job(event.data.jobId))?.attempts).toBe(2);
  });
});
