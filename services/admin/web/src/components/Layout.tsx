/** The frame around every page: top bar (live state, account, log out), navigation, main. */
import { useRef, type ReactNode } from 'react';
import { formatClock } from '../format';
import { useLive } from '../live';
import { href } from '../router';

export const SECTIONS = [
  { path: '', label: 'Dashboard' },
  { path: 'requests', label: 'Requests' },
  { path: 'audit', label: 'Audit' },
  { path: 'datasets', label: 'Datasets' },
  { path: 'validations', label: 'Validations' },
  { path: 'stores', label: 'Stores' },
  { path: 'dead-letters', label: 'Dead letters' },
  { path: 'cleanup', label: 'Cleanup' },
  { path: 'services', label: 'Services' },
  { path: 'notifications', label: 'Notifications' },
  { path: 'polls', label: 'Polls' },
] as const;

interface LayoutProps {
  section: string;
  email: string;
  onLogout: () => void;
  children: ReactNode;
}

export function Layout({ section, email, onLogout, children }: LayoutProps) {
  const main = useRef<HTMLElement>(null);
  return (
    <div className="app">
      <button type="button" className="skip-link" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header className="topbar">
        <a className="brand" href={href()}>
          Flotilla <span>admin</span>
        </a>
        <LiveIndicator />
        <div className="account">
          {email && <span className="account-email">{email}</span>}
          <button type="button" className="button button-quiet" onClick={onLogout}>
            Log out
          </button>
        </div>
      </header>
      <nav className="sidebar" aria-label="Main">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.path}>
              <a href={s.path ? href(s.path) : href()} aria-current={section === s.path ? 'page' : undefined}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main ref={main} tabIndex={-1} className="content">
        {children}
      </main>
    </div>
  );
}

/**
 * Whether the live figures flow, and when the last ones came. Only a change of state is
 * announced to screen readers, not every update of the time.
 */
function LiveIndicator() {
  const { state, updatedAt } = useLive();
  const label = { open: 'Live', reconnecting: 'Reconnecting…', connecting: 'Connecting…', idle: 'Offline' }[state];
  return (
    <p className={`live live-${state}`} data-testid="live-status">
      <span className="live-dot" aria-hidden="true" />
      <span role="status">{label}</span>
      {updatedAt && (
        <span className="live-time">
          {state === 'open' ? ' · updated ' : ' · last update '}
          <time dateTime={new Date(updatedAt).toISOString()}>{formatClock(updatedAt)}</time>
        </span>
      )}
    </p>
  );
}
