import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { png } from '@flotilla/samples';
import { putFiles, startUpload, type LocalFile, type ValidationStatusBody } from './support/datasets.js';
import { ADMIN, Platform, type ApiClient } from './support/platform.js';
import { S3CountingProxy } from './support/s3-counting-proxy.js';

/**
 * API.md "Datasets": `GET /validation/{id}/events` is pushed by `validation.*` events that
 * every gateway hears, not polled. Two of each service; each validator takes one job at a
 * time, reading its objects through a proxy of the test's own that holds back the reads of
 * two "slow" datasets: both validators are busy for as long as the test says, and a third
 * dataset waits `queued` meanwhile — its stream, on the *other* gateway, must stay quiet
 * (no status reads) and still hear each change as it happens.
 */
const QUEUED_MS = 3000;
/** Each object of a slow dataset, once released, reaches the validator this late: progress in steps. */
const SLOW_READ_MS = 300;
const SLOW_FILES = 8;

function files(count: number, seed: number): LocalFile[] {
  const images = Array.from({ length: count }, (_, i) => ({ filename: `scan-${i}.png`, contentType: 'image/png', content: png({ width: 96 + seed, height: 96 + i }) }));
  const rows = images.map((i) => `${i.filename},normal`).join('\n');
  return [...images, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label\n${rows}\n`) }];
}

interface StreamEvent {
  at: number;
  event: string;
  data: ValidationStatusBody;
}

/** Reads a validation event stream to its end, each event with the moment it arrived, and the keep-alive comments counted. */
async function readStream(api: ApiClient, token: string, datasetId: string): Promise<{ events: StreamEvent[]; keepAlives: number; openedAt: number }> {
  const openedAt = performance.now();
  const res = await fetch(`${api.baseUrl}/api/v1/validation/${datasetId}/events`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const events: StreamEvent[] = [];
  let keepAlives = 0;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body! as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (block.startsWith(':')) keepAlives++;
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ at: performance.now(), event, data: JSON.parse(data) as ValidationStatusBody });
    }
  }
  return { events, keepAlives, openedAt };
}

/** Status reads the gateway made (its RPCs `validator.status`), from its own metrics. */
async function statusReads(gatewayUrl: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('rpc_duration_seconds_count{') && line.includes('pattern="validator.status"'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('validation event streams, pushed by validation.* events', () => {
  const proxy = new S3CountingProxy();
  const platform = new Platform(
    { VALIDATION_CONCURRENCY: '1', VALIDATION_FILE_CONCURRENCY: '1', VALIDATION_PROGRESS_INTERVAL_MS: '200' },
    ['gateway', 'upload', 'validator'],
    { replicas: 2, startTimeoutMs: 120_000, envOf: (name): Record<string, string> => (name === 'validator' ? { S3_ENDPOINT: proxy.endpoint } : {}) },
  );
  let token = '';
  /** Datasets whose objects the validators may not read until `release`. */
  const slow = new Set<string>();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    await proxy.start();
    proxy.hooks.beforeRequest = async (method, url) => {
      if (method !== 'GET' || ![...slow].some((id) => url.includes(id))) return;
      await released;
      await new Promise((resolve) => setTimeout(resolve, SLOW_READ_MS));
    };
    // The validators check the bucket through the proxy as they start: it forwards as soon as the store is up.
    const starting = platform.start();
    while (!platform.s3) await new Promise((resolve) => setTimeout(resolve, 20));
    proxy.target = platform.s3.endpoint;
    await starting;
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'streams' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 's@streams.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    token = await platform.api.login('s@streams.test', 'member-password-123');
  }, 240_000);

  afterAll(async () => {
    release();
    await platform.stop();
    await proxy.close();
  });

  it('keeps a queued job\'s stream quiet on another gateway, and pushes each change, progress included, to the end', async () => {
    const [first, second] = platform.apis as [ApiClient, ApiClient];
    const upload = async (name: string, list: LocalFile[]): Promise<string> => {
      const start = await startUpload(first, token, name, 'xray', list);
      const parts = await putFiles(start, list);
      if (name.startsWith('slow')) slow.add(start.datasetId);
      const complete = await first.request('POST', '/api/v1/upload/complete', { token, body: { datasetId: start.datasetId, ...(parts.length ? { files: parts } : {}) } });
      expect(complete.status).toBe(202);
      return start.datasetId;
    };
    const heavy = [await upload('slow-1', files(SLOW_FILES, 1)), await upload('slow-2', files(SLOW_FILES, 2))];
    // Both validators busy with a slow job each: the third waits in the queue until the reads are released.
    const waiting = await upload('quick', files(1, 3));
    setTimeout(release, QUEUED_MS);
    const readsBefore = await statusReads(platform.instancesOf('gateway')[1]!.url);
    const [heavyStream, waitingStream] = await Promise.all([readStream(first, token, heavy[0]!), readStream(second, token, waiting)]);
    const reads = (await statusReads(platform.instancesOf('gateway')[1]!.url)) - readsBefore;

    // The waiting dataset's stream, on the gateway that served none of its requests until now.
    const statuses = waitingStream.events.filter((e) => e.event === 'status');
    expect(statuses.map((e) => e.data.status)).toEqual(expect.arrayContaining(['queued', 'passed']));
    expect(statuses[0]!.data.status).toBe('queued');
    expect(statuses.at(-1)!.data.status).toBe('passed');
    const queuedForMs = (statuses.find((e) => e.data.status !== 'queued')?.at ?? 0) - waitingStream.openedAt;
    // Polled every 500 ms, the stream would have read the status at least twice per second while queued.
    expect(queuedForMs).toBeGreaterThan(QUEUED_MS / 2);
    // Read once when opened, then once per event that reached it: not once per interval.
    expect(reads).toBeLessThanOrEqual(statuses.length + 1);
    expect(waitingStream.keepAlives).toBe(0);

    // The heavy dataset's stream hears its progress as the validator writes it.
    const running = heavyStream.events.filter((e) => e.event === 'status' && e.data.status === 'running');
    const bytes = running.map((e) => e.data.progress.bytesChecked);
    expect(new Set(bytes).size).toBeGreaterThanOrEqual(2);
    expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
    expect(heavyStream.events.at(-1)!.data.status).toBe('passed');
    expect(heavyStream.keepAlives).toBe(0);
  }, 300_000);
});
