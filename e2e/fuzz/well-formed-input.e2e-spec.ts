import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN } from '../support/platform.js';
import { RecordingPlatform } from '../security/support/recording-platform.js';
import { teamResources, teamWithMember, type Member, type TeamResources } from '../security/support/fixtures.js';
import { fetchOpenApi, operationsOf, type Operation } from './support/openapi.js';
import { brief, contractViolation, sendBytes } from './support/http.js';
import { probesOf, type Probe } from './support/input-classes.js';

const REPORT = fileURLToPath(new URL('../../.data/fuzz/well-formed-input.json', import.meta.url));
const PARALLEL = 8;

/**
 * Every operation of the OpenAPI document, every string and number field of its body, every
 * query and path parameter and the headers the gateway reads, each given every class of
 * ill-formed input: lone surrogates (as JSON escapes and as raw bytes), NUL, over-long
 * strings, huge numbers, 10k-deep nesting, duplicate keys, `__proto__`/`constructor` keys,
 * malformed percent-encoding, bodies on GET. No 5xx, every 4xx a problem+json, and the
 * strings the edge must refuse (ill-formed Unicode, NUL, over-long headers) answer 400
 * naming where they were.
 */
describe('fuzz: ill-formed input in every field of every operation', () => {
  const platform = new RecordingPlatform(
    { RATE_LIMIT_PER_IP: '10000000', RATE_LIMIT_PER_USER: '10000000', LOGIN_MAX_FAILURES_PER_IP: '10000000', SIMULATED_POD_START_MS: '50', SIMULATED_POD_READY_MS: '50' },
    ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
  );
  let operations: Operation[];
  let probes: (Probe & { op: string })[];
  let adminToken: string;
  let member: Member;
  let victim: Member;
  let owned: TeamResources;

  beforeAll(async () => {
    await platform.start();
    adminToken = await platform.api.login(ADMIN.email, ADMIN.password);
    member = await teamWithMember(platform.api, adminToken, 'malformers');
    owned = await teamResources(platform.api, member, { store: true, name: 'malformed' });
    // The user routes change or delete the user they name (ending its tokens): another than the one fuzzing.
    victim = await teamWithMember(platform.api, adminToken, 'malformed-victims');
    const doc = await fetchOpenApi(platform.gateway.url);
    // Deleting routes last: what they remove the others still use.
    operations = operationsOf(doc).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    const ids: Record<string, string> = { datasetId: owned.datasetId, fileId: owned.fileId, teamId: member.teamId, userId: victim.userId, pollId: 'cats-vs-dogs' };
    probes = operations.flatMap((op) =>
      probesOf(doc, op, {
        token: op.adminOnly ? adminToken : member.token,
        idFor: (name) => ids[name],
        pathValue: (o, name) => ids[name] ?? (/\/stores\//.test(o.path) ? owned.storeId! : /\/teams\//.test(o.path) ? member.teamId : /\/users\//.test(o.path) ? victim.userId : owned.datasetId),
      }).map((p) => ({ ...p, op: op.label })),
    );
  }, 180_000);

  afterAll(() => platform.stop());

  it('answers every probe without a 5xx, with problem+json rejections, refusing ill-formed strings with a 400 that names them', async () => {
    const byClass = new Map<string, { sent: number; statuses: Map<number, number> }>();
    const violations: string[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < probes.length) {
        const probe = probes[next++]!;
        const entry = byClass.get(probe.inputClass) ?? { sent: 0, statuses: new Map<number, number>() };
        byClass.set(probe.inputClass, entry);
        entry.sent++;
        const label = `${probe.op} — ${probe.inputClass} in ${probe.where}`;
        try {
          const res = await sendBytes(platform.gateway.url, probe.request);
          entry.statuses.set(res.status, (entry.statuses.get(res.status) ?? 0) + 1);
          const problem = contractViolation(res);
          const named = ((res.json as { errors?: { path?: string }[] } | undefined)?.errors ?? []).map((e) => e.path);
          if (problem) violations.push(`${label}: ${problem}`);
          else if (probe.names !== undefined && (res.status !== 400 || !named.includes(probe.names))) violations.push(`${label}: answered ${res.status} naming ${JSON.stringify(named)}, not 400 naming ${JSON.stringify(probe.names)}: ${brief(res.text, 200)}`);
          else if (probe.status !== undefined && res.status !== probe.status) violations.push(`${label}: answered ${res.status}, not ${probe.status}: ${brief(res.text, 200)}`);
        } catch (error) {
          violations.push(`${label}: no answer (${(error as Error).message})`);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const dead = platform.recordedServices.filter((s) => !s.alive()).map((s) => s.name);

    const table = [...byClass].map(([inputClass, { sent, statuses }]) => ({
      'input class': inputClass,
      sent,
      '2xx': count(statuses, 200),
      '400': statuses.get(400) ?? 0,
      'other 4xx': count(statuses, 400) - (statuses.get(400) ?? 0),
      '5xx': count(statuses, 500),
      statuses: [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' '),
    }));
    const total = table.reduce((sum, row) => sum + row.sent, 0);
    const fiveXx = table.reduce((sum, row) => sum + row['5xx'], 0);
    const kinds = summarise(violations);
    console.log(`well-formed input fuzz: ${operations.length} operations, ${total} requests in ${seconds} s (${PARALLEL} in parallel); 5xx ${fiveXx}; violations ${violations.length}; processes dead: ${dead.join(', ') || 'none'}`);
    console.table(table);
    if (kinds.length > 0) console.log(kinds.slice(0, 40).join('\n'));
    mkdirSync(dirname(REPORT), { recursive: true });
    writeFileSync(REPORT, JSON.stringify({ operations: operations.length, requests: total, seconds: Number(seconds), fiveXx, byClass: table, violations: kinds }, null, 2));

    expect(operations.length).toBeGreaterThan(30);
    expect(total).toBeGreaterThan(1000);
    expect(dead).toEqual([]);
    expect(kinds).toEqual([]);
  }, 900_000);
});

/** Answers in the hundred starting at `from` (200 → 2xx). */
function count(statuses: Map<number, number>, from: number): number {
  return [...statuses].filter(([s]) => s >= from && s < from + 100).reduce((sum, [, n]) => sum + n, 0);
}

/** One line per operation, class and kind of failure, with how often it happened and one example. */
function summarise(violations: string[]): string[] {
  const kinds = new Map<string, { n: number; example: string }>();
  for (const v of violations) {
    const key = v.replace(/ in (body|query|path|header)[^:]*:/, ':').replace(/: (.{0,60}).*$/, ': $1');
    const entry = kinds.get(key) ?? { n: 0, example: v };
    entry.n++;
    kinds.set(key, entry);
  }
  return [...kinds.values()].map(({ n, example }) => `✗ ${n}× ${brief(example, 400)}`);
}
