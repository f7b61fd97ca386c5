/** A semantic table with a caption, column headers, an empty state and optional detail rows. */
import { Fragment, type ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** `num` right-aligns figures. */
  className?: string;
}

interface TableProps<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T, index: number) => string;
  empty: string;
  /** Content of a full-width row under `row`, when it is expanded. */
  detail?: (row: T) => ReactNode | null;
  /** Marks rows for tests and styles (`data-id`). */
  rowId?: (row: T) => string;
}

export function Table<T>({ caption, columns, rows, rowKey, empty, detail, rowId }: TableProps<T>) {
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className={column.className}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="empty-row">
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((row, index) => {
              const extra = detail?.(row);
              return (
                <Fragment key={rowKey(row, index)}>
                  <tr data-id={rowId?.(row)}>
                    {columns.map((column) => (
                      <td key={column.header} className={column.className} data-column={column.header}>
                        {column.cell(row)}
                      </td>
                    ))}
                  </tr>
                  {extra && (
                    <tr className="detail-row">
                      <td colSpan={columns.length}>{extra}</td>
                    </tr>
                  )}
                </Fragment>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}

/** "Load more" under a paged table, or nothing when there is no next page. */
export function LoadMore({ nextCursor, loading, onLoadMore }: { nextCursor: string | null; loading: boolean; onLoadMore: () => void }) {
  if (!nextCursor) return null;
  return (
    <div className="load-more">
      <button type="button" className="button" onClick={onLoadMore} disabled={loading}>
        {loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
