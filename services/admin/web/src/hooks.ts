/** Loading data for a page: one resource, or a cursor-paged list with "Load more". */
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from './api';

export interface Resource<T> {
  data: T | undefined;
  error: string | null;
  /** True while a load runs; the previous data stays shown meanwhile. */
  loading: boolean;
  updatedAt: number | null;
  reload: () => void;
  setData: (update: (current: T | undefined) => T | undefined) => void;
}

const isAbort = (error: unknown): boolean => error instanceof DOMException && error.name === 'AbortError';

/**
 * Loads `load()` now, again whenever `deps` change or `reload()` is called, and every
 * `refreshMs` if given. A load still running when the next starts is aborted.
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], refreshMs?: number): Resource<T> {
  const [data, setState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const loader = useRef(load);
  loader.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loader
      .current(controller.signal)
      .then((value) => {
        setState(value);
        setError(null);
        setUpdatedAt(Date.now());
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(describeError(e));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
    // `deps` are the caller's: the loader itself is read from a ref.
  }, [...deps, tick]);

  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => setTick((t) => t + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, updatedAt, reload, setData: setState as Resource<T>['setData'] };
}

export interface PagedList<T> {
  items: T[];
  nextCursor: string | null;
  error: string | null;
  loading: boolean;
  updatedAt: number | null;
  loadMore: () => void;
  reload: () => void;
  setItems: (update: (items: T[]) => T[]) => void;
}

/**
 * A cursor-paged list: the first page whenever `deps` change or on `reload()`, the next
 * one appended on `loadMore()`.
 */
export function usePaged<T>(
  loadPage: (cursor: string | null, signal: AbortSignal) => Promise<{ items: T[]; nextCursor: string | null }>,
  deps: readonly unknown[],
): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const loader = useRef(loadPage);
  loader.current = loadPage;
  const pending = useRef<AbortController | null>(null);

  const fetchPage = useCallback((cursor: string | null) => {
    pending.current?.abort();
    const controller = new AbortController();
    pending.current = controller;
    setLoading(true);
    loader
      .current(cursor, controller.signal)
      .then((page) => {
        setItems((current) => (cursor ? [...current, ...page.items] : page.items));
        setNextCursor(page.nextCursor);
        setError(null);
        setUpdatedAt(Date.now());
      })
      .catch((e: unknown) => {
        if (!isAbort(e)) setError(describeError(e));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
  }, []);

  useEffect(() => {
    fetchPage(null);
    return () => pending.current?.abort();
    // `deps` are the caller's: the loader itself is read from a ref.
  }, [...deps, tick]);

  return {
    items,
    nextCursor,
    error,
    loading,
    updatedAt,
    loadMore: () => nextCursor && fetchPage(nextCursor),
    reload: () => setTick((t) => t + 1),
    setItems,
  };
}

/** Calls `fn` every `ms` while `ms` is not null. */
export function useInterval(fn: () => void, ms: number | null): void {
  const callback = useRef(fn);
  callback.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => callback.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}
