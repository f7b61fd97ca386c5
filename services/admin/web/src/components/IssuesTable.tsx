/** A validation's issues as a table (shared by the dataset page and the validations list). */
import { Table } from './Table';
import { StatusBadge } from './StatusBadge';
import type { ValidationIssue } from '../types';

interface IssuesTableProps {
  issues: ValidationIssue[];
  caption: string;
  /** Whether the validation has finished: no issues then means every rule passed. */
  finished: boolean;
}

export function IssuesTable({ issues, caption, finished }: IssuesTableProps) {
  return (
    <Table
      caption={caption}
      rows={issues}
      rowKey={(i, n) => `${n}|${i.code}`}
      empty={finished ? 'No issues: every rule passed.' : 'No issues so far; the validation has not finished.'}
      columns={[
        { header: 'Severity', cell: (i) => <StatusBadge status={i.severity} /> },
        { header: 'Code', cell: (i) => <code>{i.code}</code> },
        { header: 'File', cell: (i) => i.file ?? '—' },
        { header: 'Where', cell: (i) => (i.path ? <code>{i.path}</code> : '—') },
        { header: 'Message', cell: (i) => i.message },
      ]}
    />
  );
}
