/** Validation jobs of every team, filtered by status, each with its issues on demand. */
import { useState } from 'react';
import { call, client, pageOf, unlistedQuery } from '../api';
import { Filters, type FilterValues } from '../components/Filters';
import { IssuesTable } from '../components/IssuesTable';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading } from '../components/States';
import { When } from '../components/When';
import { StatusBadge } from '../components/StatusBadge';
import { LoadMore, Table } from '../components/Table';
import { formatNumber, shortId } from '../format';
import { usePaged, useResource } from '../hooks';
import { href } from '../router';
import type { AdminValidation, Page, ValidationStatus } from '../types';

const STATUSES = ['queued', 'running', 'passed', 'failed', 'error'];
const FINISHED: readonly string[] = ['passed', 'failed', 'error'];

export function Validations() {
  const [filters, setFilters] = useState<FilterValues>({ status: '' });
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const list = usePaged<AdminValidation>(
    async (cursor, signal) => pageOf(await call<Page<AdminValidation>>(client.GET('/api/v1/admin/validations', { ...unlistedQuery({ status: filters.status, cursor, limit: 50 }), signal }))),
    [filters.status],
  );
  const toggle = (jobId: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(jobId)) next.add(jobId);
      return next;
    });

  return (
    <>
      <PageHeader title="Validations" updatedAt={list.updatedAt} loading={list.loading} onRefresh={list.reload} />
      <Filters
        label="Filter validations"
        values={filters}
        onApply={setFilters}
        fields={[{ name: 'status', label: 'Status', type: 'select', options: [{ value: '', label: 'Any' }, ...STATUSES.map((s) => ({ value: s, label: s }))] }]}
      />
      {list.error && <ErrorMessage error={list.error} onRetry={list.reload} />}
      {list.loading && list.items.length === 0 ? (
        <Loading what="Loading validations" />
      ) : (
        <Table
          caption={`Validation jobs, newest first (${list.items.length}${list.nextCursor ? '+' : ''} shown)`}
          rows={list.items}
          rowKey={(v) => v.jobId}
          rowId={(v) => v.jobId}
          empty={filters.status ? `No validation is ${filters.status}.` : 'No validation has run yet.'}
          detail={(v) => (open.has(v.jobId) ? <JobIssues job={v} /> : null)}
          columns={[
            { header: 'Dataset', cell: (v) => <a href={href('datasets', v.datasetId)}>{shortId(v.datasetId)}</a> },
            { header: 'Job', cell: (v) => <code title={v.jobId}>{shortId(v.jobId)}</code> },
            { header: 'Team', cell: (v) => <code title={v.teamId}>{shortId(v.teamId)}</code> },
            { header: 'Status', cell: (v) => <StatusBadge status={v.status} /> },
            { header: 'Queued', cell: (v) => <When at={v.queuedAt} /> },
            { header: 'Finished', cell: (v) => <When at={v.finishedAt} /> },
            { header: 'Errors', cell: (v) => formatNumber(v.summary.errors), className: 'num' },
            { header: 'Warnings', cell: (v) => formatNumber(v.summary.warnings), className: 'num' },
            {
              header: 'Issues',
              cell: (v) => {
                const count = v.issues?.length ?? v.summary.errors + v.summary.warnings;
                return (
                  <button type="button" className="button button-small" aria-expanded={open.has(v.jobId)} onClick={() => toggle(v.jobId)}>
                    {open.has(v.jobId) ? 'Hide' : 'Show'} issues ({formatNumber(count)})
                  </button>
                );
              },
            },
          ]}
        />
      )}
      <LoadMore nextCursor={list.nextCursor} loading={list.loading} onLoadMore={list.loadMore} />
    </>
  );
}

/** The job's issues: from the list when it carries them, else from the dataset's status. */
function JobIssues({ job }: { job: AdminValidation }) {
  if (job.issues) return <IssuesTable issues={job.issues} caption={`Issues of job ${shortId(job.jobId)}`} finished={FINISHED.includes(job.status)} />;
  return <FetchedIssues job={job} />;
}

function FetchedIssues({ job }: { job: AdminValidation }) {
  const status = useResource(
    (signal) => call<ValidationStatus>(client.GET('/api/v1/validation/{datasetId}/status', { params: { path: { datasetId: job.datasetId } }, signal })),
    [job.datasetId],
  );
  if (status.error) return <ErrorMessage error={status.error} onRetry={status.reload} />;
  if (!status.data) return <Loading what="Loading the issues" />;
  if (status.data.jobId !== job.jobId) {
    return <p className="state state-empty">A later validation of this dataset replaced this job; the dataset page shows its issues.</p>;
  }
  return <IssuesTable issues={status.data.issues} caption={`Issues of job ${shortId(job.jobId)}`} finished={FINISHED.includes(status.data.status)} />;
}
