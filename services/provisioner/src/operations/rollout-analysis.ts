import { AnalysisOnNoData, type RolloutAnalysis } from '@flotilla/contracts';
import type { StoreRef } from '../drivers/cluster-driver.js';
import type { RevisionMetrics } from '../drivers/revision-metrics.js';
import { ConditionError, evaluateCondition, parseCondition, type Condition } from './analysis-condition.js';
import { parsePause } from './rollout-steps.js';

const MIN_INTERVAL_MS = 500;
const MAX_INTERVAL_MS = 3_600_000;
const MAX_FAILURE_LIMIT = 100;

/** What is wrong with a rollout's `analysis`, one entry per field (`rollout.analysis.interval`, …). */
export function analysisProblems(analysis: unknown, strategy: string): { path: string; message: string }[] {
  const at = (field: string): string => `rollout.analysis${field ? `.${field}` : ''}`;
  if (analysis === null || typeof analysis !== 'object' || Array.isArray(analysis)) return [{ path: at(''), message: 'analysis must be {interval, successCondition, failureLimit, onNoData}' }];
  if (strategy !== 'Canary') return [{ path: at(''), message: 'analysis is for the Canary strategy only' }];
  const { interval, successCondition, failureLimit, onNoData } = analysis as Record<string, unknown>;
  const problems: { path: string; message: string }[] = [];
  const ms = typeof interval === 'string' ? parsePause(interval) : undefined;
  if (typeof ms !== 'number' || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    problems.push({ path: at('interval'), message: 'interval must be a duration from 500ms to 1h, such as 10s or 1m' });
  }
  if (typeof successCondition !== 'string') problems.push({ path: at('successCondition'), message: 'successCondition must be a condition such as "errorRate < 0.01 && p95Ms < 500"' });
  else {
    try {
      parseCondition(successCondition);
    } catch (error) {
      if (!(error instanceof ConditionError)) throw error;
      problems.push({ path: at('successCondition'), message: `successCondition ${error.message}` });
    }
  }
  if (!Number.isInteger(failureLimit) || (failureLimit as number) < 0 || (failureLimit as number) > MAX_FAILURE_LIMIT) {
    problems.push({ path: at('failureLimit'), message: `failureLimit must be a whole number from 0 to ${MAX_FAILURE_LIMIT}` });
  }
  if (!(AnalysisOnNoData as readonly unknown[]).includes(onNoData)) problems.push({ path: at('onNoData'), message: `onNoData must be one of ${AnalysisOnNoData.join(', ')}` });
  return problems;
}

/** What the rollout needs to analyse its steps. */
export interface AnalysisDeps {
  /** The driver's source; none: every measurement is an error (never a pass). */
  metrics: RevisionMetrics | undefined;
  store: StoreRef;
  log: (type: string, message: string) => Promise<void>;
  /** Pauses the rollout (as `POST .../rollout/pause` would). */
  pause: () => Promise<void>;
  signal: AbortSignal;
  now?: () => number;
}

export type MeasurementVerdict = 'pass' | 'fail' | 'no data' | 'error';

const figure = (n: number): string => String(Math.round(n * 10_000) / 10_000);

/**
 * One canary step's analysis, measured every `interval` of its hold. A passing
 * measurement counts a success; a failing one a failure, and `failureLimit` failures (at
 * least one) mean roll back. No data or an error never passes: `onNoData: pause` pauses the
 * rollout, `fail` counts a failure. Every measurement is a store event (type `analysis`).
 */
export class StepAnalysis {
  successes = 0;
  failures = 0;
  private readonly condition: Condition;
  private readonly intervalMs: number;
  private readonly limit: number;
  private nextAt: number;
  private readonly now: () => number;

  constructor(
    private readonly spec: RolloutAnalysis,
    private readonly deps: AnalysisDeps,
    private readonly revision: number,
    private readonly label: string,
  ) {
    this.condition = parseCondition(spec.successCondition);
    const ms = parsePause(spec.interval);
    if (typeof ms !== 'number') throw new RangeError(`analysis interval ${spec.interval} is not a duration`);
    this.intervalMs = ms;
    this.limit = Math.max(1, spec.failureLimit);
    this.now = deps.now ?? Date.now;
    this.nextAt = this.now() + ms;
  }

  get passed(): boolean {
    return this.successes > 0;
  }

  /** Milliseconds until the next measurement is due (0: now). */
  dueIn(): number {
    return Math.max(0, this.nextAt - this.now());
  }

  /**
   * Takes one measurement (and schedules the next one an interval on); `paused` says
   * whether the rollout is paused already. Returns why to roll back, if it must.
   */
  async measure(paused: boolean): Promise<{ verdict: MeasurementVerdict; rollBack?: string }> {
    this.nextAt = this.now() + this.intervalMs;
    const { store, metrics } = this.deps;
    const source = metrics ? metrics.describe(store, this.revision, this.intervalMs) : 'no metrics source (none is configured for this cluster)';
    const head = `${this.label}: analysis of revision ${this.revision}`;
    let result: Awaited<ReturnType<RevisionMetrics['measure']>> | { error: string };
    try {
      if (!metrics) throw new Error('no metrics source is configured');
      result = await metrics.measure(store, this.revision, this.intervalMs, this.deps.signal);
    } catch (error) {
      this.deps.signal.throwIfAborted();
      result = { error: error instanceof Error ? error.message : String(error) };
    }
    if ('errorRate' in result) {
      const values = `errorRate ${figure(result.errorRate)}, p95Ms ${figure(result.p95Ms)}${result.requests !== undefined ? ` (${result.requests} requests)` : ''}`;
      if (evaluateCondition(this.condition, result)) {
        this.successes++;
        await this.deps.log('analysis', `${head}: ${values} from ${source} → pass (${this.spec.successCondition})`);
        return { verdict: 'pass' };
      }
      return this.fail('fail', `${head}: ${values} from ${source} → fail (${this.spec.successCondition})`, `${values}, not ${this.spec.successCondition}`);
    }
    const verdict: MeasurementVerdict = 'error' in result ? 'error' : 'no data';
    const what = 'error' in result ? `measurement error: ${result.error}` : `no data: ${result.why}`;
    if (this.spec.onNoData === 'fail') return this.fail(verdict, `${head}: ${what} (${source}) → ${verdict}, counted as a failure (onNoData: fail)`, what);
    await this.deps.log('analysis', `${head}: ${what} (${source}) → ${verdict}, not a pass; ${paused ? 'the rollout stays paused' : 'pausing the rollout until resumed (onNoData: pause)'}`);
    if (!paused) await this.deps.pause();
    return { verdict };
  }

  private async fail(verdict: MeasurementVerdict, message: string, why: string): Promise<{ verdict: MeasurementVerdict; rollBack?: string }> {
    this.failures++;
    await this.deps.log('analysis', `${message}; failure ${this.failures} of ${this.limit} (failureLimit)${this.failures >= this.limit ? ': rolling back' : ''}`);
    if (this.failures < this.limit) return { verdict };
    return { verdict, rollBack: `analysis of revision ${this.revision} failed ${this.failures} time(s) at ${this.label} (last: ${why})` };
  }
}
