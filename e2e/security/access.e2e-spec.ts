import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { EMBEDDED_S3_CREDENTIALS } from '@flotilla/storage';
import { ADMIN, Platform } from '../support/platform.js';
import { exampleBody, fetchOpenApi, fillPath, operationsOf, type OpenApiDocument, type Operation } from '../fuzz/support/openapi.js';
import { brief, send } from '../fuzz/support/http.js';
import { teamResources, teamWithMember, type Member, type TeamResources } from './support/fixtures.js';
import { claimsOf, forge, hostileTokens } from './support/jwt.js';
import { signatureAccepts } from './support/sigv4.js';

const problemType = 'application/problem+json';
const UPLOAD_URL_TTL_SECONDS = 900;
const MiB = 1024 * 1024;

type Kind = 'dataset' | 'file' | 'store' | 'job';

/** What a path parameter names, from the segment before it; `global` for resources every team shares. */
const KIND_BY_SEGMENT: Record<string, Kind | 'global'> = {
  datasets: 'dataset',
  validation: 'dataset',
  files: 'file',
  stores: 'store',
  jobs: 'job',
  validations: 'job',
  polls: 'global',
};
const GHOST = 'a user that does not exist (sub unknown, correctly signed)';
/** What an id property of a body names. */
const KIND_BY_FIELD: Record<string, Kind> = { datasetId: 'dataset', fileId: 'file', storeId: 'store', jobId: 'job', validationJobId: 'job' };

function paramKinds(op: Operation): Record<string, Kind | 'global' | undefined> {
  const segments = op.path.split('/');
  return Object.fromEntries(
    op.pathParams.map((p) => {
      const at = segments.indexOf(`{${p.name}}`);
      return [p.name, KIND_BY_SEGMENT[segments[at - 1] ?? '']];
    }),
  );
}

describe('security: tokens, tenancy, admin routes, presigned URLs', () => {
  const platform = new Platform(
    {
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_USER: '1000000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      UPLOAD_URL_TTL_SECONDS: String(UPLOAD_URL_TTL_SECONDS),
      UPLOAD_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
      UPLOAD_PART_SIZE_BYTES: String(5 * MiB),
      SIMULATED_POD_START_MS: '50',
      SIMULATED_POD_READY_MS: '50',
    },
    ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
  );
  let doc: OpenApiDocument;
  let operations: Operation[];
  let adminToken: string;
  let alpha: Member;
  let beta: Member;
  let alphaOwns: TeamResources;
  let betaOwns: TeamResources;

  beforeAll(async () => {
    await platform.start();
    adminToken = await platform.api.login(ADMIN.email, ADMIN.password);
    alpha = await teamWithMember(platform.api, adminToken, 'alpha');
    beta = await teamWithMember(platform.api, adminToken, 'beta');
    [alphaOwns, betaOwns] = await Promise.all([
      teamResources(platform.api, alpha, { store: true, name: 'alpha' }),
      teamResources(platform.api, beta, { store: true, name: 'beta' }),
    ]);
    doc = await fetchOpenApi(platform.gateway.url);
    operations = operationsOf(doc);
  }, 180_000);

  afterAll(() => platform.stop());

  const idOf = (owner: TeamResources, kind: Kind): string => ({ dataset: owner.datasetId, file: owner.fileId, store: owner.storeId!, job: owner.jobId })[kind];

  describe('JWT', () => {
    it('refuses forged, tampered, expired and mis-addressed tokens with 401 on every authenticated route', async () => {
      const secret = platform.env().JWT_SECRET!;
      const { [GHOST]: _, ...hostile } = hostileTokens(secret, alpha.token);
      // A correctly signed token that never expires (no exp), or says nothing of when it was issued (no iat).
      const { exp: _exp, ...withoutExp } = claimsOf(alpha.token);
      const { iat: _iat, ...withoutIat } = claimsOf(alpha.token);
      const tokens = { ...hostile, 'no exp (never expires)': forge({ alg: 'HS256', typ: 'JWT' }, withoutExp, secret), 'no iat': forge({ alg: 'HS256', typ: 'JWT' }, withoutIat, secret) };
      const routes = operations.filter((op) => op.authenticated);
      const wrong: string[] = [];
      let sent = 0;
      for (const op of routes) {
        const path = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, randomUUID()])));
        const body = op.body ? JSON.stringify(exampleBody(doc, op.body, () => randomUUID())) : undefined;
        for (const [name, token] of Object.entries(tokens)) {
          const res = await send(platform.gateway.url, { method: op.method, url: path, token: token || undefined, headers: token ? {} : { authorization: 'Bearer ' }, body, contentType: body ? 'application/json' : undefined });
          sent++;
          if (res.status !== 401 || !(res.headers.get('content-type') ?? '').includes(problemType)) wrong.push(`${op.label} with ${name}: ${res.status} ${brief(res.text, 120)}`);
        }
      }
      // The console's event stream takes its token from the query: the same attacks there.
      for (const [name, token] of Object.entries(tokens)) {
        const res = await send(platform.gateway.url, { method: 'GET', url: `/api/v1/admin/events?access_token=${encodeURIComponent(token)}` });
        sent++;
        if (res.status !== 401) wrong.push(`GET /api/v1/admin/events?access_token= with ${name}: ${res.status}`);
      }
      console.log(`JWT attacks: ${Object.keys(tokens).length} kinds of token × ${routes.length} authenticated routes (+ the event stream's query token): ${sent} requests, ${wrong.length} not refused with 401`);
      expect(wrong).toEqual([]);
    });

    // The gateway checks that the token's user still exists (found users remembered for 30 s; deleting one also revokes its tokens at once).
    it("refuses a correctly signed token whose user does not exist (the stand-in for a deleted user) with 401 on every authenticated route", async () => {
      const token = hostileTokens(platform.env().JWT_SECRET!, alpha.token)[GHOST]!;
      const routes = operations.filter((op) => op.authenticated);
      const accepted: string[] = [];
      for (const op of routes) {
        const path = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, randomUUID()])));
        const body = op.body ? JSON.stringify(exampleBody(doc, op.body, () => randomUUID())) : undefined;
        const res = await send(platform.gateway.url, { method: op.method, url: path, token, body, contentType: body ? 'application/json' : undefined });
        if (res.status !== 401) accepted.push(`${op.label}: ${res.status}`);
      }
      console.log(`JWT, unknown user: ${routes.length} routes, ${routes.length - accepted.length} refused with 401, ${accepted.length} let the ghost through (${accepted.filter((a) => / 20\d$/.test(a)).length} with a 2xx)`);
      expect(accepted).toEqual([]);
    });

    it("a deleted user's token: refused with 401 within 5 s of DELETE /admin/users/{id}, though the gateway had just found the user", async () => {
      const deleteUser = operations.find((op) => op.method === 'DELETE' && /\/users\/\{[^}]+\}$/.test(op.path));
      expect(deleteUser?.path).toBe('/api/v1/admin/users/{id}');
      const victim = await teamWithMember(platform.api, adminToken, 'doomed');
      // Used first, so the gateway has the token verified and the user found (its caches are what must not let it through).
      expect((await platform.api.request('GET', '/api/v1/datasets', { token: victim.token })).status).toBe(200);
      const removed = await platform.api.request('DELETE', fillPath(deleteUser!.path, { [deleteUser!.pathParams[0]!.name]: victim.userId }), { token: adminToken });
      expect(removed.status).toBe(204);
      const since = Date.now();
      let status = 200;
      while (Date.now() - since < 5000) {
        status = (await platform.api.request('GET', '/api/v1/datasets', { token: victim.token })).status;
        if (status === 401) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      console.log(`JWT, deleted user: GET /datasets answered ${status} ${Date.now() - since} ms after the DELETE`);
      expect(status).toBe(401);
      expect((await platform.api.request('GET', '/api/v1/auth/me', { token: victim.token })).status).toBe(401);
      expect((await platform.api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: victim.refreshToken } })).status).toBe(401);
    });

    it('a refresh token replayed after rotation is refused with 401 and revokes its family', async () => {
      // A user of its own: a replay also ends every access token of its user (alpha's are used below).
      const replayer = await teamWithMember(platform.api, adminToken, 'replayer');
      const login = await platform.api.request<{ refreshToken: string; accessToken: string }>('POST', '/api/v1/auth/login', { body: { email: replayer.email, password: 'member-password-123' } });
      const rotated = await platform.api.request<{ refreshToken: string }>('POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
      expect(rotated.status).toBe(200);
      const replay = await platform.api.request<{ detail: string }>('POST', '/api/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
      expect(replay.status).toBe(401);
      expect(replay.headers.get('content-type')).toContain(problemType);
      const successor = await platform.api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
      expect(successor.status).toBe(401);
      // A tampered secret half, and another user's id with this secret, are refused too.
      const [id, secret] = rotated.body.refreshToken.split('.');
      expect((await platform.api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: `${id}.${secret!.slice(0, -2)}AA` } })).status).toBe(401);
      expect((await platform.api.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: `${randomUUID()}.${secret}` } })).status).toBe(401);
      console.log(`refresh replay: rotation 200, replay ${replay.status}, successor after the replay ${successor.status} ("${replay.body.detail}")`);
    });
  });

  describe('tenancy', () => {
    it("answers 404 on every id-taking route (from the route table) to another team's ids, alone or mixed with its own", async () => {
      const cases: { op: Operation; path: string; body?: unknown; what: string }[] = [];
      const unknownKinds: string[] = [];
      for (const op of operations.filter((o) => !o.adminOnly)) {
        const kinds = paramKinds(op);
        const params = op.pathParams.map((p) => p.name).filter((name) => kinds[name] !== 'global');
        const bodyIdFields = op.body ? Object.keys(op.body.properties ?? {}).filter((k) => /Id$/.test(k)) : [];
        for (const name of params) if (!kinds[name]) unknownKinds.push(`${op.label}: {${name}}`);
        for (const field of bodyIdFields) if (!KIND_BY_FIELD[field]) unknownKinds.push(`${op.label}: body ${field}`);
        if (params.length === 0 && bodyIdFields.length === 0) continue;
        // Every split of the ids between the teams with at least one of alpha's: beta calls.
        const slots = [...params.map((p) => ({ at: 'path' as const, name: p, kind: kinds[p] as Kind })), ...bodyIdFields.map((f) => ({ at: 'body' as const, name: f, kind: KIND_BY_FIELD[f]! }))];
        for (let mask = 1; mask < 1 << slots.length; mask++) {
          const owner = (i: number): TeamResources => (mask & (1 << i) ? alphaOwns : betaOwns);
          const pathValues: Record<string, string> = {};
          const bodyIds: Record<string, string> = {};
          slots.forEach((slot, i) => ((slot.at === 'path' ? pathValues : bodyIds)[slot.name] = idOf(owner(i), slot.kind)));
          // Path parameters that name shared resources get a real one.
          for (const p of op.pathParams) if (kinds[p.name] === 'global') pathValues[p.name] = 'cats-vs-dogs';
          const body = op.body ? exampleBody(doc, op.body, (field) => bodyIds[field]) : undefined;
          const what = slots.map((s, i) => `${s.name}=${mask & (1 << i) ? "alpha's" : "beta's"} ${s.kind}`).join(', ');
          cases.push({ op, path: fillPath(op.path, pathValues), body, what });
        }
      }
      expect(unknownKinds).toEqual([]); // a new kind of id: add it to KIND_BY_SEGMENT / KIND_BY_FIELD
      // Deletions last, so a wrongful one cannot hide what the others would show.
      cases.sort((a, b) => Number(a.op.method === 'DELETE') - Number(b.op.method === 'DELETE'));
      const wrong: string[] = [];
      for (const c of cases) {
        const res = await send(platform.gateway.url, { method: c.op.method, url: c.path, token: beta.token, body: c.body === undefined ? undefined : JSON.stringify(c.body), contentType: c.body === undefined ? undefined : 'application/json' });
        if (res.status !== 404 || !(res.headers.get('content-type') ?? '').includes(problemType)) wrong.push(`${c.op.label} (${c.what}) as beta: ${res.status} ${brief(res.text, 160)}`);
      }
      // Alpha's resources are all still there, unchanged.
      const still = await Promise.all([
        platform.api.request('GET', `/api/v1/datasets/${alphaOwns.datasetId}`, { token: alpha.token }),
        platform.api.request('GET', `/api/v1/stores/${alphaOwns.storeId}`, { token: alpha.token }),
        platform.api.request('GET', `/api/v1/datasets/${alphaOwns.datasetId}/files/${alphaOwns.fileId}/download`, { token: alpha.token }),
      ]);
      const store = still[1].body as { status: string; desired: { version: string } };
      const routes = new Set(cases.map((c) => c.op.label));
      console.log(`tenancy: ${routes.size} id-taking routes, ${cases.length} calls as team beta with team alpha's ids → ${cases.length - wrong.length} answered 404, ${wrong.length} otherwise; alpha's dataset ${still[0].status}, store ${still[1].status} (${store.status}), download ${still[2].status}`);
      expect(wrong).toEqual([]);
      expect(still.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(store.status).not.toBe('deleting');
      // Lists show only the caller's own.
      const lists = await Promise.all(['/api/v1/datasets?limit=200', '/api/v1/stores'].map((p) => platform.api.request<{ items: { id: string }[] }>('GET', p, { token: beta.token })));
      expect(lists.flatMap((l) => l.body.items.map((i) => i.id))).not.toEqual(expect.arrayContaining([alphaOwns.datasetId]));
      expect(lists.flatMap((l) => l.body.items.map((i) => i.id))).not.toEqual(expect.arrayContaining([alphaOwns.storeId]));
    });

    it('answers 403 to a member on every /admin/ route of the route table', async () => {
      const routes = operations.filter((op) => op.adminOnly);
      const wrong: string[] = [];
      for (const op of routes) {
        const path = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, p.name === 'id' && op.path.includes('/stores/') ? alphaOwns.storeId! : randomUUID()])));
        const body = op.body ? JSON.stringify(exampleBody(doc, op.body, () => randomUUID())) : undefined;
        const res = await send(platform.gateway.url, { method: op.method, url: path, token: alpha.token, body, contentType: body ? 'application/json' : undefined });
        if (res.status !== 403 || !(res.headers.get('content-type') ?? '').includes(problemType)) wrong.push(`${op.label}: ${res.status} ${brief(res.text, 120)}`);
      }
      const stream = await send(platform.gateway.url, { method: 'GET', url: `/api/v1/admin/events?access_token=${alpha.token}` });
      if (stream.status !== 403) wrong.push(`GET /api/v1/admin/events?access_token=<member>: ${stream.status}`);
      console.log(`admin routes: ${routes.length} from the route table (+ the event stream by query token), member answered 403 on ${routes.length + 1 - wrong.length}, otherwise on ${wrong.length}`);
      expect(routes.length).toBeGreaterThanOrEqual(10);
      expect(wrong).toEqual([]);
    });
  });

  describe('presigned URLs', () => {
    it('bind one key, the PUT method, the declared length and type, and expire after UPLOAD_URL_TTL_SECONDS', async () => {
      const file = { filename: 'scope.png', contentType: 'image/png', sizeBytes: 4096 };
      const big = { filename: 'volume.nii', contentType: 'application/octet-stream', sizeBytes: 6 * MiB };
      const before = Date.now();
      const start = await platform.api.request<{ datasetId: string; expiresIn: number; files: { fileId: string; filename: string; method?: string; uploadUrl?: string; headers?: Record<string, string>; expiresAt: string; multipart?: { uploadId: string; partSizeBytes: number; parts: { partNumber: number; sizeBytes: number; uploadUrl: string }[] } }[] }>(
        'POST',
        '/api/v1/upload/start',
        { token: alpha.token, body: { datasetName: 'scoped', profile: 'xray', files: [file, big] } },
      );
      expect(start.status).toBe(201);
      expect(start.body.expiresIn).toBe(UPLOAD_URL_TTL_SECONDS);
      const { datasetId } = start.body;
      const single = start.body.files.find((f) => f.filename === file.filename)!;
      const url = new URL(single.uploadUrl!);
      const q = url.searchParams;
      const secret = EMBEDDED_S3_CREDENTIALS.secretAccessKey;
      const figures: string[] = [];

      // One key: datasets/{datasetId}/{fileId}/{filename}, in the service's bucket.
      expect(decodeURIComponent(url.pathname)).toBe(`/flotilla-${platform.namespace}/datasets/${datasetId}/${single.fileId}/${file.filename}`);
      expect(single.method).toBe('PUT');
      expect(single.headers).toEqual({ 'content-type': file.contentType });
      expect(q.get('X-Amz-SignedHeaders')!.split(';').sort()).toEqual(['content-length', 'content-type', 'host']);
      expect(Number(q.get('X-Amz-Expires'))).toBe(UPLOAD_URL_TTL_SECONDS);
      const expiresAt = Date.parse(single.expiresAt);
      expect(Math.abs(expiresAt - (before + UPLOAD_URL_TTL_SECONDS * 1000))).toBeLessThan(60_000);
      expect(q.get('X-Amz-Credential')).toMatch(/^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/);

      // What the signature binds: recomputed here, as S3 would, for the request the client
      // should send and for each way of stepping outside it.
      const declared = { 'content-length': String(file.sizeBytes), 'content-type': file.contentType };
      const otherKey = new URL(url);
      otherKey.pathname = url.pathname.replace(single.fileId, randomUUID());
      const longer = new URL(url);
      longer.searchParams.set('X-Amz-Expires', '604800');
      const attempts: [string, boolean][] = [
        ['the declared PUT', signatureAccepts({ method: 'PUT', url, headers: declared }, secret)],
        ['GET of the same key', signatureAccepts({ method: 'GET', url, headers: declared }, secret)],
        ['DELETE of the same key', signatureAccepts({ method: 'DELETE', url, headers: declared }, secret)],
        ['PUT of one more byte', signatureAccepts({ method: 'PUT', url, headers: { ...declared, 'content-length': String(file.sizeBytes + 1) } }, secret)],
        ['PUT of 5 GiB', signatureAccepts({ method: 'PUT', url, headers: { ...declared, 'content-length': String(5 * 1024 * MiB) } }, secret)],
        ['PUT as text/html', signatureAccepts({ method: 'PUT', url, headers: { ...declared, 'content-type': 'text/html' } }, secret)],
        ['PUT to another key', signatureAccepts({ method: 'PUT', url: otherKey, headers: declared }, secret)],
        ['PUT with the expiry stretched to 7 days', signatureAccepts({ method: 'PUT', url: longer, headers: declared }, secret)],
      ];
      figures.push(...attempts.map(([what, ok]) => `${what}: ${ok ? 'accepted' : 'refused'}`));
      expect(attempts).toEqual(attempts.map(([what], i) => [what, i === 0]));

      // Multipart: each part URL is one PUT of one part number, of its part's length, of this upload of this key.
      const multi = start.body.files.find((f) => f.filename === big.filename)!;
      const partSize = multi.multipart!.partSizeBytes;
      expect(multi.multipart!.parts.map((p) => [p.partNumber, p.sizeBytes])).toEqual([[1, partSize], [2, big.sizeBytes - partSize]]);
      for (const part of multi.multipart!.parts) {
        const length = { 'content-length': String(part.sizeBytes) };
        const pu = new URL(part.uploadUrl);
        expect(decodeURIComponent(pu.pathname)).toBe(`/flotilla-${platform.namespace}/datasets/${datasetId}/${multi.fileId}/${big.filename}`);
        expect(pu.searchParams.get('partNumber')).toBe(String(part.partNumber));
        expect(pu.searchParams.get('uploadId')).toBe(multi.multipart!.uploadId);
        expect(Number(pu.searchParams.get('X-Amz-Expires'))).toBe(UPLOAD_URL_TTL_SECONDS);
        expect(signatureAccepts({ method: 'PUT', url: pu, headers: length }, secret)).toBe(true);
        expect(signatureAccepts({ method: 'PUT', url: pu, headers: { 'content-length': String(part.sizeBytes + 1) } }, secret)).toBe(false);
        expect(signatureAccepts({ method: 'PUT', url: pu, headers: { 'content-length': String(5 * 1024 * MiB) } }, secret)).toBe(false);
        const otherPart = new URL(pu);
        otherPart.searchParams.set('partNumber', String(part.partNumber + 2));
        expect(signatureAccepts({ method: 'PUT', url: otherPart, headers: length }, secret)).toBe(false);
        expect(signatureAccepts({ method: 'GET', url: pu, headers: length }, secret)).toBe(false);
      }
      figures.push(`multipart: ${multi.multipart!.parts.length} part URLs, each bound to its part number, length, upload id, key and PUT`);

      // The download link: one GET of one key, short-lived.
      const link = await platform.api.request<{ url: string; expiresAt: string }>('GET', `/api/v1/datasets/${alphaOwns.datasetId}/files/${alphaOwns.fileId}/download`, { token: alpha.token });
      const du = new URL(link.body.url);
      expect(decodeURIComponent(du.pathname)).toContain(`/datasets/${alphaOwns.datasetId}/${alphaOwns.fileId}/`);
      expect(Number(du.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
      expect(signatureAccepts({ method: 'GET', url: du, headers: {} }, secret)).toBe(true);
      expect(signatureAccepts({ method: 'PUT', url: du, headers: {} }, secret)).toBe(false);
      figures.push(`download: GET only, expires in ${du.searchParams.get('X-Amz-Expires')} s`);
      console.log(`presigned URLs (signatures recomputed as S3 checks them):\n  ${figures.join('\n  ')}`);
    });
  });
});
