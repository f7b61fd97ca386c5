import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ADMIN } from '../support/platform.js';
import { RecordingPlatform } from '../security/support/recording-platform.js';
import { teamResources, teamWithMember, type Member, type TeamResources } from '../security/support/fixtures.js';
import { encodeUnsafe, fetchOpenApi, fillPath, hostileString, operationsOf, SchemaArbitraries, type Operation, type Parameter } from './support/openapi.js';
import { brief, contractViolation, send, type RawRequest } from './support/http.js';
import { Contract } from '../support/contract/contract.js';

/**
 * Property-based requests to every operation of the OpenAPI document, as a member and
 * as an admin: random and boundary bodies from the operation's schema and off it, bad
 * path and query parameters, wrong content types, oversized and malformed bodies.
 * Whatever comes in: no 5xx, every rejection a problem+json naming its status, an
 * X-Request-Id on every answer, and no service process dies.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_241_122);
const RUNS_PER_ROLE = Number(process.env.FUZZ_RUNS ?? 30);
const ROLES = ['member', 'admin'] as const;
type Role = (typeof ROLES)[number] | 'anonymous';

interface Case {
  role: Role;
  pathValues: Record<string, string>;
  rawPath: boolean;
  query: string;
  body?: string;
  contentType?: string;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/json; charset=utf-16',
  'application/problem+json',
  'application/octet-stream',
  '',
  'application/json;;;=',
  '*/*',
];

const RAW_BODIES = [
  '',
  '{',
  '{"a":',
  '[1,2,',
  'null',
  '"just a string"',
  '12345678901234567890123456789',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '\u0000\u0001\u0002',
  '{"email":"a@b.c","email":"b@c.d"}',
  `{"a":"${'\\ud800'}"}`,
  '\uFEFF{}',
  'email=a%40b.c&password=x',
];

describe('fuzz: every operation of the OpenAPI document', () => {
  const platform = new RecordingPlatform(
    {
      RATE_LIMIT_PER_IP: '10000000',
      RATE_LIMIT_PER_USER: '10000000',
      LOGIN_MAX_FAILURES_PER_IP: '10000000',
      SIMULATED_POD_START_MS: '50',
      SIMULATED_POD_READY_MS: '50',
    },
    ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
  );
  let operations: Operation[];
  let arbitraries: SchemaArbitraries;
  const tokens: Record<Role, string | undefined> = { member: undefined, admin: undefined, anonymous: undefined };
  let member: Member;
  let owned: TeamResources;

  beforeAll(async () => {
    await platform.start();
    tokens.admin = await platform.api.login(ADMIN.email, ADMIN.password);
    member = await teamWithMember(platform.api, tokens.admin, 'fuzzers');
    tokens.member = member.token;
    owned = await teamResources(platform.api, member, { store: true, name: 'fuzz' });
    const doc = await fetchOpenApi(platform.gateway.url);
    operations = operationsOf(doc);
    // Real values mixed into the generated ones, so requests also reach past the "not found" checks.
    arbitraries = new SchemaArbitraries(doc, {
      id: [owned.datasetId, owned.storeId!],
      datasetId: [owned.datasetId],
      fileId: [owned.fileId],
      pollId: ['cats-vs-dogs'],
      option: ['cats', 'dogs'],
      teamId: [member.teamId],
      email: [member.email, 'nobody@security.test'],
    });
  }, 180_000);

  afterAll(() => platform.stop());

  /** Hostile text for a URL: rarely so long that Node's parser refuses the request line (431) before the app sees it. */
  const urlHostile = (): fc.Arbitrary<string> =>
    fc.oneof({ arbitrary: hostileString().filter((s) => s.length <= 2000), weight: 19 }, { arbitrary: hostileString(), weight: 1 });

  function pathValue(param: Parameter): fc.Arbitrary<string> {
    return fc.oneof(
      { arbitrary: arbitraries.valid(param.schema ?? { type: 'string' }, param.name).map(String), weight: 3 },
      { arbitrary: fc.uuid(), weight: 1 },
      { arbitrary: urlHostile(), weight: 4 },
    );
  }

  function queryString(op: Operation): fc.Arbitrary<string> {
    const pairs: fc.Arbitrary<[string, string][]>[] = op.queryParams.map((p) =>
      fc.option(
        fc.oneof(arbitraries.valid(p.schema ?? { type: 'string' }, p.name).map(String), urlHostile(), fc.constantFrom('-1', '0', '1e309', '201', '1.5', '%', '[]')).map((v): [string, string][] => [[p.name, v]]),
        { nil: [] as [string, string][] },
      ),
    );
    const extra = fc.option(
      fc.tuple(fc.constantFrom('limit', 'cursor', 'status', 'from', 'to', 'route', 'access_token', 'x', '__proto__[a]', 'limit[]'), urlHostile()).map(([k, v]): [string, string][] => [[k, v]]),
      { nil: [] as [string, string][], freq: 3 },
    );
    return fc.tuple(fc.tuple(...pairs, extra), fc.boolean()).map(([groups, repeat]) => {
      const all = groups.flat();
      if (repeat && all.length > 0) all.push(all[0]!);
      return all.length === 0 ? '' : `?${all.map(([k, v]) => `${encodeUnsafe(k)}=${encodeUnsafe(v)}`).join('&')}`;
    });
  }

  function bodyOf(op: Operation): fc.Arbitrary<Pick<Case, 'body' | 'contentType'>> {
    if (op.method === 'GET' || op.method === 'HEAD') return fc.constant({});
    const json = arbitraries.body(op.body).map((value) => (value === undefined ? {} : { body: JSON.stringify(value), contentType: 'application/json' }));
    return fc.oneof(
      { arbitrary: json, weight: 8 },
      { arbitrary: fc.tuple(arbitraries.body(op.body), fc.constantFrom(...CONTENT_TYPES)).map(([v, contentType]) => ({ body: JSON.stringify(v ?? {}), contentType })), weight: 2 },
      { arbitrary: fc.tuple(fc.constantFrom(...RAW_BODIES), fc.constantFrom(...CONTENT_TYPES)).map(([body, contentType]) => ({ body, contentType })), weight: 2 },
      // Over the 1 MiB body limit.
      { arbitrary: fc.integer({ min: 1024 * 1024 + 1, max: 3 * 1024 * 1024 }).map((n) => ({ body: JSON.stringify({ pad: 'x'.repeat(n) }), contentType: 'application/json' })), weight: 1 },
    );
  }

  function caseOf(op: Operation, role: Role): fc.Arbitrary<Case> {
    const pathValues = fc.record(Object.fromEntries(op.pathParams.map((p) => [p.name, pathValue(p)])) as Record<string, fc.Arbitrary<string>>);
    return fc
      .tuple(pathValues, fc.boolean(), queryString(op), bodyOf(op), fc.integer({ min: 0, max: 9 }))
      .map(([values, rawPath, query, body, anon]) => ({ role: anon === 0 ? 'anonymous' : role, pathValues: values, rawPath: rawPath && op.pathParams.length > 0 && Object.values(values).some((v) => v.includes('..')), query, ...body }));
  }

  function requestOf(op: Operation, c: Case): RawRequest {
    let path = fillPath(op.path, c.pathValues, false);
    // Sometimes the traversal goes into the path as it is, for the router to meet.
    if (c.rawPath) path = fillPath(op.path, Object.fromEntries(Object.entries(c.pathValues).map(([k, v]) => [k, v.replace(/[?#\s]/g, '')])), true);
    return { method: op.method, url: `${path}${c.query}`, token: tokens[c.role], body: c.body, contentType: c.contentType };
  }

  it('serves the committed OpenAPI snapshot (libs/api-client/openapi.json), the one every e2e answer is checked against', async () => {
    expect(await fetchOpenApi(platform.gateway.url)).toEqual(new Contract().document);
  });

  it('answers every request without a 5xx, with problem+json rejections and an X-Request-Id, and nothing crashes', async () => {
    const sent = new Map<string, number>();
    const statuses = new Map<number, number>();
    const violations: string[] = [];
    const started = Date.now();
    for (const op of operations) {
      for (const role of ROLES) {
        await fc.assert(
          fc.asyncProperty(caseOf(op, role), async (c) => {
            const request = requestOf(op, c);
            sent.set(op.label, (sent.get(op.label) ?? 0) + 1);
            try {
              const res = await send(platform.gateway.url, request);
              statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
              const problem = contractViolation(res);
              if (problem) violations.push(`${op.label} as ${c.role}: ${problem}\n    ${request.method} ${brief(request.url, 160)} ${request.contentType ?? ''} ${brief(request.body ?? '', 200)}`);
            } catch (error) {
              violations.push(`${op.label} as ${c.role}: no answer (${(error as Error).message})\n    ${request.method} ${brief(request.url, 160)} ${brief(request.body ?? '', 200)}`);
            }
          }),
          { seed: SEED, numRuns: RUNS_PER_ROLE },
        );
      }
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const dead = platform.recordedServices.filter((s) => !s.alive()).map((s) => s.name);
    const live = await Promise.all(platform.recordedServices.map(async (s) => [s.name, (await fetch(`${s.url}/health/live`).catch(() => undefined))?.status] as const));
    const errorLines = platform.recordedServices.flatMap((s) => s.errorLines().map((l) => `[${s.name}] ${brief(l, 300)}`));
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    // One line per kind of violation (operation and what was wrong, without the request), with one example.
    const kinds = new Map<string, { count: number; example: string }>();
    for (const v of violations) {
      const [head, example] = v.split('\n');
      const kind = head!.replace(/ as (member|admin|anonymous)/, '').replace(/: (.{0,90}).*$/, ': $1');
      const entry = kinds.get(kind) ?? { count: 0, example: example!.trim() };
      entry.count++;
      kinds.set(kind, entry);
    }
    const summary = [...kinds].map(([kind, { count, example }]) => `  ✗ ${count}× ${kind}\n      e.g. ${example}`);
    console.log(
      [
        `fuzz (seed ${SEED}, ${RUNS_PER_ROLE} runs per operation and role): ${operations.length} operations, ${total} requests sent in ${seconds} s`,
        ...[...sent].map(([label, n]) => `  ${String(n).padStart(4)}  ${label}`),
        `statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`,
        `violations found: ${violations.length} (${kinds.size} kinds); error lines in the services' logs: ${errorLines.length}; processes dead: ${dead.length ? dead.join(', ') : 'none'}`,
        ...summary,
        ...errorLines.slice(0, 10).map((l) => `  log ${l}`),
      ].join('\n'),
    );
    expect(operations.length).toBeGreaterThan(30);
    expect(dead).toEqual([]);
    expect(live.filter(([, status]) => status !== 200)).toEqual([]);
    expect(summary).toEqual([]);
  }, 600_000);
});
