/**
 * A page's heading, when its data was last loaded, and a Refresh button. The heading
 * takes focus when the page opens, so keyboard and screen-reader users land on it.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { formatClock } from '../format';

interface PageHeaderProps {
  title: string;
  updatedAt?: number | null;
  loading?: boolean;
  onRefresh?: () => void;
  children?: ReactNode;
}

export function PageHeader({ title, updatedAt, loading, onRefresh, children }: PageHeaderProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [title]);
  return (
    <header className="page-header">
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      <div className="page-actions">
        {children}
        {updatedAt !== undefined && <LastUpdated at={updatedAt} loading={loading} />}
        {onRefresh && (
          <button type="button" className="button" onClick={onRefresh}>
            Refresh
          </button>
        )}
      </div>
    </header>
  );
}

export function LastUpdated({ at, loading }: { at: number | null; loading?: boolean }) {
  return (
    <span className="last-updated">
      {at ? (
        <>
          Updated <time dateTime={new Date(at).toISOString()}>{formatClock(at)}</time>
        </>
      ) : loading ? (
        'Loading…'
      ) : (
        'Not loaded yet'
      )}
    </span>
  );
}
