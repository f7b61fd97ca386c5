import type { RolloutSpec, RolloutStep } from '@flotilla/contracts';

export const DEFAULT_CANARY_STEPS = [25, 50, 100];
/** The longest timed pause of a step; longer holds are `indefinite` (until promoted). */
export const MAX_PAUSE_MS = 24 * 3_600_000;
const MAX_STEPS = 10;

/** A canary step as the rollout runs it: the weight, and how long it holds once ready. */
export interface CanaryStep {
  weight: number;
  pauseMs: number | 'indefinite';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `2m`, `500ms`, `1h` → milliseconds; `indefinite`; `undefined` when it is neither (or too long). */
export function parsePause(text: string): number | 'indefinite' | undefined {
  if (text === 'indefinite') return 'indefinite';
  const match = /^(\d{1,9})(ms|s|m|h)$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  return ms <= MAX_PAUSE_MS ? ms : undefined;
}

const weightOf = (step: RolloutStep): number => (typeof step === 'number' ? step : step.weight);

/** The rollout's canary steps (the default ones when it names none), each with its pause. */
export function canarySteps(rollout: RolloutSpec, defaultPauseMs: number): CanaryStep[] {
  const steps = rollout.steps?.length ? rollout.steps : DEFAULT_CANARY_STEPS;
  return steps.map((step) => ({
    weight: weightOf(step),
    pauseMs: typeof step === 'number' || step.pause === undefined ? defaultPauseMs : (parsePause(step.pause) ?? defaultPauseMs),
  }));
}

/** The weights alone (for the quota's peak). */
export function canaryWeights(rollout: RolloutSpec): number[] {
  return (rollout.steps?.length ? rollout.steps : DEFAULT_CANARY_STEPS).map(weightOf);
}

/** What is wrong with `steps`, in the user's terms; undefined when nothing is. */
export function stepsProblem(steps: RolloutStep[]): string | undefined {
  const weights = steps.map(weightOf);
  const increasing = weights.every((w, i) => Number.isInteger(w) && w >= 1 && w <= 100 && (i === 0 || w > weights[i - 1]!));
  if (steps.length === 0 || steps.length > MAX_STEPS || !increasing || weights[weights.length - 1] !== 100) {
    return `steps must be 1 to ${MAX_STEPS} increasing percentages from 1 to 100, ending at 100`;
  }
  const badPause = steps.findIndex((s) => typeof s !== 'number' && s.pause !== undefined && parsePause(s.pause) === undefined);
  if (badPause >= 0) return `step ${badPause + 1}: pause must be a duration such as 30s, 2m or 500ms (at most 24h), or indefinite`;
  return undefined;
}

/** `10%/50% (indefinite)/100%`, for the store's event log. */
export function describeSteps(steps: RolloutStep[]): string {
  return steps.map((s) => (typeof s === 'number' || s.pause === undefined ? `${weightOf(s)}%` : `${s.weight}% (${s.pause})`)).join('/');
}
