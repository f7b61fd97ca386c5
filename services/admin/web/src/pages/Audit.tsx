/** Security-relevant actions: logins, user and team changes, deletions, chaos, replays, cleanup. */
import { useState } from 'react';
import { call, client, pageOf, unlistedQuery } from '../api';
import { Filters, type FilterValues } from '../components/Filters';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading } from '../components/States';
import { When } from '../components/When';
import { StatusBadge } from '../components/StatusBadge';
import { LoadMore, Table } from '../components/Table';
import { localToIso, shortId } from '../format';
import { usePaged } from '../hooks';
import type { AuditEntry, Page } from '../types';

const ACTIONS = [
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'token.reuse',
  'logout',
  'team.created',
  'user.created',
  'dataset.deleted',
  'store.deleted',
  'store.chaos',
  'dead_letter.replayed',
  'dead_letter.discarded',
  'cleanup.run',
];
const EMPTY: FilterValues = { actor: '', action: '', from: '', to: '' };

export function Audit() {
  const [filters, setFilters] = useState<FilterValues>(EMPTY);
  const list = usePaged<AuditEntry>(
    async (cursor, signal) =>
      pageOf(
        await call<Page<AuditEntry>>(
          client.GET('/api/v1/admin/audit', {
            ...unlistedQuery({ ...filters, from: localToIso(filters.from ?? ''), to: localToIso(filters.to ?? ''), cursor, limit: 50 }),
            signal,
          }),
        ),
      ),
    [JSON.stringify(filters)],
  );

  return (
    <>
      <PageHeader title="Audit" updatedAt={list.updatedAt} loading={list.loading} onRefresh={list.reload} />
      <Filters
        label="Filter the audit log"
        values={filters}
        onApply={setFilters}
        fields={[
          { name: 'actor', label: 'Actor (email or id)', placeholder: 'admin@example.com' },
          { name: 'action', label: 'Action', placeholder: 'login.failed', suggestions: ACTIONS },
          { name: 'from', label: 'From', type: 'datetime-local' },
          { name: 'to', label: 'To', type: 'datetime-local' },
        ]}
      />
      {list.error && <ErrorMessage error={list.error} onRetry={list.reload} />}
      {list.loading && list.items.length === 0 ? (
        <Loading what="Loading the audit log" />
      ) : (
        <Table
          caption={`Audit log, newest first (${list.items.length}${list.nextCursor ? '+' : ''} shown)`}
          rows={list.items}
          rowKey={(e) => e.id}
          rowId={(e) => e.id}
          empty="No action matches these filters."
          columns={[
            { header: 'Time', cell: (e) => <When at={e.at} /> },
            { header: 'Action', cell: (e) => <code>{e.action}</code> },
            { header: 'Outcome', cell: (e) => <StatusBadge status={e.outcome} /> },
            { header: 'Actor', cell: (e) => <span title={e.actorId ?? undefined}>{e.actorEmail ?? shortId(e.actorId)}</span> },
            { header: 'IP', cell: (e) => e.ip ?? '—' },
            { header: 'Target', cell: (e) => (e.target ? <code>{e.target}</code> : '—') },
            { header: 'Source', cell: (e) => e.source },
            { header: 'Details', cell: (e) => <Details details={e.details} /> },
          ]}
        />
      )}
      <LoadMore nextCursor={list.nextCursor} loading={list.loading} onLoadMore={list.loadMore} />
    </>
  );
}

function Details({ details }: { details?: Record<string, unknown> }) {
  const entries = Object.entries(details ?? {});
  if (entries.length === 0) return <>—</>;
  return (
    <span className="details">
      {entries.map(([key, value]) => (
        <span key={key}>
          {key}: {typeof value === 'string' ? value : JSON.stringify(value)}
        </span>
      ))}
    </span>
  );
}
