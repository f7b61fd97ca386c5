import type { RolloutAnalysis } from '@flotilla/contracts';
import type { RevisionSpec } from '../drivers/cluster-driver.js';
import type { NoData, RevisionMeasurement, RevisionMetrics } from '../drivers/revision-metrics.js';
import { fakeCluster, rolloutContext, TestControl } from '../../test/support/fake-rollout.js';
import { rollOut } from './rollout.js';
import { analysisProblems } from './rollout-analysis.js';

type Answer = RevisionMeasurement | NoData | Error;

/** Metrics answering from a script, then its last answer forever; counts the measurements. */
function scripted(...answers: Answer[]): RevisionMetrics & { calls: number } {
  const metrics = {
    calls: 0,
    describe: () => 'the test source',
    measure: async () => {
      const answer = answers[Math.min(metrics.calls++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return metrics;
}

const GOOD = { errorRate: 0.001, p95Ms: 100, requests: 50 };
const BAD = { errorRate: 0.2, p95Ms: 1500, requests: 50 };
const NO_DATA: NoData = { noData: true, why: 'no requests reached revision 2' };

function start(metrics: RevisionMetrics, analysis: Partial<RolloutAnalysis> = {}, control = new TestControl()) {
  const { driver, applied } = fakeCluster({ metrics });
  const { ctx, log } = rolloutContext(driver, { pollMs: 2, control });
  const spec = { interval: '10ms', successCondition: 'errorRate < 0.01 && p95Ms < 500', failureLimit: 2, onNoData: 'pause' as const, ...analysis };
  const outcome = rollOut(ctx, { revision: 1, version: '6.6', replicas: 4 }, { revision: 2, version: '6.7', replicas: 4 }, { strategy: 'Canary', steps: [50, 100], analysis: spec });
  const measured = () => log.filter((line) => line.startsWith('analysis: ')).map((line) => line.slice('analysis: '.length));
  return { outcome, applied, measured, control };
}

const weights = (applied: RevisionSpec[][]) => applied.map((release) => release.find((r) => r.revision === 2)?.weight ?? 0);

describe('canary analysis while a step holds', () => {
  it('goes on only after a passing measurement', async () => {
    const metrics = scripted(NO_DATA, GOOD);
    const { outcome, applied, measured } = start(metrics, { onNoData: 'fail', failureLimit: 3 });
    expect(await outcome).toEqual({ outcome: 'ready', readyReplicas: 4 });
    expect(metrics.calls).toBe(2);
    expect(measured()[0]).toMatch(/no data: no requests reached revision 2 \(the test source\) → no data, counted as a failure \(onNoData: fail\); failure 1 of 3/);
    expect(measured()[1]).toMatch(/canary step 1\/2: analysis of revision 2: errorRate 0\.001, p95Ms 100 \(50 requests\) from the test source → pass/);
    expect(weights(applied)).toEqual([50, 100]);
  });

  it('rolls back after failureLimit failing measurements, naming them', async () => {
    const metrics = scripted(BAD);
    const { outcome, applied, measured } = start(metrics, { failureLimit: 2 });
    const result = await outcome;
    expect(result).toMatchObject({ outcome: 'rolled_back', reason: expect.stringMatching(/^analysis of revision 2 failed 2 time\(s\) at canary step 1\/2 \(last: errorRate 0\.2, p95Ms 1500 \(50 requests\), not errorRate < 0\.01 && p95Ms < 500\)/) });
    expect(metrics.calls).toBe(2);
    expect(measured()).toEqual([expect.stringMatching(/→ fail .*failure 1 of 2 \(failureLimit\)$/), expect.stringMatching(/→ fail .*failure 2 of 2 \(failureLimit\): rolling back$/)]);
    expect(weights(applied)).not.toContain(100);
    expect(applied.at(-1)).toEqual([{ revision: 1, version: '6.6', replicas: 4, weight: 100 }]);
  });

  it('treats failureLimit 0 as: the first failure rolls back', async () => {
    const { outcome, measured } = start(scripted(GOOD, BAD), { failureLimit: 0, interval: '10ms' }, Object.assign(new TestControl(), { paused: true }));
    // Paused: the passing measurement does not move the step on; the failing one still rolls back.
    expect(await outcome).toMatchObject({ outcome: 'rolled_back' });
    expect(measured().map((m) => / → (\w+)/.exec(m)?.[1])).toEqual(['pass', 'fail']);
  });

  it('pauses the rollout when a measurement errors (onNoData: pause), and never passes while they do', async () => {
    const metrics = scripted(new Error('Prometheus answered 503: unavailable'));
    const control = new TestControl();
    const { outcome, applied, measured } = start(metrics, { onNoData: 'pause' }, control);
    while (metrics.calls < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(control.paused).toBe(true);
    expect(measured()[0]).toMatch(/measurement error: Prometheus answered 503: unavailable \(the test source\) → error, not a pass; pausing the rollout until resumed/);
    expect(measured().slice(1).every((m) => /→ error, not a pass; the rollout stays paused/.test(m))).toBe(true);
    // Resumed, the next error pauses it again: errors never count as a pass.
    control.paused = false;
    while (!control.paused) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(weights(applied)).toEqual([50]);
    control.command = 'abort';
    expect(await outcome).toMatchObject({ outcome: 'aborted' });
    expect(weights(applied)).not.toContain(100);
  });

  it('counts no data as a failure with onNoData: fail, and rolls back', async () => {
    const { outcome, measured } = start(scripted(NO_DATA), { onNoData: 'fail', failureLimit: 2 });
    expect(await outcome).toMatchObject({ outcome: 'rolled_back', reason: expect.stringContaining('no data: no requests reached revision 2') });
    expect(measured()).toHaveLength(2);
  });

  it('errors when the driver has no metrics source: never a pass', async () => {
    const control = new TestControl();
    const { outcome, measured } = start(undefined as unknown as RevisionMetrics, {}, control);
    while (!control.paused) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(measured()[0]).toMatch(/measurement error: no metrics source is configured/);
    control.command = 'promote_full';
    control.paused = false;
    // A promote is the operator's word over the analysis.
    expect(await outcome).toMatchObject({ outcome: 'ready' });
  });
});

describe('analysis validation', () => {
  it('names each bad field', () => {
    expect(analysisProblems({ interval: 'soon', successCondition: 'cpu < 1', failureLimit: 1.5, onNoData: 'skip' }, 'Canary').map((p) => p.path)).toEqual([
      'rollout.analysis.interval',
      'rollout.analysis.successCondition',
      'rollout.analysis.failureLimit',
      'rollout.analysis.onNoData',
    ]);
    expect(analysisProblems({ interval: '100ms', successCondition: 'errorRate < 0.01', failureLimit: 101, onNoData: 'pause' }, 'Canary').map((p) => p.path)).toEqual([
      'rollout.analysis.interval',
      'rollout.analysis.failureLimit',
    ]);
    expect(analysisProblems({ interval: '10s', successCondition: 'errorRate < 0.01 && p95Ms < 500', failureLimit: 0, onNoData: 'fail' }, 'Canary')).toEqual([]);
    expect(analysisProblems({ interval: '10s', successCondition: 'errorRate < 0.01', failureLimit: 0, onNoData: 'fail' }, 'BlueGreen')).toEqual([
      { path: 'rollout.analysis', message: 'analysis is for the Canary strategy only' },
    ]);
    expect(analysisProblems('fast', 'Canary').map((p) => p.path)).toEqual(['rollout.analysis']);
  });
});
