/**
 * The console's only way to the API: the typed client generated from the OpenAPI
 * document, same-origin, with the session's bearer token, one refresh and retry on a
 * 401, and RFC 9457 problem+json answers turned into {@link ApiError}s whose message is
 * the problem's `detail`.
 */
import { createFlotillaClient, FlotillaApiError, type ReadAs, type Schemas } from '@flotilla/api-client';
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

type TokenPair = Schemas['TokenPairDto'];

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

/**
 * The fetch under the typed client: a request that gets no answer becomes an ApiError
 * (status 0), and a 401 to a request that carried the session's token refreshes the
 * tokens once (or takes those another call refreshed meanwhile) and sends it again.
 */
async function sessionFetch(request: Request): Promise<Response> {
  const again = request.clone();
  const sent = request.headers.get('authorization');
  const res = await reachable(request);
  if (res.status !== 401 || !sent) return res;
  const renewed = session !== null && `Bearer ${session.accessToken}` !== sent ? true : await refresh();
  if (!renewed || !session) return res;
  again.headers.set('authorization', `Bearer ${session.accessToken}`);
  return reachable(again);
}

async function reachable(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (error) {
    if (request.signal.aborted) throw error;
    throw new ApiError(0, 'The server could not be reached. Check the connection and try again.');
  }
}

/**
 * The API as its OpenAPI document describes it (paths, parameters, bodies and answers
 * typed by `@flotilla/api-client`), with the session's token. Use it through {@link call}.
 */
export const client = createFlotillaClient({ baseUrl: '', token: () => session?.accessToken, fetch: sessionFetch });
/** Sign-in, refresh and sign-out: tokens given per request, never the session's. */
const anonymous = createFlotillaClient({ baseUrl: '', fetch: reachable });

/** The console's error for a refusal: its message is the problem's detail. */
function consoleError(error: unknown): unknown {
  if (!(error instanceof FlotillaApiError)) return error;
  const { problem, status } = error;
  const message = problem?.detail || problem?.title || `The server answered ${status}.`;
  return new ApiError(status, message, problem?.title, error.fieldErrors);
}

/**
 * The body of a typed call, its refusal as an ApiError. `T` is what the page reads: the
 * document's type for the answer must be assignable to it (ReadAs), so an API change that
 * breaks a page breaks the build. Undefined for a 204.
 */
export async function call<T>(pending: Promise<{ data?: ReadAs<T>; response: Response }>): Promise<T> {
  try {
    return (await pending).data as T;
  } catch (error) {
    throw consoleError(error);
  }
}

/**
 * A query for a route whose parameters the OpenAPI document does not list (the admin
 * console's lists take theirs unchecked): sent as given, empty values left out.
 */
export function unlistedQuery(query: Query): { querySerializer: () => string } {
  return { querySerializer: () => apiUrl('', query).replace(/^[^?]*\??/, '') };
}

let refreshing: Promise<boolean> | null = null;
scheduleRenewal();

/** Swaps the refresh token for a new pair; concurrent callers share one attempt. False ends the session. */
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const current = session;
    if (!current) return false;
    try {
      const { data } = await anonymous.POST('/api/v1/auth/refresh', { body: { refreshToken: current.refreshToken } });
      setSession(sessionFrom(data!, current.email));
      return true;
    } catch (error) {
      // A network failure keeps the session (the next call tries again); a refusal ends it.
      if (error instanceof FlotillaApiError) setSession(null);
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Signs in with the form's credentials. The session starts only for an administrator:
 * a member's tokens are revoked at once and the sign-in is refused.
 */
export async function login(email: string, password: string): Promise<Me> {
  const pair = await call<TokenPair>(anonymous.POST('/api/v1/auth/login', { body: { email, password } }));
  const me = await call<Me>(anonymous.GET('/api/v1/auth/me', { headers: bearer(pair.accessToken) }));
  if (me.role !== 'admin') {
    await anonymous.POST('/api/v1/auth/logout', { body: { refreshToken: pair.refreshToken }, headers: bearer(pair.accessToken) }).catch(() => undefined);
    throw new ApiError(403, 'This account is not an administrator. The console is for administrators only.');
  }
  setSession(sessionFrom(pair, me.email));
  return me;
}

/** Revokes the refresh token (best effort) and forgets the session. */
export async function logout(): Promise<void> {
  const current = session;
  setSession(null);
  if (current) await anonymous.POST('/api/v1/auth/logout', { body: { refreshToken: current.refreshToken }, headers: bearer(current.accessToken) }).catch(() => undefined);
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
