/**
 * A store's observed health (`GET /stores/{id}/health`): the state now with what blocks
 * it and since when, a bar of its up/down history, and every transition as a table row,
 * so the words carry what the colours show.
 */
import { useId } from 'react';
import { formatTime } from '../format';
import type { StoreHealth } from '../types';
import { HealthTimeline, sinceFirst } from './HealthTimeline';
import { ErrorMessage, Loading } from './States';
import { StatusBadge } from './StatusBadge';
import { Table } from './Table';
import { When } from './When';

interface StoreHealthPanelProps {
  health: StoreHealth | undefined;
  error: string | null;
  loading: boolean;
  /** When the health was last loaded: the timeline's "now". */
  updatedAt: number | null;
  onRetry: () => void;
}

export function StoreHealthPanel({ health, error, loading, updatedAt, onRetry }: StoreHealthPanelProps) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} className="health-panel" data-testid="store-health">
      <h2 id={headingId}>Health</h2>
      {error && <ErrorMessage error={error} onRetry={onRetry} />}
      {!health && loading && <Loading what="Loading the health" />}
      {health && <HealthView health={health} now={updatedAt ?? Date.now()} />}
    </section>
  );
}

function HealthView({ health, now }: { health: StoreHealth; now: number }) {
  if (health.status === 'unknown' && health.transitions.length === 0) {
    return (
      <p className="state state-empty">
        Not known yet: the store is checked once it is ready, and its first check makes it up or down.
        {health.checkedAt && ` Last checked ${formatTime(health.checkedAt)}.`}
      </p>
    );
  }
  const changes = health.transitions.map((t) => ({ at: t.at, status: t.to }));
  const range = sinceFirst(changes, now);
  return (
    <>
      <dl className="facts">
        {/* Polite: a change of state is read out when the page refreshes it, not every refresh. */}
        <div aria-live="polite" aria-atomic="true">
          <dt>State</dt>
          <dd data-testid="store-health-state">
            <StatusBadge status={health.status} />
          </dd>
        </div>
        <div>
          <dt>Since</dt>
          <dd><When at={health.since} /></dd>
        </div>
        <div>
          <dt>Last checked</dt>
          <dd><When at={health.checkedAt} /></dd>
        </div>
        {health.reason && (
          <div className="wide">
            <dt>Why it is {health.status}</dt>
            <dd data-testid="store-health-reason">{health.reason}</dd>
          </div>
        )}
      </dl>
      <figure className="chart health-chart">
        <figcaption>Up and down {range.words}</figcaption>
        <HealthTimeline changes={changes} status={health.status} now={now} range={range} width={720} className="timeline timeline-wide" />
      </figure>
      <Table
        caption={`Health transitions (${health.transitions.length}), newest first`}
        rows={[...health.transitions].reverse()}
        rowKey={(t, i) => `${t.at}|${i}`}
        rowId={(t) => t.at}
        empty="No transitions yet."
        columns={[
          { header: 'Time', cell: (t) => <When at={t.at} /> },
          { header: 'From', cell: (t) => <StatusBadge status={t.from} /> },
          { header: 'To', cell: (t) => <StatusBadge status={t.to} /> },
          { header: 'Reason', cell: (t) => t.reason ?? '—' },
        ]}
      />
    </>
  );
}
