import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { png } from '@flotilla/samples';
import { EMBEDDED_S3_CREDENTIALS } from '@flotilla/storage';
import { waitFor } from '@flotilla/testing';
import { ADMIN } from '../support/platform.js';
import { uploadAndValidate } from '../support/datasets.js';
import { send, type RawRequest, type RawResponse } from '../fuzz/support/http.js';
import { MEMBER_PASSWORD, teamWithMember } from './support/fixtures.js';
import { ProductionCredentials } from './support/production-credentials.js';
import { RecordingPlatform } from './support/recording-platform.js';

const JWT_SECRET = 'jwt-secret-marker-Qm9vWv3k8H2pT7xZ-0123456789';
const STORE_SECRETS_KEY = 'store-secrets-key-marker-Lr4sX9wE2nB6yU1c';
const NEW_USER_PASSWORD = 'new-user-password-marker-Zk7Q';
const WRONG_PASSWORD = 'wrong-password-marker-Hp3V';

/**
 * Every secret the platform handles, exercised along every path that logs (at trace
 * level), counts, records requests and audits, or answers errors; then every service's
 * whole output, its metrics, the request log, the audit log, the dead letters and every
 * error body are searched for each of them.
 */
describe('no secrets in logs, metrics, the request log or error answers', () => {
  // The servers reached with a database role and broker user of their own, whose passwords are searched for too.
  let platform: RecordingPlatform;
  let credentials: ProductionCredentials;
  /** name → value */
  const secrets = new Map<string, string>();
  const errorBodies: string[] = [];
  let adminToken: string;
  let memberEmail: string;
  let requests = 0;

  const call = async (request: RawRequest): Promise<RawResponse> => {
    const res = await send(platform.gateway.url, request);
    requests++;
    if (res.status >= 400) errorBodies.push(`${request.method} ${request.url.split('?')[0]} ${res.status}: ${res.text}`);
    return res;
  };
  const json = (method: string, url: string, body: unknown, token?: string, headers?: Record<string, string>) =>
    call({ method, url, token, body: JSON.stringify(body), contentType: 'application/json', headers });

  const addToken = (name: string, token: string): void => {
    secrets.set(name, token);
    secrets.set(`${name} (signature)`, token.split('.')[2] ?? token);
  };
  const addRefresh = (name: string, token: string): void => {
    secrets.set(name, token);
    secrets.set(`${name} (secret half)`, token.split('.')[1] ?? token);
  };

  /** Every path that handles a secret, once. */
  const exercise = async (): Promise<void> => {
    for (const [name, value] of [
      ['ADMIN_PASSWORD', ADMIN.password],
      ['a member password', MEMBER_PASSWORD],
      ["a new user's password", NEW_USER_PASSWORD],
      ['a wrong password tried', WRONG_PASSWORD],
      ['JWT_SECRET', JWT_SECRET],
      ['STORE_SECRETS_KEY', STORE_SECRETS_KEY],
    ]) secrets.set(name!, value!);

    // Identity: logins right and wrong, refresh, reuse, logout, users made and refused.
    const adminLogin = await json('POST', '/api/v1/auth/login', ADMIN);
    const adminPair = adminLogin.json as { accessToken: string; refreshToken: string };
    adminToken = adminPair.accessToken;
    addToken('the admin access token', adminToken);
    addRefresh('the admin refresh token', adminPair.refreshToken);
    const member = await teamWithMember(platform.api, adminToken, 'secretive');
    memberEmail = member.email;
    addToken('a member access token', member.token);
    addRefresh('a member refresh token', member.refreshToken);
    await json('POST', '/api/v1/auth/login', { email: member.email, password: WRONG_PASSWORD });
    await json('POST', '/api/v1/auth/login', { email: 'nobody@security.test', password: WRONG_PASSWORD });
    await json('POST', '/api/v1/auth/login', { email: member.email, password: WRONG_PASSWORD, extra: WRONG_PASSWORD });
    await json('POST', '/api/v1/auth/login', { email: WRONG_PASSWORD, password: 42 });
    await json('POST', '/api/v1/admin/users', { email: 'fresh@security.test', password: NEW_USER_PASSWORD, teamId: member.teamId, role: 'member' }, adminToken);
    await json('POST', '/api/v1/admin/users', { email: 'fresh@security.test', password: NEW_USER_PASSWORD, teamId: member.teamId, role: 'member' }, adminToken); // 409
    await json('POST', '/api/v1/admin/users', { email: 'short@security.test', password: 'short-pw', teamId: member.teamId, role: 'member' }, adminToken); // 400
    await json('POST', '/api/v1/admin/users', { email: 'other@security.test', password: NEW_USER_PASSWORD, teamId: member.teamId, role: 'root' }, adminToken); // 400
    const rotated = await json('POST', '/api/v1/auth/refresh', { refreshToken: member.refreshToken });
    addRefresh('a rotated refresh token', (rotated.json as { refreshToken: string }).refreshToken);
    addToken('a refreshed access token', (rotated.json as { accessToken: string }).accessToken);
    await json('POST', '/api/v1/auth/refresh', { refreshToken: member.refreshToken }); // reuse: the family goes
    const again = await json('POST', '/api/v1/auth/login', ADMIN);
    addRefresh('a logged-out refresh token', (again.json as { refreshToken: string }).refreshToken);
    await json('POST', '/api/v1/auth/logout', { refreshToken: (again.json as { refreshToken: string }).refreshToken });
    // Logout and refresh reuse end the user's access tokens: the admin logs in again, and
    // the data steps below run as a member of their own.
    const relogin = await json('POST', '/api/v1/auth/login', ADMIN);
    adminToken = (relogin.json as { accessToken: string }).accessToken;
    addToken('a later admin access token', adminToken);
    // Tokens where they do not belong: a 404, a 403, a bad scheme, a token in the console's query string.
    await call({ method: 'GET', url: '/api/v1/nowhere', token: member.token });
    await call({ method: 'GET', url: '/api/v1/admin/stats', token: member.token });
    await call({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Basic ${member.token}` } });
    await call({ method: 'GET', url: `/api/v1/admin/events?access_token=${adminToken}` });
    await call({ method: 'GET', url: `/api/v1/admin/events?access_token=${member.token}` });

    // Datasets (presigned URLs are bearer credentials too), a store (its secrets are sealed with STORE_SECRETS_KEY), votes.
    const dataMember = await teamWithMember(platform.api, adminToken, 'secretive-data');
    const memberToken = dataMember.token;
    addToken('a second member access token', memberToken);
    addRefresh('a second member refresh token', dataMember.refreshToken);
    const { datasetId, verdict } = await uploadAndValidate(platform.api, memberToken, 'secret-data', 'xray', [{ filename: 'x.png', contentType: 'image/png', content: png({ width: 64, height: 64 }) }]);
    if (verdict.reportUrl) secrets.set('a report URL signature', new URL(verdict.reportUrl).searchParams.get('X-Amz-Signature')!);
    const detail = await call({ method: 'GET', url: `/api/v1/datasets/${datasetId}`, token: memberToken });
    const fileId = (detail.json as { files: { id: string }[] }).files[0]!.id;
    const link = await call({ method: 'GET', url: `/api/v1/datasets/${datasetId}/files/${fileId}/download`, token: memberToken });
    secrets.set('a download URL signature', new URL((link.json as { url: string }).url).searchParams.get('X-Amz-Signature')!);
    const start = await json('POST', '/api/v1/upload/start', { datasetName: 'signed', profile: 'xray', files: [{ filename: 'y.png', contentType: 'image/png', sizeBytes: 100 }] }, memberToken);
    secrets.set('an upload URL signature', new URL((start.json as { files: { uploadUrl: string }[] }).files[0]!.uploadUrl).searchParams.get('X-Amz-Signature')!);
    await json('POST', '/api/v1/upload/complete', { datasetId: (start.json as { datasetId: string }).datasetId }, memberToken); // 422: nothing uploaded
    const store = await json('POST', '/api/v1/stores', { name: 'sealed-shop', template: 'wordpress' }, memberToken);
    const storeId = (store.json as { id: string }).id;
    await waitFor(async () => ((await call({ method: 'GET', url: `/api/v1/stores/${storeId}`, token: memberToken })).json as { status: string }).status === 'ready', { what: 'the store', timeoutMs: 30_000 });
    await call({ method: 'GET', url: `/api/v1/stores/${storeId}/events`, token: memberToken });
    await json('POST', '/api/v1/polls/cats-vs-dogs/votes', { option: 'cats' }, memberToken);
    await json('POST', '/api/v1/polls/cats-vs-dogs/votes', { option: 'hamsters' }, memberToken);
    // Let the request log and the audit catch up.
    await new Promise((r) => setTimeout(r, 1500));
  };

  beforeAll(async () => {
    credentials = await ProductionCredentials.create();
    platform = new RecordingPlatform(
      { JWT_SECRET, STORE_SECRETS_KEY, LOG_LEVEL: 'trace', RATE_LIMIT_PER_IP: '100000', SIMULATED_POD_START_MS: '50', SIMULATED_POD_READY_MS: '50', DEAD_LETTER_POLL_MS: '500', DATABASE_URL: credentials.DATABASE_URL, AMQP_URL: credentials.AMQP_URL },
      ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
    );
    for (const [name, url] of [['the DATABASE_URL password', credentials.DATABASE_URL], ['the AMQP_URL password', credentials.AMQP_URL]] as const) {
      const password = decodeURIComponent(new URL(url).password);
      if (password) secrets.set(name, password);
    }
    await platform.start();
    try {
      await exercise();
    } catch (error) {
      // What the services were doing when a step failed (they log at trace level here).
      const tails = platform.recordedServices.map((svc) => `--- ${svc.name} (last 4000 characters) ---\n${svc.allOutput().slice(-4000)}`);
      throw new Error(`${(error as Error).message}\n${tails.join('\n')}`);
    }
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
    await credentials?.drop();
  });

  it('finds none of them anywhere', async () => {
    const sources: [string, string][] = [];
    for (const svc of platform.recordedServices) {
      sources.push([`${svc.name} output`, svc.allOutput()]);
      sources.push([`${svc.name} /metrics`, await (await fetch(`${svc.url}/metrics`)).text()]);
    }
    for (const path of ['/admin/requests?limit=500', '/admin/audit?limit=500', '/admin/dead-letters', '/admin/services', '/admin/stats']) {
      const res = await call({ method: 'GET', url: `/api/v1${path}`, token: adminToken });
      expect(res.status).toBe(200);
      sources.push([`GET ${path.split('?')[0]}`, res.text]);
    }
    sources.push(['error answers', errorBodies.join('\n')]);

    const found: string[] = [];
    for (const [source, text] of sources) {
      for (const [name, value] of secrets) if (value && text.includes(value)) found.push(`${name} in ${source}: …${excerpt(text, value)}…`);
      // The embedded S3's key id and secret are the same word: the id may appear in a credential scope, the secret nowhere.
      for (const m of text.matchAll(new RegExp(EMBEDDED_S3_CREDENTIALS.secretAccessKey, 'g'))) {
        const after = text.slice(m.index + m[0].length, m.index + m[0].length + 3);
        if (!after.startsWith('/') && !after.startsWith('%2F')) found.push(`the S3 secret in ${source}: …${text.slice(Math.max(0, m.index - 60), m.index + 20)}…`);
      }
    }
    const volume = sources.reduce((n, [, t]) => n + t.length, 0);
    console.log(
      `secrets: ${secrets.size} secret values (passwords, the database and broker passwords, access and refresh tokens and their signing halves, JWT_SECRET, STORE_SECRETS_KEY, the S3 secret, presigned URL signatures) ` +
        `after ${requests} requests; searched ${sources.length} sources (${(volume / 1024).toFixed(0)} KiB: every service's output at trace level and metrics, ` +
        `the request log, audit, dead letters, services, stats, ${errorBodies.length} error answers); found ${found.length}` +
        (found.length ? `\n  ${found.join('\n  ')}` : ''),
    );
    // The search sees real records: the failed login is audited and the requests logged.
    expect(sources.find(([s]) => s === 'GET /admin/audit')![1]).toContain(memberEmail);
    expect(sources.find(([s]) => s === 'GET /admin/requests')![1]).toContain('/api/v1/admin/events');
    expect(errorBodies.length).toBeGreaterThan(10);
    expect(found).toEqual([]);
  });
});

function excerpt(text: string, value: string): string {
  const at = text.indexOf(value);
  return text.slice(Math.max(0, at - 80), at + Math.min(value.length, 20) + 40).replace(/\s+/g, ' ');
}
