import type {
  CompleteUploadRequest,
  CompleteUploadResponse,
  ResumeUploadResponse,
  StartUploadRequest,
  StartUploadResponse,
  ValidationStatus,
} from '@flotilla/contracts';
import { ApiError, NetworkError, ProtocolError, networkReason, type Problem } from './errors.js';
import { USER_AGENT } from './version.js';

/** The answer of `POST /auth/login` and `POST /auth/refresh`. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** One answer of `GET /validation/{datasetId}/status`. */
export type StatusPoll =
  | { changed: true; status: ValidationStatus; etag?: string; retryAfterMs?: number }
  | { changed: false; retryAfterMs?: number };

export const API_PATH = '/api/v1';

/** The API's base URL from an origin such as `http://localhost:8080` (an `/api/v1` already there is kept once). */
export function apiBase(api: string): string {
  const trimmed = api.replace(/\/+$/, '');
  return trimmed.endsWith(API_PATH) ? trimmed : `${trimmed}${API_PATH}`;
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent
 * or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Reads an error response: its problem+json body when it has one, else a short piece of its text. */
export async function readProblem(response: Response): Promise<{ problem?: Problem; text?: string }> {
  const text = await response.text().catch(() => '');
  const type = response.headers.get('content-type') ?? '';
  if (/json/i.test(type) && text) {
    try {
      const body = JSON.parse(text) as unknown;
      if (body && typeof body === 'object' && !Array.isArray(body)) return { problem: body as Problem };
    } catch {
      // Not JSON after all: fall through to the text.
    }
  }
  const short = text.replace(/\s+/g, ' ').trim().slice(0, 300);
  return short ? { text: short } : {};
}

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses other than 2xx that are answers, not errors (304). */
  accept?: number[];
  /** Leave out the Authorization header (sign-in and refresh). */
  anonymous?: boolean;
}

/**
 * The Flotilla API over `fetch`: JSON in and out, problem+json errors as ApiError, and
 * one refresh of the access token when it expires during a long wait (when signed in
 * with a password; a token given from outside is used as it is).
 */
export class ApiClient {
  readonly base: string;
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private readonly signal: AbortSignal | undefined;

  constructor(api: string, options: { token?: string; signal?: AbortSignal } = {}) {
    this.base = apiBase(api);
    this.accessToken = options.token;
    this.signal = options.signal;
  }

  async login(email: string, password: string): Promise<void> {
    const { body } = await this.request<TokenPair>('POST', '/auth/login', { body: { email, password }, anonymous: true });
    this.useTokens(body, '/auth/login');
  }

  async startUpload(request: StartUploadRequest): Promise<StartUploadResponse> {
    const { body } = await this.request<StartUploadResponse>('POST', '/upload/start', { body: request });
    if (!body || typeof body.datasetId !== 'string' || !Array.isArray(body.files)) {
      throw new ProtocolError('POST /upload/start answered without a datasetId and files.');
    }
    return body;
  }

  /** `GET /datasets/{id}/upload`: what the store already holds of a pending upload, and fresh URLs for the rest. */
  async resumeUpload(datasetId: string): Promise<ResumeUploadResponse> {
    const path = `/datasets/${encodeURIComponent(datasetId)}/upload`;
    const { body } = await this.request<ResumeUploadResponse>('GET', path);
    if (!body || !Array.isArray(body.files) || !Array.isArray(body.targets)) throw new ProtocolError(`GET ${API_PATH}${path} answered without files and targets.`);
    return body;
  }

  async completeUpload(request: CompleteUploadRequest): Promise<CompleteUploadResponse> {
    const { body } = await this.request<CompleteUploadResponse>('POST', '/upload/complete', { body: request });
    if (!body || typeof body.validationJobId !== 'string') throw new ProtocolError('POST /upload/complete answered without a validationJobId.');
    return body;
  }

  /** The validation status, or `changed: false` when it still matches `etag` (304). */
  async validationStatus(datasetId: string, etag?: string): Promise<StatusPoll> {
    const path = `/validation/${encodeURIComponent(datasetId)}/status`;
    const { status, headers, body } = await this.request<ValidationStatus>('GET', path, {
      headers: etag ? { 'if-none-match': etag } : {},
      accept: [304],
    });
    const retryAfter = retryAfterMs(headers.get('retry-after'));
    const wait = retryAfter === undefined ? {} : { retryAfterMs: retryAfter };
    if (status === 304) return { changed: false, ...wait };
    if (!body || typeof body.status !== 'string') throw new ProtocolError(`GET ${path} answered without a status.`);
    return { changed: true, status: body, ...(headers.get('etag') ? { etag: headers.get('etag')! } : {}), ...wait };
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; headers: Headers; body: T }> {
    let response = await this.send(method, path, options);
    if (response.status === 401 && !options.anonymous && this.refreshToken !== undefined) {
      await response.body?.cancel();
      await this.refresh();
      response = await this.send(method, path, options);
    }
    if (!response.ok && !(options.accept ?? []).includes(response.status)) {
      const { problem, text } = await readProblem(response);
      throw new ApiError(method, `${API_PATH}${path}`, response.status, problem, text, retryAfterMs(response.headers.get('retry-after')));
    }
    const text = await response.text();
    let body: T;
    try {
      body = (text === '' ? undefined : JSON.parse(text)) as T;
    } catch {
      throw new ProtocolError(`${method} ${API_PATH}${path} answered ${response.status} with a body that is not JSON.`);
    }
    return { status: response.status, headers: response.headers, body };
  }

  private async refresh(): Promise<void> {
    const refreshToken = this.refreshToken;
    this.refreshToken = undefined; // one try: a refused refresh ends in the original 401
    const { body } = await this.request<TokenPair>('POST', '/auth/refresh', { body: { refreshToken }, anonymous: true });
    this.useTokens(body, '/auth/refresh');
  }

  private useTokens(body: TokenPair | undefined, path: string): void {
    if (!body || typeof body.accessToken !== 'string') throw new ProtocolError(`POST ${API_PATH}${path} answered without an accessToken.`);
    this.accessToken = body.accessToken;
    this.refreshToken = typeof body.refreshToken === 'string' ? body.refreshToken : undefined;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const url = `${this.base}${path}`;
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      'user-agent': USER_AGENT,
      ...options.headers,
    };
    if (!options.anonymous && this.accessToken !== undefined) headers.authorization = `Bearer ${this.accessToken}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(url, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
      });
    } catch (error) {
      if (this.signal?.aborted) throw this.signal.reason;
      throw new NetworkError(url, networkReason(error));
    }
  }
}
