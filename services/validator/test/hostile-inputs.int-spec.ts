import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Message } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DatasetProfile } from '@flotilla/contracts';
import { nifti, png } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { DEFAULT_PROFILE_OPTIONS } from '../src/profiles/index.js';
import { teamsJsonProfile } from '../src/profiles/teams-json.profile.js';
import { ValidatorUnderTest, type LocalFile as File } from './support/validator-process.js';

const MiB = 1024 * 1024;
/** The validator's defaults (validator.env.ts), which these tests do not change. */
const MAX_ISSUES = 1000;
const MAX_ISSUES_PER_CODE = 100;

/** A process's resident memory now and at its peak, in bytes (Linux). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** `{"national": [{}, {}, …], "club": [], "custom": []}` of about `bytes` bytes. */
function emptyTeams(bytes: number): { content: Buffer; teams: number } {
  const teams = Math.floor((bytes - 40) / 3);
  return { content: Buffer.from(`{"national":[${Array.from({ length: teams }, () => '{}').join(',')}],"club":[],"custom":[]}`), teams };
}

/**
 * RELIABILITY.md's hostile validation inputs against the validator as a process (real
 * RabbitMQ, Postgres and S3): each ends `failed` with a bounded, summarised list of
 * issues and exact counts, within the memory budget, while other teams' datasets are
 * validated; and a dataset that kills the validator each time is dead-lettered after
 * its attempts instead of being taken up again forever.
 */
describe('validator against hostile datasets', () => {
  const v = new ValidatorUnderTest({
    VALIDATION_MAX_ATTEMPTS: '3',
    VALIDATION_RETRY_DELAY_MS: '500',
    VALIDATION_LEASE_MS: '3000',
    // As the image and `npm start` run the validator (scripts/lib/node-options.mjs).
    NODE_OPTIONS: '--max-semi-space-size=2 --max-old-space-size=512',
  });
  const completed = v.completed;
  const uploaded = (profile: DatasetProfile, files: File[], teamId = randomUUID()) => v.uploaded(files, { profile, teamId });

  const schema = (): string => v.schema;
  const job = async (jobId: string) =>
    (
      await v.db.query<{ status: string; attempts: number; errors: number; warnings: number; last_error: string | null; issues: number }>(
        `SELECT status, attempts, errors, warnings, last_error, (SELECT count(*)::int FROM "${schema()}".issues i WHERE i.job_id = j.id) AS issues
         FROM "${schema()}".jobs j WHERE id = $1`,
        [jobId],
      )
    ).rows[0];
  const verdict = (jobId: string) => waitFor(async () => completed.find((e) => e.data.jobId === jobId)?.data, { what: `the verdict of job ${jobId}`, timeoutMs: 90_000 });
  const codes = async (jobId: string): Promise<Map<string, number>> => {
    const { rows } = await v.db.query<{ code: string; n: number }>(`SELECT code, count(*)::int AS n FROM "${schema()}".issues WHERE job_id = $1 GROUP BY code`, [jobId]);
    return new Map(rows.map((r) => [r.code, r.n]));
  };
  const image = (seed: number): File => ({ filename: `scan-${seed}.png`, contentType: 'image/png', content: png({ width: 64 + seed, height: 64 + seed }) });
  const manifestOf = (...files: File[]): File => ({
    filename: 'manifest.csv',
    contentType: 'text/csv',
    content: Buffer.from(`filename,label\n${files.map((f) => `${f.filename},normal`).join('\n')}\n`),
  });

  /** A bounded, summarised list: at most the caps, one summary per capped code. */
  async function expectCapped(jobId: string): Promise<void> {
    const row = (await job(jobId))!;
    expect(row.status).toBe('failed');
    expect(row.issues).toBeGreaterThan(0);
    expect(row.issues).toBeLessThanOrEqual(MAX_ISSUES);
    for (const [, n] of await codes(jobId)) expect(n).toBeLessThanOrEqual(MAX_ISSUES_PER_CODE + 1);
  }

  beforeAll(() => v.start(), 120_000);
  afterAll(() => v.stop());

  it('fails a 16 MiB teams document of empty teams with capped issues and exact counts, under 128 MiB of growth, while another team is served', async () => {
    // Warm up first, so what is measured is the document, not the first job's code paths.
    const warm = [image(1)];
    expect((await verdict((await uploaded('xray', [...warm, manifestOf(...warm)])).data.jobId)).status).toBe('passed');
    const pid = v.process.pid!;
    const before = memoryOf(pid);
    const { content, teams } = emptyTeams(16 * MiB - 1024);
    // What one empty team costs, as the profile counts it uncapped.
    const perTeam = teamsJsonProfile.validate([factOf(emptyTeams(43).content)], DEFAULT_PROFILE_OPTIONS);
    const hostile = await uploaded('teams-json', [{ filename: 'teams.json', contentType: 'application/json', content }]);
    const others = [image(2), image(3)];
    const other = await uploaded('xray', [...others, manifestOf(...others)]);
    expect((await verdict(other.data.jobId)).status).toBe('passed');
    const result = await verdict(hostile.data.jobId);
    // The other team's dataset did not wait for the hostile one.
    expect(completed.findIndex((e) => e.data.jobId === other.data.jobId)).toBeLessThan(completed.findIndex((e) => e.data.jobId === hostile.data.jobId));
    expect(result.status).toBe('failed');
    expect(result.summary.errors).toBe(teams * perTeam.filter((i) => i.severity === 'error').length);
    expect(result.summary.warnings).toBe(teams * perTeam.filter((i) => i.severity === 'warning').length);
    await expectCapped(hostile.data.jobId);
    expect((await job(hostile.data.jobId))!.errors).toBe(result.summary.errors);
    const after = memoryOf(pid);
    expect(after.peak - before.rss).toBeLessThan(128 * MiB);
  }, 180_000);

  it('fails a manifest of a million rows with capped issues', async () => {
    const rows = Array.from({ length: 1_000_000 }, (_, i) => `m${i}.png,x`).join('\n');
    const manifest = { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label\n${rows}\n`) };
    const event = await uploaded('xray', [manifest, image(4)]);
    const result = await verdict(event.data.jobId);
    expect(result.status).toBe('failed');
    // Every row names a missing file with a label that is not allowed: counted, not listed.
    expect(result.summary.errors).toBeGreaterThanOrEqual(2_000_000);
    await expectCapped(event.data.jobId);
  }, 180_000);

  it('fails a thousand files named like manifests before holding them all', async () => {
    // Names differ by case only, so each is a manifest and all are distinct: 100 KiB each, 98 MiB in all.
    const variant = (i: number): string => {
      let bit = 1;
      return [...(i % 2 ? 'manifest.json' : 'manifest.csv')].map((c) => (/[a-z]/.test(c) && (i >> bit++) & 1 ? c.toUpperCase() : c)).join('');
    };
    const files = Array.from({ length: 1000 }, (_, i): File => ({ filename: variant(i), contentType: 'text/csv', content: Buffer.alloc(100 * 1024, 'a') }));
    expect(new Set(files.map((f) => f.filename)).size).toBe(1000);
    const event = await uploaded('xray', files);
    const result = await verdict(event.data.jobId);
    expect(result.status).toBe('failed');
    expect(await codes(event.data.jobId)).toEqual(new Map([['job_too_large', 1]]));
    await expectCapped(event.data.jobId);
  }, 180_000);

  it('fails deeply nested JSON documents with capped issues', async () => {
    const depth = 1_000_000;
    const nested = Buffer.from(`{"national":[${'['.repeat(depth)}${']'.repeat(depth)}],"club":${'['.repeat(depth)}${']'.repeat(depth)},"custom":[]}`);
    const teamsEvent = await uploaded('teams-json', [{ filename: 'teams.json', contentType: 'application/json', content: nested }]);
    const manifestEvent = await uploaded('xray', [{ filename: 'manifest.json', contentType: 'application/json', content: Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`) }, image(5)]);
    for (const event of [teamsEvent, manifestEvent]) {
      expect((await verdict(event.data.jobId)).status).toBe('failed');
      await expectCapped(event.data.jobId);
    }
  }, 180_000);

  it('dead-letters a dataset that kills the validator on every attempt, and goes on with the others', async () => {
    // Enough data (20 volumes of 5 MiB) that the job is still running when the process is killed.
    const volumes = Array.from({ length: 20 }, (_, i): File => ({ filename: `volume-${i}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 80, seed: i }) }));
    const poison = await uploaded('xray', [...volumes, manifestOf(...volumes)]);
    // Each attempt is counted as it starts; killed during each of its three attempts, the
    // job must not be taken up a fourth time.
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(async () => {
        const row = await job(poison.data.jobId);
        return row?.status === 'running' && row.attempts === attempt ? true : undefined;
      }, { what: `attempt ${attempt} to start`, intervalMs: 5, timeoutMs: 60_000 });
      await v.restart();
    }
    const result = await verdict(poison.data.jobId);
    expect(result.status).toBe('error');
    const row = (await job(poison.data.jobId))!;
    expect(row).toMatchObject({ status: 'error', attempts: 3 });
    expect(row.last_error).toMatch(/attempt\(s\) used up/);
    const dead = await waitFor(async () => {
      const m: Message | false = await v.channel.get(v.names.deadLetterQueue, { noAck: false });
      return m || undefined;
    }, { what: 'the dead letter', timeoutMs: 30_000 });
    expect(JSON.parse(dead.content.toString()).id).toBe(poison.id);
    expect(String(dead.properties.headers?.['x-error'])).toMatch(/used up/);
    v.channel.ack(dead);
    const next = [image(6)];
    expect((await verdict((await uploaded('xray', [...next, manifestOf(...next)])).data.jobId)).status).toBe('passed');
  }, 300_000);
});

/** What the validator reads of a teams document, for the profile's own count. */
function factOf(body: Buffer) {
  return { fileId: randomUUID(), filename: 'teams.json', contentType: 'application/json', declaredSize: body.length, size: body.length, sha256: '', md5: '', head: Buffer.alloc(0), body };
}
