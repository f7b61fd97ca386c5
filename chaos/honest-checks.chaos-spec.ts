import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';

/**
 * The checks that judge the other runs must be able to fail. The benchmark's integrity
 * rows (votes lost or double counted, requests or uploads that ended in errors) are
 * correctness, not speed: a failed one fails the harness's exit code.
 */
type Row = { scenario: string; result: string; integrity: boolean };
interface Table {
  row(scenario: string, cells: { figure: string; bar?: string; pass?: boolean; integrity?: boolean }): Row;
  exitCode(run: { failures: number; rows: Row[] }): number;
}
const table = (): Promise<Table> => import(fileURLToPath(new URL('../bench/lib/table.mjs', import.meta.url))) as Promise<Table>;

describe('honest checks', () => {
  it('hole 10: the bench harness exits non-zero when an integrity row fails', async () => {
    const { row, exitCode } = await table();
    const speed = row('vote ingest: throughput', { figure: '1 req/s', bar: '≥ 40%', pass: false });
    const lost = row('vote drain: integrity', { figure: '3 lost, 0 double counts', bar: 'zero loss, zero double counts', pass: false, integrity: true });
    const kept = row('vote drain: integrity', { figure: '0 lost, 0 double counts', bar: 'zero loss, zero double counts', pass: true, integrity: true });
    console.log(`bench exit codes: a lost vote ${exitCode({ failures: 0, rows: [speed, lost] })}, only a slow row ${exitCode({ failures: 0, rows: [speed, kept] })}, a step that could not run ${exitCode({ failures: 1, rows: [kept] })}`);
    expect(exitCode({ failures: 0, rows: [speed, lost] })).toBe(1);
    expect(exitCode({ failures: 0, rows: [speed, kept] })).toBe(0);
    expect(exitCode({ failures: 1, rows: [kept] })).toBe(1);
  });
});
