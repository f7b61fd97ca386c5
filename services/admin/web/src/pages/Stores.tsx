/** Every team's stores with their status and health; a name opens the store. */
import { call, client, pageOf } from '../api';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading } from '../components/States';
import { When } from '../components/When';
import { StatusBadge } from '../components/StatusBadge';
import { Table } from '../components/Table';
import {} from '../format';
import { useResource } from '../hooks';
import { href } from '../router';
import type { Page, Store } from '../types';

export function Stores() {
  const stores = useResource(async (signal) => pageOf(await call<Page<Store>>(client.GET('/api/v1/stores', { signal }))).items, [], 10_000);
  return (
    <>
      <PageHeader title="Stores" updatedAt={stores.updatedAt} loading={stores.loading} onRefresh={stores.reload} />
      {stores.error && <ErrorMessage error={stores.error} onRetry={stores.reload} />}
      {!stores.data && stores.loading && <Loading what="Loading stores" />}
      {stores.data && (
        <Table
          caption={`Stores of all teams (${stores.data.length})`}
          rows={stores.data}
          rowKey={(s) => s.id}
          rowId={(s) => s.id}
          empty="No store has been created yet."
          columns={[
            { header: 'Name', cell: (s) => <a href={href('stores', s.id)}>{s.name}</a> },
            { header: 'Template', cell: (s) => s.template },
            { header: 'Status', cell: (s) => <StatusBadge status={s.status} /> },
            { header: 'Health', cell: (s) => <span title={s.health.reason ?? undefined}><StatusBadge status={s.health.status} /></span> },
            { header: 'Version', cell: (s) => s.desired.version },
            { header: 'Ready', cell: (s) => `${s.observed.readyReplicas}/${s.desired.replicas}`, className: 'num' },
            { header: 'Revision', cell: (s) => s.revision, className: 'num' },
            { header: 'Namespace', cell: (s) => <code>{s.namespace}</code> },
            { header: 'Created', cell: (s) => <When at={s.createdAt} /> },
          ]}
        />
      )}
    </>
  );
}
