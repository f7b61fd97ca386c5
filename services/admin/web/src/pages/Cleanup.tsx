/** Retention cleanup: run it now (after a confirmation) and see every run, scheduled or manual. */
import { useState } from 'react';
import { call, client, describeError, pageOf } from '../api';
import { ConfirmDialog } from '../components/Dialog';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading, Notice } from '../components/States';
import { When } from '../components/When';
import { StatusBadge } from '../components/StatusBadge';
import { Table } from '../components/Table';
import { formatBytes, formatNumber, shortId } from '../format';
import { useInterval, useResource } from '../hooks';
import type { CleanupRun, Page } from '../types';

export function Cleanup() {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const log = useResource(async (signal) => pageOf(await call<Page<CleanupRun>>(client.GET('/api/v1/admin/cleanup/log', { signal }))).items, []);
  const running = log.data?.some((r) => r.status === 'running') ?? false;
  // While a run is going, follow it.
  useInterval(log.reload, running ? 2000 : null);

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const started = await call<CleanupRun | undefined>(client.POST('/api/v1/admin/cleanup/run'));
      if (started?.id) log.setData((runs) => [started, ...(runs ?? []).filter((r) => r.id !== started.id)]);
      setNotice(`Cleanup started${started?.retentionDays ? `: removing datasets older than ${started.retentionDays} days` : ''}.`);
      setAsking(false);
      log.reload();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const retention = log.data?.[0]?.retentionDays;

  return (
    <>
      <PageHeader title="Cleanup" updatedAt={log.updatedAt} loading={log.loading} onRefresh={log.reload}>
        <button type="button" className="button button-primary" onClick={() => setAsking(true)}>
          Run cleanup now…
        </button>
      </PageHeader>
      <p className="lead">Datasets past the retention period are deleted with their files, on a schedule and whenever an administrator runs it here.</p>
      {notice && <Notice>{notice}</Notice>}
      {log.error && <ErrorMessage error={log.error} onRetry={log.reload} />}
      {!log.data && log.loading && <Loading what="Loading the cleanup log" />}
      {log.data && (
        <Table
          caption={`Cleanup runs, newest first (${log.data.length})`}
          rows={log.data}
          rowKey={(r) => r.id}
          rowId={(r) => r.id}
          empty="Cleanup has not run yet."
          columns={[
            { header: 'Started', cell: (r) => <When at={r.startedAt} /> },
            { header: 'Finished', cell: (r) => <When at={r.finishedAt} /> },
            { header: 'Trigger', cell: (r) => (r.trigger === 'manual' ? `manual${r.actorId ? ` (${shortId(r.actorId)})` : ''}` : 'schedule') },
            { header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
            { header: 'Retention', cell: (r) => `${r.retentionDays} days`, className: 'num' },
            { header: 'Datasets deleted', cell: (r) => formatNumber(r.datasetsDeleted), className: 'num' },
            { header: 'Objects deleted', cell: (r) => formatNumber(r.objectsDeleted), className: 'num' },
            { header: 'Freed', cell: (r) => formatBytes(r.bytesFreed), className: 'num' },
            { header: 'Error', cell: (r) => (r.error ? <span className="error-text">{r.error}</span> : '—') },
          ]}
        />
      )}
      {asking && (
        <ConfirmDialog title="Run cleanup now?" confirmLabel="Run cleanup" danger busy={busy} error={error} onConfirm={() => void run()} onCancel={() => setAsking(false)}>
          <p>
            Every dataset created more than {retention ? `${retention} days` : 'the retention period'} ago is deleted with its files, in all teams. This
            cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
