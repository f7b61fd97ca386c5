/** One dataset: what it is, its files, and its latest validation with the issues found. */
import { call, client } from '../api';
import { IssuesTable } from '../components/IssuesTable';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { Table } from '../components/Table';
import { formatBytes, formatNumber, formatTime, shortId } from '../format';
import { useInterval, useResource } from '../hooks';
import { href } from '../router';
import type { DatasetDetail as Dataset, ValidationStatus } from '../types';

export function DatasetDetail({ id }: { id: string }) {
  const dataset = useResource((signal) => call<Dataset>(client.GET('/api/v1/datasets/{id}', { params: { path: { id } }, signal })), [id]);
  const d = dataset.data;
  return (
    <>
      <p className="breadcrumb">
        <a href={href('datasets')}>← All datasets</a>
      </p>
      <PageHeader title={d ? `Dataset ${d.name}` : 'Dataset'} updatedAt={dataset.updatedAt} loading={dataset.loading} onRefresh={dataset.reload} />
      {dataset.error && <ErrorMessage error={dataset.error} onRetry={dataset.reload} />}
      {!d && dataset.loading && <Loading what="Loading the dataset" />}
      {d && (
        <>
          <dl className="facts">
            <div><dt>Status</dt><dd><StatusBadge status={d.status} /></dd></div>
            <div><dt>Profile</dt><dd>{d.profile}{d.options.edition ? ` (${d.options.edition})` : ''}</dd></div>
            <div><dt>Team</dt><dd><code>{d.teamId}</code></dd></div>
            <div><dt>Files</dt><dd>{formatNumber(d.fileCount)} · {formatBytes(d.totalBytes)}</dd></div>
            <div><dt>Created</dt><dd>{formatTime(d.createdAt)}</dd></div>
            <div><dt>Updated</dt><dd>{formatTime(d.updatedAt)}</dd></div>
            <div><dt>Id</dt><dd><code>{d.id}</code></dd></div>
            {d.description && <div className="wide"><dt>Description</dt><dd>{d.description}</dd></div>}
          </dl>
          <Table
            caption={`Files (${d.files.length})`}
            rows={d.files}
            rowKey={(f) => f.id}
            empty="This dataset has no files."
            columns={[
              { header: 'Filename', cell: (f) => f.filename },
              { header: 'Size', cell: (f) => formatBytes(f.sizeBytes), className: 'num' },
              { header: 'Content type', cell: (f) => <code>{f.contentType}</code> },
              { header: 'SHA-256', cell: (f) => (f.sha256 ? <code title={f.sha256}>{f.sha256.slice(0, 12)}…</code> : '—') },
              { header: 'Status', cell: (f) => <StatusBadge status={f.status} /> },
              { header: 'Same content as', cell: (f) => (f.sameContentAs?.length ? f.sameContentAs.map((s) => s.filename).join(', ') : '—') },
            ]}
          />
          <section aria-labelledby="validation-heading">
            <h2 id="validation-heading">Validation</h2>
            {d.latestJob ? <Validation datasetId={d.id} /> : <p className="state state-empty">Not validated yet: the upload has not been completed.</p>}
          </section>
        </>
      )}
    </>
  );
}

function Validation({ datasetId }: { datasetId: string }) {
  const status = useResource((signal) => call<ValidationStatus>(client.GET('/api/v1/validation/{datasetId}/status', { params: { path: { datasetId } }, signal })), [datasetId]);
  const v = status.data;
  const running = v?.status === 'queued' || v?.status === 'running';
  // Follow a validation that is still going.
  useInterval(status.reload, running ? 3000 : null);
  if (status.error) return <ErrorMessage error={status.error} onRetry={status.reload} />;
  if (!v) return <Loading what="Loading the validation" />;
  return (
    <>
      <dl className="facts">
        <div><dt>Status</dt><dd><StatusBadge status={v.status} /></dd></div>
        <div><dt>Job</dt><dd><code title={v.jobId}>{shortId(v.jobId)}</code></dd></div>
        <div><dt>Progress</dt><dd>{v.progress.percent} % ({v.progress.filesChecked}/{v.progress.filesTotal} files)</dd></div>
        <div><dt>Queued</dt><dd>{formatTime(v.queuedAt)}</dd></div>
        <div><dt>Started</dt><dd>{formatTime(v.startedAt)}</dd></div>
        <div><dt>Finished</dt><dd>{formatTime(v.finishedAt)}</dd></div>
        <div><dt>Errors</dt><dd>{formatNumber(v.summary.errors)}</dd></div>
        <div><dt>Warnings</dt><dd>{formatNumber(v.summary.warnings)}</dd></div>
        {v.error && <div className="wide"><dt>Why it could not finish</dt><dd>{v.error}</dd></div>}
      </dl>
      <IssuesTable issues={v.issues} caption={`Issues (${v.issues.length})`} finished={!running} />
    </>
  );
}
