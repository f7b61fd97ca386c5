/**
 * A store's rollout in progress (`Store.rollout`): its steps with the current one marked,
 * the new revision's share of traffic as a bar and in words, whether it is paused and what
 * it waits for (with the time left of a timed pause), the buttons that steer it, and the
 * latest analysis measurements among the store's events.
 */
import { useEffect, useId, useState } from 'react';
import { formatClock, formatDuration } from '../format';
import { useInterval } from '../hooks';
import { describeStep, type RolloutActionKey } from '../rollout';
import type { RolloutState, RolloutStep, Store, StoreEvent } from '../types';
import { RolloutButtons, RolloutConfirm } from './RolloutActions';
import { StatusBadge } from './StatusBadge';
import { When } from './When';

interface RolloutPanelProps {
  store: Store;
  events: StoreEvent[] | undefined;
  onDone: (store: Store, notice: string) => void;
  onRefused: () => void;
}

/** Mounted for every store: the panel shows while a rollout runs, an open confirmation stays after it. */
export function RolloutPanel({ store, events, onDone, onRefused }: RolloutPanelProps) {
  const [asking, setAsking] = useState<RolloutActionKey | null>(null);
  const headingId = useId();
  const { rollout } = store;
  const blueGreen = store.desired.rollout.strategy === 'BlueGreen';
  return (
    <>
      {rollout && (
        <section aria-labelledby={headingId} className="rollout-panel" data-testid="rollout">
          <h2 id={headingId}>Rollout</h2>
          <p className="rollout-summary" aria-live="polite" aria-atomic="true" data-testid="rollout-state">
            {rollout.paused && (
              <>
                <StatusBadge status="paused" />{' '}
              </>
            )}
            Revision {store.revision} ({store.desired.version}), {blueGreen ? 'blue/green' : 'canary'}: step {rollout.step} of{' '}
            {rollout.steps}, {waitingWords(rollout, blueGreen)}.
          </p>
          <WeightBar weight={rollout.weight} revision={store.revision} />
          <StepList steps={store.desired.rollout.steps} rollout={rollout} />
          {rollout.waiting === 'pause' && rollout.until && <Countdown until={rollout.until} paused={rollout.paused} blueGreen={blueGreen} />}
          <RolloutButtons rollout={rollout} onAsk={setAsking} />
          <Measurements events={events} />
        </section>
      )}
      {asking && (
        <RolloutConfirm
          store={store}
          action={asking}
          rollout={rollout}
          onCancel={() => setAsking(null)}
          onDone={(updated, notice) => {
            setAsking(null);
            onDone(updated, notice);
          }}
          onRefused={onRefused}
        />
      )}
    </>
  );
}

function waitingWords(rollout: RolloutState, blueGreen: boolean): string {
  const held = rollout.paused ? 'paused: holding here until resumed, promoted or aborted' : '';
  const waits =
    rollout.waiting === 'ready'
      ? 'waiting for its pods to be ready'
      : rollout.waiting === 'pause'
        ? blueGreen
          ? 'all traffic switched; the old revision stays scaled, so an abort is instant'
          : 'holding for its pause'
        : rollout.waiting === 'promote'
          ? 'waiting to be promoted'
          : 'in progress';
  return held ? `${held} (${waits})` : waits;
}

function WeightBar({ weight, revision }: { weight: number; revision: number }) {
  const labelId = useId();
  return (
    <div className="weight">
      <span id={labelId} className="weight-label">
        Traffic to revision {revision}: <strong data-testid="rollout-weight">{weight}%</strong> (the stable revision has {100 - weight}%)
      </span>
      <div className="weight-track" role="meter" aria-labelledby={labelId} aria-valuemin={0} aria-valuemax={100} aria-valuenow={weight} aria-valuetext={`${weight}%`}>
        {/* SVG geometry rather than an inline style, which the console's CSP forbids. */}
        <svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
          <rect className="weight-rest" width={100} height={10} />
          <rect className="weight-fill" width={weight} height={10} />
        </svg>
      </div>
    </div>
  );
}

function StepList({ steps, rollout }: { steps: RolloutStep[] | undefined; rollout: RolloutState }) {
  // Blue/green, or a canary on the platform's default steps: only the count is known here.
  if (!steps?.length || steps.length !== rollout.steps) return null;
  return (
    <ol className="rollout-steps" aria-label="Steps">
      {steps.map((step, i) => {
        const place = i + 1 < rollout.step ? 'done' : i + 1 === rollout.step ? 'current' : 'next';
        return (
          <li key={i} className={`rollout-step rollout-step-${place}`} aria-current={place === 'current' ? 'step' : undefined}>
            <span className="rollout-step-number">Step {i + 1}</span> {describeStep(step)}
            {place === 'current' && <span className="visually-hidden"> (current step)</span>}
            {place === 'done' && <span className="visually-hidden"> (done)</span>}
          </li>
        );
      })}
    </ol>
  );
}

/** The time left of a timed pause, by the browser's clock, once a second (not read out: the summary is). */
function Countdown({ until, paused, blueGreen }: { until: string; paused: boolean; blueGreen: boolean }) {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 1000);
  useEffect(() => setNow(Date.now()), [until]);
  const left = (new Date(until).getTime() - now) / 1000;
  return (
    <p className="rollout-countdown" data-testid="rollout-countdown">
      {blueGreen ? 'The old revision is scaled down at' : 'Its pause ends at'} <time dateTime={until}>{formatClock(until)}</time>
      {left > 0 ? `, in ${formatDuration(Math.ceil(left))}` : ', now'}
      {paused ? '; paused, the rollout holds past it' : ''}.
    </p>
  );
}

/** Analysis measurements are store events of type `analysis`: the latest few, newest first. */
function Measurements({ events }: { events: StoreEvent[] | undefined }) {
  const latest = (events ?? [])
    .filter((e) => e.type === 'analysis')
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, 5);
  if (latest.length === 0) return null;
  return (
    <>
      <h3>Latest analysis</h3>
      <ul className="rollout-measurements">
        {latest.map((e, i) => (
          <li key={`${e.at}|${i}`}>
            <When at={e.at} /> {e.message}
          </li>
        ))}
      </ul>
    </>
  );
}
