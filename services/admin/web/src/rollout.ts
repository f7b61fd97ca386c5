/** How a rollout's canary steps read in the console: a step is a bare percentage or `{weight, pause}`. */
import type { RolloutAction, RolloutStep } from '@flotilla/contracts';

export const weightOf = (step: RolloutStep): number => (typeof step === 'number' ? step : step.weight);

/** A step's pause in words; undefined when it names none (the platform's default pause). */
export function pauseOf(step: RolloutStep): string | undefined {
  if (typeof step === 'number' || step.pause === undefined) return undefined;
  return step.pause === 'indefinite' ? 'until promoted' : `pause ${step.pause}`;
}

/** `50% (until promoted)`, `10% (pause 1s)`, `100%`. */
export function describeStep(step: RolloutStep): string {
  const pause = pauseOf(step);
  return `${weightOf(step)}%${pause ? ` (${pause})` : ''}`;
}

/** `10% (pause 1s) → 50% (until promoted) → 100%`. */
export function describeSteps(steps: readonly RolloutStep[]): string {
  return steps.map(describeStep).join(' → ');
}

/** What each action does, for its confirmation, its button and the notice after it. */
export interface RolloutActionText {
  action: RolloutAction;
  full?: boolean;
  button: string;
  confirm: string;
  title: (store: string) => string;
  explains: string;
  done: (store: string) => string;
  danger?: boolean;
}

export const ROLLOUT_ACTIONS = {
  promote: {
    action: 'promote',
    button: 'Promote…',
    confirm: 'Promote',
    title: (store) => `Promote the rollout of ${store}?`,
    explains: 'The current step stops waiting (its pause, timed or until promoted) and the next step starts at once.',
    done: (store) => `Promoted the rollout of ${store}: the next step starts.`,
  },
  promoteFull: {
    action: 'promote',
    full: true,
    button: 'Promote to 100%…',
    confirm: 'Promote to 100%',
    title: (store) => `Promote the rollout of ${store} to 100%?`,
    explains: 'The remaining steps and pauses are skipped: all traffic goes to the new revision once its pods are ready.',
    done: (store) => `Promoted the rollout of ${store} to 100%.`,
  },
  pause: {
    action: 'pause',
    button: 'Pause…',
    confirm: 'Pause',
    title: (store) => `Pause the rollout of ${store}?`,
    explains: 'The rollout holds where it is, traffic as it is, also past its step’s pause, until it is resumed, promoted or aborted.',
    done: (store) => `Paused the rollout of ${store}.`,
  },
  resume: {
    action: 'resume',
    button: 'Resume…',
    confirm: 'Resume',
    title: (store) => `Resume the rollout of ${store}?`,
    explains: 'The rollout goes on: a step whose pause has ended moves to the next.',
    done: (store) => `Resumed the rollout of ${store}.`,
  },
  abort: {
    action: 'abort',
    button: 'Abort…',
    confirm: 'Abort rollout',
    danger: true,
    title: (store) => `Abort the rollout of ${store}?`,
    explains: 'All traffic goes back to the stable revision at once and the new revision is removed. The store stays degraded until a new version is set.',
    done: (store) => `Aborted the rollout of ${store}: traffic goes back to the stable revision.`,
  },
} satisfies Record<string, RolloutActionText>;

export type RolloutActionKey = keyof typeof ROLLOUT_ACTIONS;
