/** The request log: every API request the gateway answered, newest first, filtered and paged. */
import { useState } from 'react';
import { call, client, pageOf, unlistedQuery } from '../api';
import { Filters, type FilterValues } from '../components/Filters';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading } from '../components/States';
import { HttpStatus } from '../components/StatusBadge';
import { When } from '../components/When';
import { Breakable } from '../components/Breakable';
import { LoadMore, Table } from '../components/Table';
import { formatBytes, localToIso, shortId } from '../format';
import { usePaged } from '../hooks';
import type { Page, RequestRecord } from '../types';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const EMPTY: FilterValues = { status: '', method: '', route: '', userId: '', from: '', to: '' };

export function Requests() {
  const [filters, setFilters] = useState<FilterValues>(EMPTY);
  const list = usePaged<RequestRecord>(
    async (cursor, signal) =>
      pageOf(
        await call<Page<RequestRecord>>(
          client.GET('/api/v1/admin/requests', {
            ...unlistedQuery({ ...filters, from: localToIso(filters.from ?? ''), to: localToIso(filters.to ?? ''), cursor, limit: 50 }),
            signal,
          }),
        ),
      ),
    [JSON.stringify(filters)],
  );

  return (
    <>
      <PageHeader title="Requests" updatedAt={list.updatedAt} loading={list.loading} onRefresh={list.reload} />
      <Filters
        label="Filter requests"
        values={filters}
        onApply={setFilters}
        fields={[
          { name: 'status', label: 'Status', type: 'number', min: 100, max: 599, placeholder: 'e.g. 404' },
          { name: 'method', label: 'Method', type: 'select', options: [{ value: '', label: 'Any' }, ...METHODS.map((m) => ({ value: m, label: m }))] },
          { name: 'route', label: 'Route contains', placeholder: '/datasets' },
          { name: 'userId', label: 'User id', placeholder: 'UUID' },
          { name: 'from', label: 'From', type: 'datetime-local' },
          { name: 'to', label: 'To', type: 'datetime-local' },
        ]}
      />
      {list.error && <ErrorMessage error={list.error} onRetry={list.reload} />}
      {list.loading && list.items.length === 0 ? (
        <Loading what="Loading requests" />
      ) : (
        <Table
          caption={`Requests, newest first (${list.items.length}${list.nextCursor ? '+' : ''} shown)`}
          rows={list.items}
          rowKey={(r) => r.id}
          rowId={(r) => r.id}
          empty="No request matches these filters."
          columns={[
            { header: 'Time', cell: (r) => <When at={r.at} /> },
            { header: 'Method', cell: (r) => <code>{r.method}</code> },
            { header: 'Path', cell: (r) => <span title={`route ${r.route}`} className="path"><Breakable text={r.path} after={/(\/)/} /></span> },
            { header: 'Status', cell: (r) => <HttpStatus status={r.status} /> },
            { header: 'Duration', cell: (r) => `${r.durationMs.toFixed(1)} ms`, className: 'num' },
            { header: 'Size', cell: (r) => formatBytes(r.responseBytes), className: 'num' },
            { header: 'User', cell: (r) => <span title={r.userId ?? 'anonymous'}>{r.userId ? shortId(r.userId) : 'anonymous'}</span> },
            { header: 'IP', cell: (r) => r.ip },
            { header: 'Request id', cell: (r) => <code title={r.correlationId}>{shortId(r.correlationId)}</code> },
          ]}
        />
      )}
      <LoadMore nextCursor={list.nextCursor} loading={list.loading} onLoadMore={list.loadMore} />
    </>
  );
}
