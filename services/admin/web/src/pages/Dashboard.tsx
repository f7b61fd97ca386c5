/** Live figures from the admin event stream, with charts of the last minutes. */
import { BarChart, LineChart } from '../components/Charts';
import { Figure } from '../components/Figure';
import { LastUpdated, PageHeader } from '../components/PageHeader';
import { Loading, Notice } from '../components/States';
import { Table } from '../components/Table';
import { formatNumber, formatRate } from '../format';
import { HISTORY_MS, useLive } from '../live';
import { href } from '../router';
import type { AdminStats } from '../types';

export function Dashboard() {
  const { stats, samples, updatedAt, state } = useLive();
  if (!stats) {
    return (
      <>
        <PageHeader title="Dashboard" />
        <Loading what={state === 'reconnecting' ? 'Waiting for the live figures' : 'Loading the live figures'} />
      </>
    );
  }
  const now = updatedAt ?? Date.now();
  const windowMs = chartWindow(samples[0]?.at, now);
  const q = stats.queues;
  return (
    <>
      <PageHeader title="Dashboard">
        <LastUpdated at={updatedAt} />
      </PageHeader>
      {stats.unavailable.length > 0 && (
        <Notice tone="error">Some figures could not be gathered just now: {stats.unavailable.join(', ')}.</Notice>
      )}
      <section aria-labelledby="traffic-heading">
        <h2 id="traffic-heading">Traffic</h2>
        <dl className="figures">
          <Figure label="Requests per second" value={formatNumber(stats.requests.perSecond)} testId="figure-requests-per-second" hint="last minute" />
          <Figure
            label="Error rate"
            value={formatRate(stats.requests.errorRate)}
            testId="figure-error-rate"
            hint={`${formatNumber(stats.requests.errors)} errors in the last hour`}
            tone={stats.requests.errorRate >= 0.05 ? 'bad' : undefined}
          />
          <Figure label="Requests" value={formatNumber(stats.requests.lastHour)} testId="figure-requests-last-hour" hint="last hour" />
          <Figure label="Votes" value={formatNumber(stats.votes.total)} testId="figure-votes" hint={`${formatNumber(stats.votes.polls)} poll${stats.votes.polls === 1 ? '' : 's'}`} />
          <Figure label="Users" value={formatNumber(stats.users)} testId="figure-users" hint={`${formatNumber(stats.teams)} team${stats.teams === 1 ? '' : 's'}`} />
        </dl>
      </section>
      <section aria-labelledby="queues-heading">
        <h2 id="queues-heading">Queues</h2>
        <dl className="figures">
          <Figure label="Validation queue" value={formatNumber(q.validation)} testId="figure-validation-queue" hint="messages waiting" />
          <Figure label="Vote-stream lag" value={formatNumber(q.voteStreamLag)} testId="figure-vote-lag" hint="entries not yet read" />
          <Figure label="Vote-stream pending" value={formatNumber(q.voteStreamPending)} testId="figure-vote-pending" hint="read, not yet acknowledged" />
          <Figure
            label="Dead letters"
            value={formatNumber(q.deadLetters)}
            testId="figure-dead-letters"
            hint={<a href={href('dead-letters')}>waiting for a decision</a>}
            tone={q.deadLetters > 0 ? 'warn' : undefined}
          />
        </dl>
      </section>
      <section aria-labelledby="charts-heading">
        <h2 id="charts-heading">Last {windowMs / 60_000 === 1 ? 'minute' : `${windowMs / 60_000} minutes`}</h2>
        <div className="chart-grid">
          <LineChart
            title="Requests per second"
            points={samples.map((s) => ({ at: s.at, value: s.perSecond }))}
            windowMs={windowMs}
            now={now}
            format={(v) => formatNumber(Math.round(v * 100) / 100)}
          />
          <LineChart
            title="Error rate (last hour)"
            points={samples.map((s) => ({ at: s.at, value: s.errorRate }))}
            windowMs={windowMs}
            now={now}
            format={(v) => formatRate(v)}
            minTop={0.01}
          />
        </div>
      </section>
      <section aria-labelledby="status-heading">
        <h2 id="status-heading">By status</h2>
        <div className="chart-grid">
          <BarChart
            title="Jobs by status"
            bars={Object.entries(stats.jobs).map(([label, value]) => ({ label, value }))}
            format={formatNumber}
            empty="No jobs."
          />
          <div className="status-tables">
            <StatusTable caption="Datasets" counts={stats.datasets} />
            <StatusTable caption="Validations" counts={stats.validations} />
            <StatusTable caption="Stores" counts={stats.stores} />
          </div>
        </div>
      </section>
    </>
  );
}

/** The charts' time span: the history there is, in whole minutes, from one minute up to all that is kept. */
function chartWindow(firstAt: number | undefined, now: number): number {
  const minutes = firstAt === undefined ? 1 : Math.ceil((now - firstAt) / 60_000);
  return Math.min(HISTORY_MS, Math.max(1, minutes) * 60_000);
}

/** Statuses in the order work goes through them. */
const ORDER = ['pending', 'queued', 'provisioning', 'running', 'updating', 'ready', 'passed', 'degraded', 'failed', 'error', 'deleting'];
const rank = (status: string) => (ORDER.includes(status) ? ORDER.indexOf(status) : ORDER.length);

function StatusTable({ caption, counts }: { caption: string; counts: AdminStats['datasets'] | AdminStats['stores'] }) {
  const rows = Object.entries(counts as Record<string, number>).sort(([a], [b]) => rank(a) - rank(b));
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  return (
    <Table
      caption={`${caption} (${formatNumber(total)})`}
      columns={[
        { header: 'Status', cell: ([status]) => status },
        { header: 'Count', cell: ([, n]) => formatNumber(n), className: 'num' },
      ]}
      rows={rows}
      rowKey={([status]) => status}
      empty="None."
    />
  );
}
