/** Datasets of every team, newest first; a name opens the dataset. */
import { call, client, pageOf, unlistedQuery } from '../api';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading } from '../components/States';
import { When } from '../components/When';
import { StatusBadge } from '../components/StatusBadge';
import { LoadMore, Table } from '../components/Table';
import { formatBytes, formatNumber, shortId } from '../format';
import { usePaged } from '../hooks';
import { href } from '../router';
import type { AdminDataset, Page } from '../types';

export function Datasets() {
  const list = usePaged<AdminDataset>(async (cursor, signal) => pageOf(await call<Page<AdminDataset>>(client.GET('/api/v1/admin/datasets', { ...unlistedQuery({ cursor, limit: 50 }), signal }))), []);
  return (
    <>
      <PageHeader title="Datasets" updatedAt={list.updatedAt} loading={list.loading} onRefresh={list.reload} />
      {list.error && <ErrorMessage error={list.error} onRetry={list.reload} />}
      {list.loading && list.items.length === 0 ? (
        <Loading what="Loading datasets" />
      ) : (
        <Table
          caption={`Datasets across all teams, newest first (${list.items.length}${list.nextCursor ? '+' : ''} shown)`}
          rows={list.items}
          rowKey={(d) => d.id}
          rowId={(d) => d.id}
          empty="No dataset has been uploaded yet."
          columns={[
            { header: 'Name', cell: (d) => <a href={href('datasets', d.id)}>{d.name}</a> },
            { header: 'Team', cell: (d) => <code title={d.teamId}>{shortId(d.teamId)}</code> },
            { header: 'Profile', cell: (d) => d.profile },
            { header: 'Status', cell: (d) => <StatusBadge status={d.status} /> },
            { header: 'Files', cell: (d) => formatNumber(d.fileCount), className: 'num' },
            { header: 'Size', cell: (d) => formatBytes(d.totalBytes), className: 'num' },
            { header: 'Created', cell: (d) => <When at={d.createdAt} /> },
          ]}
        />
      )}
      <LoadMore nextCursor={list.nextCursor} loading={list.loading} onLoadMore={list.loadMore} />
    </>
  );
}
