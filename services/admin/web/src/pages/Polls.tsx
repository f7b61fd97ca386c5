/** Every poll's results as bars with percentages. */
import { call, client, pageOf } from '../api';
import { BarChart } from '../components/Charts';
import { PageHeader } from '../components/PageHeader';
import { Empty, ErrorMessage, Loading } from '../components/States';
import { formatNumber, formatPercent, formatTime } from '../format';
import { useResource } from '../hooks';
import type { Page, Poll, PollResults } from '../types';

export function Polls() {
  const polls = useResource(async (signal) => pageOf(await call<Page<Poll>>(client.GET('/api/v1/polls', { signal }))).items, [], 5000);
  return (
    <>
      <PageHeader title="Polls" updatedAt={polls.updatedAt} loading={polls.loading} onRefresh={polls.reload} />
      {polls.error && <ErrorMessage error={polls.error} onRetry={polls.reload} />}
      {!polls.data && polls.loading && <Loading what="Loading polls" />}
      {polls.data?.length === 0 && <Empty>No polls yet.</Empty>}
      <div className="poll-grid">
        {polls.data?.map((poll) => <PollCard key={poll.id} poll={poll} refreshedAt={polls.updatedAt} />)}
      </div>
    </>
  );
}

function PollCard({ poll, refreshedAt }: { poll: Poll; refreshedAt: number | null }) {
  const results = useResource((signal) => call<PollResults>(client.GET('/api/v1/polls/{pollId}/results', { params: { path: { pollId: poll.id } }, signal })), [poll.id, refreshedAt]);
  const r = results.data;
  return (
    <section className="card" aria-labelledby={`poll-${poll.id}`}>
      <h2 id={`poll-${poll.id}`}>{poll.question}</h2>
      <p className="card-meta">
        <code>{poll.id}</code> · {r ? `${formatNumber(r.total)} vote${r.total === 1 ? '' : 's'} · updated ${formatTime(r.updatedAt)}` : 'loading…'}
      </p>
      {results.error && <ErrorMessage error={results.error} onRetry={results.reload} />}
      {r && (
        <BarChart
          title="Share of the votes (count)"
          bars={r.options.map((o) => ({ label: o.option, value: o.percentage, note: `(${formatNumber(o.count)})` }))}
          format={formatPercent}
          max={100}
        />
      )}
    </section>
  );
}
