/**
 * The console's only way to the API: same-origin fetch with the session's bearer token,
 * one refresh and retry on a 401, and RFC 9457 problem+json answers turned into
 * {@link ApiError}s whose message is the problem's `detail`.
 */
import type { Me } from './types';

const API = '/api/v1';
const STORAGE_KEY = 'flotilla.admin.session';

export interface Session {
  accessToken: string;
  refreshToken: string;
  email: string;
  /** When the access token expires (ms since the epoch), if the server said. */
  expiresAt?: number;
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn?: number;
}

/** An answer that was not 2xx, or no answer at all (`status` 0). */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
    readonly title?: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** The current session, kept in memory and in sessionStorage (so a reload keeps it, a new tab does not). */
let session: Session | null = readStoredSession();
const sessionListeners = new Set<() => void>();

function readStoredSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (!parsed.accessToken || !parsed.refreshToken) return null;
    return { accessToken: parsed.accessToken, refreshToken: parsed.refreshToken, email: parsed.email ?? '', expiresAt: parsed.expiresAt };
  } catch {
    return null;
  }
}

function sessionFrom(pair: TokenPair, email: string): Session {
  return { accessToken: pair.accessToken, refreshToken: pair.refreshToken, email, expiresAt: pair.expiresIn ? Date.now() + pair.expiresIn * 1000 : undefined };
}

let renewal: ReturnType<typeof setTimeout> | undefined;

/** Refreshes the tokens shortly before the access token expires, so calls and the live stream rarely meet a 401. */
function scheduleRenewal(): void {
  clearTimeout(renewal);
  if (!session?.expiresAt) return;
  const lead = Math.min(60_000, (session.expiresAt - Date.now()) / 5);
  renewal = setTimeout(() => void refresh(), Math.max(1000, session.expiresAt - Date.now() - lead));
}

function setSession(next: Session | null): void {
  session = next;
  scheduleRenewal();
  try {
    if (next) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the session lives in memory only
  }
  for (const listener of sessionListeners) listener();
}

export function getSession(): Session | null {
  return session;
}

/** Calls `listener` whenever the session starts, is refreshed or ends. */
export function onSessionChange(listener: () => void): () => void {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

export type Query = Record<string, string | number | undefined | null>;

export function apiUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `${API}${path}${search ? `?${search}` : ''}`;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let problem: { title?: string; detail?: string; errors?: { path: string; message: string }[] } = {};
  try {
    problem = (await res.json()) as typeof problem;
  } catch {
    // not JSON: the status line is all there is
  }
  const message = problem.detail || problem.title || `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`;
  return new ApiError(res.status, message, problem.title, Array.isArray(problem.errors) ? problem.errors : []);
}

async function send(method: string, url: string, body: unknown, token: string | undefined, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, credentials: 'same-origin' });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, 'The server could not be reached. Check the connection and try again.');
  }
}

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

let refreshing: Promise<boolean> | null = null;
scheduleRenewal();

/** Swaps the refresh token for a new pair; concurrent callers share one attempt. False ends the session. */
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const current = session;
    if (!current) return false;
    const res = await send('POST', apiUrl('/auth/refresh'), { refreshToken: current.refreshToken }, undefined).catch(() => null);
    if (!res?.ok) {
      // A network failure keeps the session (the next call tries again); a refusal ends it.
      if (res) setSession(null);
      return false;
    }
    setSession(sessionFrom((await res.json()) as TokenPair, current.email));
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * An authenticated call. A 401 refreshes the tokens once and retries; if that fails
 * the session ends (the console shows the login page) and the 401 is thrown.
 */
export async function request<T>(method: string, path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const url = apiUrl(path, options.query);
  const token = session?.accessToken;
  let res = await send(method, url, options.body, token, options.signal);
  if (res.status === 401 && token) {
    // Another call may have refreshed the tokens meanwhile: then retry with those.
    const renewed = session !== null && session.accessToken !== token ? true : await refresh();
    if (renewed) res = await send(method, url, options.body, session?.accessToken, options.signal);
  }
  if (!res.ok) throw await errorFrom(res);
  return parse<T>(res);
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, { body }),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/**
 * Signs in with the form's credentials. The session starts only for an administrator:
 * a member's tokens are revoked at once and the sign-in is refused.
 */
export async function login(email: string, password: string): Promise<Me> {
  const res = await send('POST', apiUrl('/auth/login'), { email, password }, undefined);
  if (!res.ok) throw await errorFrom(res);
  const pair = (await res.json()) as TokenPair;
  const meRes = await send('GET', apiUrl('/auth/me'), undefined, pair.accessToken);
  if (!meRes.ok) throw await errorFrom(meRes);
  const me = (await meRes.json()) as Me;
  if (me.role !== 'admin') {
    await send('POST', apiUrl('/auth/logout'), { refreshToken: pair.refreshToken }, pair.accessToken).catch(() => undefined);
    throw new ApiError(403, 'This account is not an administrator. The console is for administrators only.');
  }
  setSession(sessionFrom(pair, me.email));
  return me;
}

/** Revokes the refresh token (best effort) and forgets the session. */
export async function logout(): Promise<void> {
  const current = session;
  setSession(null);
  if (current) await send('POST', apiUrl('/auth/logout'), { refreshToken: current.refreshToken }, current.accessToken).catch(() => undefined);
}

/** Accepts both `{items, nextCursor}` and a bare array. */
export function pageOf<T>(body: { items: T[]; nextCursor?: string | null } | T[]): { items: T[]; nextCursor: string | null } {
  return Array.isArray(body) ? { items: body, nextCursor: null } : { items: body.items ?? [], nextCursor: body.nextCursor ?? null };
}

/** What to show for a failure: the problem's detail, with the fields it names. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    return fields && !error.message.includes(fields) ? `${error.message} (${fields})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
