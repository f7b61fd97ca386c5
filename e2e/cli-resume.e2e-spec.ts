import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { png } from '@flotilla/samples';
import { EMBEDDED_S3_CREDENTIALS } from '@flotilla/storage';
import { verifyPresignedRequest } from '../libs/storage/test/sigv4-verifier.js';
import { ADMIN, Platform } from './support/platform.js';
import { S3CountingProxy, type RecordedPut } from './support/s3-counting-proxy.js';

const MiB = 1024 * 1024;
const PARTS = 8;

/**
 * The flotilla command against the real gateway and upload service, with a proxy in
 * front of the embedded S3 counting every PUT the store receives (the upload service
 * signs its URLs for the proxy): a killed upload goes on without sending again what the
 * store holds, and one whose URLs expired finishes by asking for new ones.
 */
describe('flotilla: uploads that resume', () => {
  const proxy = new S3CountingProxy();
  const platform = new Platform({}, ['gateway', 'upload', 'validator'], {
    envOf: (name): Record<string, string> =>
      name === 'upload'
        ? {
            S3_PUBLIC_ENDPOINT: proxy.endpoint,
            UPLOAD_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
            UPLOAD_PART_SIZE_BYTES: String(5 * MiB),
            UPLOAD_URL_TTL_SECONDS: '60',
          }
        : {},
  });
  const big = randomBytes(PARTS * 5 * MiB);
  const small = png({ width: 16, height: 16 });
  let token: string;
  let work: string;

  beforeAll(async () => {
    await proxy.start();
    await platform.start();
    proxy.target = platform.s3!.endpoint;
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'cli-resume' } });
    const user = await platform.api.request('POST', '/api/v1/admin/users', {
      token: admin,
      body: { email: 'c@cli-resume.test', password: 'member-password-123', teamId: team.body.id, role: 'member' },
    });
    expect(user.status).toBe(201);
    token = await platform.api.login('c@cli-resume.test', 'member-password-123');
    work = mkdtempSync(join(tmpdir(), 'flotilla-cli-resume-'));
  }, 120_000);

  afterAll(async () => {
    await platform.stop();
    await proxy.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** A folder of one 8-part file and one single-PUT file. */
  function folder(name: string): string {
    const dir = join(work, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'big.png'), big);
    writeFileSync(join(dir, 'small.png'), small);
    return dir;
  }

  /** Runs `flotilla` as a user would; `onStart` gets the process (to kill it). */
  function flotilla(args: string[], stateHome: string, onStart?: (child: ChildProcess) => void): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['tools/cli/dist/main.js', ...args, '--api', platform.api.baseUrl], {
        env: { PATH: process.env.PATH ?? '', FLOTILLA_EMAIL: 'c@cli-resume.test', FLOTILLA_PASSWORD: 'member-password-123', XDG_STATE_HOME: stateHome },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
      onStart?.(child);
    });
  }

  const partOf = (put: RecordedPut): number => Number(new URL(put.url).searchParams.get('partNumber') ?? 0);
  const isBig = (put: RecordedPut): boolean => new URL(put.url).pathname.endsWith('/big.png');
  const datasetOf = (put: RecordedPut): string => new URL(put.url).pathname.split('/')[3]!;

  it.each([
    ['by its state file', false],
    ['with --resume <id>', true],
  ])('an upload killed at half its parts goes on %s, sending at most one part twice', async (_label, explicit) => {
    const dir = folder(`killed-${String(explicit)}`);
    const stateHome = mkdtempSync(join(work, 'state-'));
    const before = proxy.puts.length;
    let child: ChildProcess | undefined;
    // Killed as the store answers the 4th part, before the command hears it.
    proxy.hooks = {
      afterPut: async () => {
        const done = proxy.puts.slice(before).filter((p) => isBig(p) && p.status === 200).length;
        if (done === PARTS / 2 && child && child.exitCode === null) {
          const gone = new Promise((resolve) => child!.once('exit', resolve));
          child.kill('SIGKILL');
          await gone;
        }
      },
    };
    const killed = await flotilla(['upload', dir, '--profile', 'xray', '--no-wait', '--concurrency', '1'], stateHome, (c) => (child = c));
    proxy.hooks = {};
    expect(killed.signal).toBe('SIGKILL');
    const first = proxy.puts.slice(before);
    const datasetId = datasetOf(first[0]!);
    const saved = readdirSync(join(stateHome, 'flotilla', 'uploads'));
    expect(saved).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(stateHome, 'flotilla', 'uploads', saved[0]!), 'utf8'))).toMatchObject({ datasetId });

    const again = await flotilla(
      ['upload', dir, '--profile', 'xray', '--no-wait', ...(explicit ? ['--resume', datasetId] : [])],
      explicit ? mkdtempSync(join(work, 'state-')) : stateHome,
    );
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`Resuming the upload of dataset ${datasetId}`);

    const puts = proxy.puts.slice(before);
    expect(puts.every((p) => datasetOf(p) === datasetId)).toBe(true);
    const perPart = new Map<number, number>();
    for (const p of puts.filter(isBig)) perPart.set(partOf(p), (perPart.get(partOf(p)) ?? 0) + 1);
    expect([...perPart.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: PARTS }, (_, i) => i + 1));
    const sentTwice = [...perPart.values()].reduce((sum, n) => sum + (n - 1), 0);
    expect(sentTwice).toBeLessThanOrEqual(1);
    expect(puts.filter((p) => !isBig(p))).toHaveLength(1);
    expect(existsSync(join(stateHome, 'flotilla', 'uploads', saved[0]!))).toBe(explicit);

    const detail = await platform.api.request<{ status: string; files: { id: string; filename: string }[] }>('GET', `/api/v1/datasets/${datasetId}`, { token });
    expect(detail.body.status).not.toBe('pending');
    const fileId = detail.body.files.find((f) => f.filename === 'big.png')!.id;
    const link = await platform.api.request<{ url: string }>('GET', `/api/v1/datasets/${datasetId}/files/${fileId}/download`, { token });
    expect(Buffer.from(await (await fetch(link.body.url)).arrayBuffer()).equals(big)).toBe(true);

    // wait and status see the verdict; random bytes are no PNG: failed, exit 1 (an error would be 4).
    const waited = await flotilla(['wait', datasetId, '--timeout', '120', '--json'], stateHome);
    const verdict = JSON.parse(waited.stdout) as { status: string };
    expect({ code: waited.code, status: verdict.status }).toEqual({ code: verdict.status === 'error' ? 4 : 1, status: expect.stringMatching(/^(failed|error)$/) });
    const status = await flotilla(['status', datasetId, '--json'], stateHome);
    expect({ code: status.code, status: (JSON.parse(status.stdout) as { status: string }).status }).toEqual({ code: 0, status: verdict.status });
  }, 240_000);

  it('an upload whose URLs expired finishes by asking for new ones, signed for the same key, method and length', async () => {
    const dir = folder('expired');
    const stateHome = mkdtempSync(join(work, 'state-'));
    const before = proxy.puts.length;
    let held: RecordedPut | undefined;
    // The first part's PUT is held until its URL expired; the other parts go through meanwhile.
    proxy.hooks = {
      beforePut: async (put) => {
        if (held || !isBig(put) || partOf(put) !== 1) return;
        held = put;
        const url = new URL(put.url).searchParams;
        const date = url.get('X-Amz-Date')!;
        const signedAt = Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
        const expiresAt = signedAt + Number(url.get('X-Amz-Expires')) * 1000;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1500));
      },
    };
    const run = await flotilla(['upload', dir, '--profile', 'xray', '--no-wait'], stateHome);
    proxy.hooks = {};
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Upload URLs expired; signed again for what is missing');
    expect(held!.status).toBe(403);

    const puts = proxy.puts.slice(before);
    const resigned = puts.slice(puts.indexOf(held!) + 1).filter((p) => isBig(p) && partOf(p) === 1);
    // Only the part the store did not hold was signed again and sent.
    expect(resigned).toHaveLength(1);
    expect(puts.filter((p) => isBig(p) && partOf(p) !== 1)).toHaveLength(PARTS - 1);
    const secret = EMBEDDED_S3_CREDENTIALS.secretAccessKey;
    const again = resigned[0]!;
    expect(again.status).toBe(200);
    expect(new URL(again.url).pathname).toBe(new URL(held!.url).pathname);
    const sent = { method: 'PUT', url: again.url, headers: again.headers };
    expect(again.headers['content-length']).toBe(String(5 * MiB));
    expect(verifyPresignedRequest(sent, secret)).toEqual({ valid: true });
    expect(verifyPresignedRequest({ ...sent, method: 'POST' }, secret).valid).toBe(false);
    expect(verifyPresignedRequest({ ...sent, headers: { ...again.headers, 'content-length': String(5 * MiB - 1) } }, secret).valid).toBe(false);
    expect(verifyPresignedRequest({ ...sent, url: again.url.replace('/big.png', '/small.png') }, secret).valid).toBe(false);
    expect(verifyPresignedRequest({ method: 'PUT', url: held!.url, headers: held!.headers }, secret)).toEqual({ valid: false, reason: 'expired' });

    const datasetId = datasetOf(again);
    const detail = await platform.api.request<{ status: string }>('GET', `/api/v1/datasets/${datasetId}`, { token });
    expect(detail.body.status).not.toBe('pending');
  }, 240_000);
});
