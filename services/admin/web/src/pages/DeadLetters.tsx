/**
 * Messages and stream entries that failed every attempt, with their error: replay one
 * (sent back to where it failed) or discard it (after a confirmation).
 */
import { useState } from 'react';
import { api, describeError, pageOf } from '../api';
import { ConfirmDialog } from '../components/Dialog';
import { Filters, type FilterValues } from '../components/Filters';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading, Notice } from '../components/States';
import { When } from '../components/When';
import { Breakable } from '../components/Breakable';
import { StatusBadge } from '../components/StatusBadge';
import { Table } from '../components/Table';
import { formatNumber, shortId } from '../format';
import { useResource } from '../hooks';
import type { DeadLetter, Page } from '../types';

export function DeadLetters() {
  const [filters, setFilters] = useState<FilterValues>({ status: '' });
  const letters = useResource(
    async (signal) => pageOf(await api.get<Page<DeadLetter>>('/admin/dead-letters', { status: filters.status }, signal)).items,
    [filters.status],
  );
  const [shown, setShown] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState<string | null>(null);
  const [discarding, setDiscarding] = useState<DeadLetter | null>(null);
  const [outcome, setOutcome] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);

  const settled = (letter: DeadLetter) => letters.setData((items) => items?.map((l) => (l.id === letter.id ? letter : l)));
  const act = async (letter: DeadLetter, action: 'replay' | 'discard'): Promise<boolean> => {
    setBusy(letter.id);
    try {
      const path = `/admin/dead-letters/${encodeURIComponent(letter.id)}`;
      const answer = action === 'replay' ? await api.post<DeadLetter | undefined>(`${path}/replay`) : await api.delete<DeadLetter | undefined>(path);
      const status = action === 'replay' ? 'replayed' : 'discarded';
      settled(answer?.id ? answer : { ...letter, status, handledAt: new Date().toISOString() });
      setOutcome({ tone: 'success', text: `Dead letter ${shortId(letter.id)} ${status}.` });
      return true;
    } catch (e) {
      setOutcome({ tone: 'error', text: `Could not ${action} dead letter ${shortId(letter.id)}: ${describeError(e)}` });
      return false;
    } finally {
      setBusy(null);
    }
  };
  const toggle = (id: string) =>
    setShown((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const items = letters.data ?? [];

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
              { value: 'replayed', label: 'replayed' },
              { value: 'discarded', label: 'discarded' },
            ],
          },
        ]}
      />
      {outcome && <Notice tone={outcome.tone}>{outcome.text}</Notice>}
      {letters.error && <ErrorMessage error={letters.error} onRetry={letters.reload} />}
      {!letters.data && letters.loading && <Loading what="Loading dead letters" />}
      {letters.data && (
        <Table
          caption={`Dead letters, latest failure first (${formatNumber(items.filter((l) => l.status === 'dead').length)} waiting)`}
          rows={items}
          rowKey={(l) => l.id}
          rowId={(l) => l.id}
          empty="No dead letters: every message was handled."
          detail={(l) => (shown.has(l.id) ? <pre className="payload">{JSON.stringify(l.payload, null, 2)}</pre> : null)}
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
    </>
  );
}
