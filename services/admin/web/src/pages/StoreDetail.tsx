/**
 * One store: its state, its rollout in progress (steered from here), health, pods and
 * events, and a chaos button that kills pods to test recovery.
 */
import { useEffect, useState } from 'react';
import { call, client, describeError, pageOf } from '../api';
import { ConfirmDialog } from '../components/Dialog';
import { PageHeader } from '../components/PageHeader';
import { RolloutPanel } from '../components/RolloutPanel';
import { ErrorMessage, Loading, Notice } from '../components/States';
import { When } from '../components/When';
import { StatusBadge } from '../components/StatusBadge';
import { StoreHealthPanel } from '../components/StoreHealthPanel';
import { Table } from '../components/Table';
import { formatTime } from '../format';
import { useResource } from '../hooks';
import { describeSteps } from '../rollout';
import { href } from '../router';
import type { Page, Store, StoreEvent, StoreHealth, StorePod } from '../types';

const REFRESH_MS = 3000;
/** While a store updates, its state and events are polled faster: a rollout step can last a second. */
const UPDATING_REFRESH_MS = 1000;

export function StoreDetail({ id }: { id: string }) {
  const params = { path: { id } };
  const [updating, setUpdating] = useState(false);
  const fast = updating ? UPDATING_REFRESH_MS : REFRESH_MS;
  const store = useResource((signal) => call<Store>(client.GET('/api/v1/stores/{id}', { params, signal })), [id], fast);
  const pods = useResource(async (signal) => pageOf(await call<Page<StorePod>>(client.GET('/api/v1/stores/{id}/pods', { params, signal }))).items, [id], REFRESH_MS);
  const events = useResource(async (signal) => pageOf(await call<Page<StoreEvent>>(client.GET('/api/v1/stores/{id}/events', { params, signal }))).items, [id], fast);
  const health = useResource((signal) => call<StoreHealth>(client.GET('/api/v1/stores/{id}/health', { params, signal })), [id], REFRESH_MS);
  const [asking, setAsking] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const s = store.data;
  useEffect(() => setUpdating(s?.status === 'updating'), [s?.status]);
  const reload = () => {
    store.reload();
    pods.reload();
    events.reload();
    health.reload();
  };

  return (
    <>
      <p className="breadcrumb">
        <a href={href('stores')}>← All stores</a>
      </p>
      <PageHeader title={s ? `Store ${s.name}` : 'Store'} updatedAt={store.updatedAt} loading={store.loading} onRefresh={reload}>
        <button type="button" className="button button-danger" onClick={() => setAsking(true)} disabled={!s || s.status === 'deleting'}>
          Kill pods…
        </button>
      </PageHeader>
      {notice && <Notice>{notice}</Notice>}
      {store.error && <ErrorMessage error={store.error} onRetry={reload} />}
      {!s && store.loading && <Loading what="Loading the store" />}
      {s && (
        <dl className="facts">
          <div><dt>Status</dt><dd><StatusBadge status={s.status} /></dd></div>
          <div><dt>Template</dt><dd>{s.template} {s.desired.version}</dd></div>
          <div><dt>Replicas ready</dt><dd>{s.observed.readyReplicas} of {s.desired.replicas}</dd></div>
          <div><dt>Revision</dt><dd>{s.revision} (running {s.observed.revision ?? '—'})</dd></div>
          <div><dt>Rollout</dt><dd>{s.desired.rollout.strategy}{s.desired.rollout.steps?.length ? `: ${describeSteps(s.desired.rollout.steps)}` : ''}</dd></div>
          <div><dt>Namespace</dt><dd><code>{s.namespace}</code></dd></div>
          <div><dt>URL</dt><dd><code>{s.url}</code></dd></div>
          <div><dt>Created</dt><dd>{formatTime(s.createdAt)}</dd></div>
          <div><dt>Ready since</dt><dd>{formatTime(s.readyAt)}</dd></div>
          {s.error && <div className="wide"><dt>Error</dt><dd>{s.error}</dd></div>}
        </dl>
      )}
      {s && (
        <RolloutPanel
          store={s}
          events={events.data}
          onDone={(updated, message) => {
            store.setData(() => updated);
            setNotice(message);
            reload();
          }}
          onRefused={reload}
        />
      )}
      {s && <StoreHealthPanel health={health.data} error={health.error} loading={health.loading} updatedAt={health.updatedAt} onRetry={health.reload} />}
      {pods.error && <ErrorMessage error={pods.error} onRetry={pods.reload} />}
      {pods.data && (
        <Table
          caption={`Pods (${pods.data.length})`}
          rows={pods.data}
          rowKey={(p) => p.name}
          empty="No pods are running."
          columns={[
            { header: 'Name', cell: (p) => <code>{p.name}</code> },
            { header: 'Phase', cell: (p) => p.phase },
            { header: 'Ready', cell: (p) => <StatusBadge status={p.ready ? 'ready' : 'pending'} /> },
            { header: 'Restarts', cell: (p) => p.restarts, className: 'num' },
            { header: 'Revision', cell: (p) => p.revision, className: 'num' },
            { header: 'Started', cell: (p) => <When at={p.startedAt} /> },
          ]}
        />
      )}
      {events.error && <ErrorMessage error={events.error} onRetry={events.reload} />}
      {events.data && (
        <Table
          caption={`Events (${events.data.length}), newest first`}
          rows={[...events.data].sort((a, b) => b.at.localeCompare(a.at))}
          rowKey={(e, i) => `${i}|${e.at}`}
          empty="No events yet."
          columns={[
            { header: 'Time', cell: (e) => <When at={e.at} /> },
            { header: 'Type', cell: (e) => <code>{e.type}</code> },
            { header: 'Message', cell: (e) => e.message },
          ]}
        />
      )}
      {asking && s && (
        <KillPodsDialog
          store={s}
          podCount={pods.data?.length ?? s.desired.replicas}
          onDone={(count) => {
            setAsking(false);
            setNotice(`Asked the cluster to kill ${count} pod${count === 1 ? '' : 's'} of ${s.name}; watch the pods come back.`);
            reload();
          }}
          onCancel={() => setAsking(false)}
        />
      )}
    </>
  );
}

function KillPodsDialog({ store, podCount, onDone, onCancel }: { store: Store; podCount: number; onDone: (count: number) => void; onCancel: () => void }) {
  const max = Math.max(1, podCount);
  const [count, setCount] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      setError(`Enter a whole number from 1 to ${max}.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await call(client.POST('/api/v1/admin/stores/{id}/chaos', { params: { path: { id: store.id } }, body: { killPods: n } }));
      onDone(n);
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  };
  return (
    <ConfirmDialog title={`Kill pods of ${store.name}?`} confirmLabel="Kill pods" danger busy={busy} error={error} onConfirm={confirm} onCancel={onCancel}>
      <p>Killed pods are restarted by the cluster. The store may answer errors until they are ready again.</p>
      <div className="field">
        <label htmlFor="kill-count">How many pods? (1 to {max})</label>
        <input id="kill-count" type="number" min={1} max={max} step={1} required value={count} onChange={(e) => setCount(e.target.value)} />
      </div>
    </ConfirmDialog>
  );
}
