/**
 * Hash routing under /admin/ (`#/datasets/<id>`): deep links work without the server
 * knowing the console's routes.
 */
import { useSyncExternalStore } from 'react';

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

const currentHash = (): string => window.location.hash;

/** The route's segments: `#/stores/abc` → `['stores', 'abc']`; the dashboard is `[]`. */
export function useRoute(): string[] {
  const hash = useSyncExternalStore(subscribe, currentHash);
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}

/** The link to a route: `href('stores', id)` → `#/stores/<id>`. */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}
