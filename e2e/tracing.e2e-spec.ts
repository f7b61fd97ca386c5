import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { sampleDatasets } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { ADMIN, ApiClient, Platform, type ApiResponse } from './support/platform.js';
import { putFiles, type StartBody, type ValidationStatusBody } from './support/datasets.js';

/** A client whose every request belongs to one trace, as a traced CLI's upload would: it sends `traceparent`. */
class TracedApiClient extends ApiClient {
  readonly traceId = randomBytes(16).toString('hex');
  /** The client's own span, the parent of the gateway's first span of each request (not exported: the client has no SDK). */
  readonly clientSpanId = randomBytes(8).toString('hex');

  override request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    return super.request<T>(method, path, { ...options, headers: { ...options.headers, traceparent: `00-${this.traceId}-${this.clientSpanId}-01` } });
  }
}

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

describe('tracing: one dataset upload is one trace across gateway, upload, the outbox, validator and back', () => {
  const receiver = new OtlpReceiver();
  let platform: Platform;
  let member: string;

  beforeAll(async () => {
    await receiver.start();
    platform = new Platform(
      {
        // Only the standard variables: the receiver as endpoint, OTLP as JSON over HTTP, a short batch delay.
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      ['gateway', 'upload', 'validator'],
    );
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'traced' } });
    const user = await platform.api.request('POST', '/api/v1/admin/users', {
      token: admin,
      body: { email: 't@tracing.test', password: 'member-password-123', teamId: team.body.id, role: 'member' },
    });
    expect(user.status).toBe(201);
    member = await platform.api.login('t@tracing.test', 'member-password-123');
  });

  afterAll(async () => {
    await platform.stop();
    await receiver.stop();
  });

  it('links every span to a parent in the same trace, through the outbox relay and both event consumers', async () => {
    const client = new TracedApiClient(platform.api.baseUrl);
    const sample = sampleDatasets()[0]!;
    // Every call through the traced client (the presigned PUTs go to S3, which is not traced).
    const start = await client.request<StartBody>('POST', '/api/v1/upload/start', {
      token: member,
      body: {
        datasetName: sample.name,
        profile: sample.profile,
        ...(sample.options ? { options: sample.options } : {}),
        files: sample.files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length })),
      },
    });
    expect(start.status).toBe(201);
    const parts = await putFiles(start.body, sample.files);
    const complete = await client.request('POST', '/api/v1/upload/complete', { token: member, body: { datasetId: start.body.datasetId, ...(parts.length ? { files: parts } : {}) } });
    expect(complete.status).toBe(202);
    const verdict = await waitFor(
      async () => {
        const res = await client.request<ValidationStatusBody>('GET', `/api/v1/validation/${start.body.datasetId}/status`, { token: member });
        return ['passed', 'failed', 'error'].includes(res.body.status) ? res.body : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the verdict' },
    );
    expect(verdict.status).toBe(sample.expectedStatus);

    // Each service exports on its own schedule: wait until the spans checked below have all
    // arrived and every parent with them (a parent still in flight would look like an orphan).
    const expected = [
      ['upload', SERVER, 'rpc serve upload.complete'],
      ['upload', PRODUCER, 'publish dataset.uploaded'],
      ['validator', CONSUMER, 'process dataset.uploaded'],
      ['validator', PRODUCER, 'publish validation.completed'],
      ['upload', CONSUMER, 'process validation.completed'],
    ] as const;
    const missing = (): string[] => {
      const got = receiver.trace(client.traceId);
      const ids = new Set(got.map((s) => s.spanId));
      const absent = expected.filter(([service, kind, name]) => !got.some((s) => s.service === service && s.kind === kind && s.name === name)).map(([service, , name]) => `${service}: ${name}`);
      const orphans = got.filter((s) => s.parentSpanId !== client.clientSpanId && !ids.has(s.parentSpanId)).map((s) => `the parent of ${s.service}: ${s.name}`);
      return [...absent, ...orphans];
    };
    await waitFor(async () => missing().length === 0, { timeoutMs: 30_000, intervalMs: 250, what: 'the whole trace' }).catch((error: Error) => {
      throw new Error(`${error.message}; still missing: ${missing().join(', ')}; the trace has ${receiver.trace(client.traceId).length} spans`);
    });

    const spans = receiver.trace(client.traceId);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const describe = (s: ReceivedSpan): string => `${s.service}: ${s.name}`;
    // Each span's parent is in the trace, or is the client's own span (the root, not exported).
    const orphans = spans.filter((s) => s.parentSpanId !== client.clientSpanId && !byId.has(s.parentSpanId)).map(describe);
    expect(orphans).toEqual([]);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'upload', 'validator']));

    const parentOf = (s: ReceivedSpan): ReceivedSpan | undefined => byId.get(s.parentSpanId);
    const one = (service: string, kind: number, name: string): ReceivedSpan => {
      const found = spans.filter((s) => s.service === service && s.kind === kind && s.name === name);
      expect({ service, name, found: found.length }).toEqual({ service, name, found: 1 });
      return found[0]!;
    };
    // The outbox relay publishes dataset.uploaded later, in its own loop, yet inside the trace
    // of the request that completed the upload: its span descends from upload's RPC handler.
    const relayed = one('upload', PRODUCER, 'publish dataset.uploaded');
    const ancestry = (s: ReceivedSpan | undefined): ReceivedSpan[] => (s ? [s, ...ancestry(parentOf(s))] : []);
    expect(ancestry(relayed).map(describe)).toContain('upload: rpc serve upload.complete');
    // The validator's handling is the relay's publish's descendant, and upload's handling of the verdict the validator's.
    const validating = one('validator', CONSUMER, 'process dataset.uploaded');
    expect(ancestry(validating)).toContain(relayed);
    const verdictPublished = one('validator', PRODUCER, 'publish validation.completed');
    expect(ancestry(verdictPublished)).toContain(validating);
    const back = one('upload', CONSUMER, 'process validation.completed');
    expect(ancestry(back)).toContain(verdictPublished);
    // The gateway's HTTP server spans are the roots below the client's span.
    expect(spans.filter((s) => s.parentSpanId === client.clientSpanId).every((s) => s.service === 'gateway' && s.kind === SERVER)).toBe(true);
  });
});
