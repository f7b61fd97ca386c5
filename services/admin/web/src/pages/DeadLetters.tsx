/**
 * Messages and stream entries that failed every attempt, with their error and history:
 * replay one (sent back to where it failed) or discard it, or replay or discard every
 * dead letter a filter matches — after a dry run has said how many that is.
 */
import { useState } from 'react';
import type { DeadLetterHistoryEntry, DeadLetterPage } from '@flotilla/contracts';
import type { Schemas } from '@flotilla/api-client';
import { call, client, describeError, unlistedQuery } from '../api';
import { Breakable } from '../components/Breakable';
import { ConfirmDialog } from '../components/Dialog';
import { Filters, type FilterValues } from '../components/Filters';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading, Notice } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { LoadMore, Table } from '../components/Table';
import { When } from '../components/When';
import { formatNumber, shortId } from '../format';
import { usePaged } from '../hooks';
import type { DeadLetter } from '../types';

type Action = 'replay' | 'discard';
const EMPTY: FilterValues = { status: '', source: '', q: '' };
const PAST: Record<Action, string> = { replay: 'replayed', discard: 'discarded' };

interface BulkResult {
  matched: number;
  replayed?: number;
  discarded?: number;
}

/** `POST /admin/dead-letters/replay` or `…/discard`, which take the same selection. */
function bulkCall(action: Action, body: Schemas['DeadLetterBulkDto']) {
  return action === 'replay' ? client.POST('/api/v1/admin/dead-letters/replay', { body }) : client.POST('/api/v1/admin/dead-letters/discard', { body });
}

export function DeadLetters() {
  const [filters, setFilters] = useState<FilterValues>(EMPTY);
  const [total, setTotal] = useState<number | null>(null);
  const [sources, setSources] = useState<string[]>([]);
  const letters = usePaged<DeadLetter>(
    async (cursor, signal) => {
      const page = await call<DeadLetterPage>(client.GET('/api/v1/admin/dead-letters', { ...unlistedQuery({ ...filters, cursor, limit: 50 }), signal }));
      setTotal(page.total);
      setSources(page.sources);
      return page;
    },
    [JSON.stringify(filters)],
  );
  const [shown, setShown] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState<string | null>(null);
  const [discarding, setDiscarding] = useState<DeadLetter | null>(null);
  const [bulk, setBulk] = useState<{ action: Action; matched: number } | null>(null);
  const [outcome, setOutcome] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);

  const act = async (letter: DeadLetter, action: Action): Promise<boolean> => {
    setBusy(letter.id);
    try {
      const params = { path: { id: letter.id } };
      const answer = await call<DeadLetter | undefined>(
        action === 'replay' ? client.POST('/api/v1/admin/dead-letters/{id}/replay', { params }) : client.DELETE('/api/v1/admin/dead-letters/{id}', { params }),
      );
      const settled = answer?.id ? answer : { ...letter, status: PAST[action] as DeadLetter['status'], handledAt: new Date().toISOString() };
      letters.setItems((items) => items.map((l) => (l.id === letter.id ? settled : l)));
      setOutcome({ tone: 'success', text: `Dead letter ${shortId(letter.id)} ${PAST[action]}.` });
      return true;
    } catch (e) {
      setOutcome({ tone: 'error', text: `Could not ${action} dead letter ${shortId(letter.id)}: ${describeError(e)}` });
      letters.reload();
      return false;
    } finally {
      setBusy(null);
    }
  };
  /** The dead letters the current source and search match; a dry run first, the action once confirmed. */
  const selection = { filter: { ...(filters.source ? { source: filters.source } : {}), ...(filters.q ? { q: filters.q } : {}) } };
  const dryRun = async (action: Action) => {
    setBusy('bulk');
    try {
      const { matched } = await call<BulkResult>(bulkCall(action, { ...selection, dryRun: true }));
      if (matched === 0) setOutcome({ tone: 'success', text: `No dead letter matches: nothing to ${action}.` });
      else setBulk({ action, matched });
    } catch (e) {
      setOutcome({ tone: 'error', text: `Could not count the dead letters to ${action}: ${describeError(e)}` });
    } finally {
      setBusy(null);
    }
  };
  const runBulk = async (action: Action) => {
    setBusy('bulk');
    try {
      const result = await call<BulkResult>(bulkCall(action, { ...selection, dryRun: false }));
      const done = result.replayed ?? result.discarded ?? 0;
      setOutcome({ tone: done === result.matched ? 'success' : 'error', text: `${formatNumber(done)} of ${formatNumber(result.matched)} dead letters ${PAST[action]}.` });
    } catch (e) {
      setOutcome({ tone: 'error', text: `Could not ${action} the dead letters: ${describeError(e)}` });
    } finally {
      setBusy(null);
      setBulk(null);
      letters.reload();
    }
  };
  const toggle = (id: string) =>
    setShown((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const items = letters.items;

  return (
    <>
      <PageHeader title="Dead letters" updatedAt={letters.updatedAt} loading={letters.loading} onRefresh={letters.reload} />
      <Filters
        label="Filter dead letters"
        values={filters}
        onApply={setFilters}
        fields={[
          {
            name: 'status',
            label: 'Status',
            type: 'select',
            options: [
              { value: '', label: 'Any' },
              { value: 'dead', label: 'dead (waiting)' },
              { value: 'replaying', label: 'replaying' },
              { value: 'replayed', label: 'replayed' },
              { value: 'discarded', label: 'discarded' },
            ],
          },
          { name: 'source', label: 'Source', placeholder: 'queue or stream', suggestions: sources },
          { name: 'q', label: 'Search', placeholder: 'id, type or error' },
        ]}
      />
      <div className="row-actions">
        <button type="button" className="button" disabled={busy !== null} onClick={() => void dryRun('replay')}>
          Replay all matching…
        </button>
        <button type="button" className="button button-danger" disabled={busy !== null} onClick={() => void dryRun('discard')}>
          Discard all matching…
        </button>
      </div>
      {outcome && <Notice tone={outcome.tone}>{outcome.text}</Notice>}
      {letters.error && <ErrorMessage error={letters.error} onRetry={letters.reload} />}
      {letters.loading && items.length === 0 ? (
        <Loading what="Loading dead letters" />
      ) : (
        <Table
          caption={`Dead letters, latest failure first (${formatNumber(items.length)} of ${formatNumber(total ?? items.length)} shown)`}
          rows={items}
          rowKey={(l) => l.id}
          rowId={(l) => l.id}
          empty="No dead letters: every message was handled."
          detail={(l) => (shown.has(l.id) ? <LetterDetail letter={l} /> : null)}
          columns={[
            { header: 'Failed at', cell: (l) => <When at={l.failedAt} /> },
            { header: 'Source', cell: (l) => <code title={l.kind === 'queue' ? 'RabbitMQ queue' : 'Redis stream'}><Breakable text={l.source} /></code> },
            { header: 'Type', cell: (l) => (l.type ? <code><Breakable text={l.type} /></code> : '—') },
            {
              header: 'Error',
              cell: (l) => (
                <div className="error-cell">
                  <span className="error-text">{l.error}</span>
                  <span className="muted">
                    after {formatNumber(l.attempts)} attempt{l.attempts === 1 ? '' : 's'}
                    {l.replays > 0 && `, replayed ${formatNumber(l.replays)}× before`}
                  </span>
                  <button type="button" className="link-button" aria-expanded={shown.has(l.id)} onClick={() => toggle(l.id)}>
                    {shown.has(l.id) ? 'Hide the message' : 'Show the message'}
                  </button>
                </div>
              ),
            },
            {
              header: 'Status',
              cell: (l) => (
                <div className="status-cell">
                  <StatusBadge status={l.status} />
                  {l.handledAt && <When at={l.handledAt} />}
                </div>
              ),
            },
            {
              header: 'Actions',
              cell: (l) => (
                <div className="row-actions">
                  {l.status === 'dead' ? (
                    <>
                      <button type="button" className="button button-small button-primary" disabled={busy === l.id} onClick={() => void act(l, 'replay')}>
                        Replay
                      </button>
                      <button type="button" className="button button-small button-danger" disabled={busy === l.id} onClick={() => setDiscarding(l)}>
                        Discard…
                      </button>
                    </>
                  ) : (
                    '—'
                  )}
                </div>
              ),
            },
          ]}
        />
      )}
      <LoadMore nextCursor={letters.nextCursor} loading={letters.loading} onLoadMore={letters.loadMore} />
      {discarding && (
        <ConfirmDialog
          title="Discard this dead letter?"
          confirmLabel="Discard"
          danger
          busy={busy === discarding.id}
          onCancel={() => setDiscarding(null)}
          onConfirm={() => void act(discarding, 'discard').then(() => setDiscarding(null))}
        >
          <p>
            The {discarding.type ?? 'message'} from <code>{discarding.source}</code> will never be processed. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
      {bulk && (
        <ConfirmDialog
          title={bulk.action === 'replay' ? 'Replay the matching dead letters?' : 'Discard the matching dead letters?'}
          confirmLabel={bulk.action === 'replay' ? 'Replay' : 'Discard'}
          danger={bulk.action === 'discard'}
          busy={busy === 'bulk'}
          onCancel={() => setBulk(null)}
          onConfirm={() => void runBulk(bulk.action)}
        >
          <p>
            {formatNumber(bulk.matched)} dead letter{bulk.matched === 1 ? '' : 's'}
            {filters.source || filters.q ? ' matching the source and search' : ', every one,'} will be{' '}
            {bulk.action === 'replay' ? 'sent back to where they failed' : 'discarded and never processed'}
            {bulk.matched > 500 ? ' (500 at a time: repeat for the rest)' : ''}.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

const EVENTS: Record<DeadLetterHistoryEntry['event'], string> = {
  dead: 'failed',
  replayed: 'replayed',
  replay_failed: 'replay failed',
  replay_interrupted: 'replay interrupted',
  discarded: 'discarded',
};

/** The message and what happened to it. */
function LetterDetail({ letter }: { letter: DeadLetter }) {
  return (
    <div>
      <ol className="history" aria-label="History">
        {letter.history.map((h, i) => (
          <li key={i}>
            <When at={h.at} /> {EVENTS[h.event]}
            {h.attempts !== undefined && ` after ${formatNumber(h.attempts)} attempt${h.attempts === 1 ? '' : 's'}`}
            {h.error && `: ${h.error}`}
          </li>
        ))}
      </ol>
      <pre className="payload">{JSON.stringify(letter.payload, null, 2)}</pre>
    </div>
  );
}
