import { createFlotillaClient, FlotillaApiError, retryAfterMs, type FlotillaClient, type ReadAs, type Schemas } from '@flotilla/api-client';
import type {
  CompleteUploadRequest,
  CompleteUploadResponse,
  ResumeUploadResponse,
  StartUploadRequest,
  StartUploadResponse,
  ValidationStatus,
} from '@flotilla/contracts';
import { ApiError, NetworkError, ProtocolError, networkReason } from './errors.js';
import { USER_AGENT } from './version.js';

export { retryAfterMs };

/** The answer of `POST /auth/login` and `POST /auth/refresh`, as the API documents it. */
export type TokenPair = Schemas['TokenPairDto'];

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
 * The body as this command reads it (a type from the contracts). The document's type for
 * the route must be assignable to it (ReadAs), so an answer the API changes under the CLI
 * fails to compile; the checks after it guard against what a server actually sends.
 */
function documented<T>(data: ReadAs<T>): T | undefined {
  return data as T | undefined;
}

/** What a typed call resolves to: the body the document gives the route, and the answer. */
type Answer<T> = { data?: T; response: Response };

/**
 * The Flotilla API through the typed client of `@flotilla/api-client`: routes, bodies and
 * answers as the OpenAPI document has them, so a change of the API that breaks this
 * command breaks its build. Errors become the CLI's own (ApiError, NetworkError,
 * ProtocolError, with their exit codes), and the access token is refreshed once when it
 * expires during a long wait (when signed in with a password; a token given from outside
 * is used as it is).
 */
export class ApiClient {
  readonly base: string;
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly api: FlotillaClient;
  /** Sign-in and refresh: no Authorization header. */
  private readonly anonymous: FlotillaClient;

  constructor(api: string, options: { token?: string; signal?: AbortSignal } = {}) {
    this.base = apiBase(api);
    this.accessToken = options.token;
    this.signal = options.signal;
    // The document's paths carry /api/v1: the client's base is what comes before it.
    const baseUrl = this.base.slice(0, -API_PATH.length);
    const headers = { 'user-agent': USER_AGENT };
    this.api = createFlotillaClient({ baseUrl, headers, token: () => this.accessToken });
    this.anonymous = createFlotillaClient({ baseUrl, headers });
  }

  async login(email: string, password: string): Promise<void> {
    const { data } = await this.call('POST', '/auth/login', () => this.anonymous.POST('/api/v1/auth/login', { body: { email, password }, signal: this.signal }), true);
    this.useTokens(data, '/auth/login');
  }

  async startUpload(request: StartUploadRequest): Promise<StartUploadResponse> {
    const { data } = await this.call('POST', '/upload/start', () => this.api.POST('/api/v1/upload/start', { body: request, signal: this.signal }));
    const body = documented<StartUploadResponse>(data);
    if (!body || typeof body.datasetId !== 'string' || !Array.isArray(body.files)) {
      throw new ProtocolError('POST /upload/start answered without a datasetId and files.');
    }
    return body;
  }

  /** `GET /datasets/{id}/upload`: what the store already holds of a pending upload, and fresh URLs for the rest. */
  async resumeUpload(datasetId: string): Promise<ResumeUploadResponse> {
    const path = `/datasets/${encodeURIComponent(datasetId)}/upload`;
    const { data } = await this.call('GET', path, () => this.api.GET('/api/v1/datasets/{id}/upload', { params: { path: { id: datasetId } }, signal: this.signal }));
    const body = documented<ResumeUploadResponse>(data);
    if (!body || !Array.isArray(body.files) || !Array.isArray(body.targets)) throw new ProtocolError(`GET ${API_PATH}${path} answered without files and targets.`);
    return body;
  }

  async completeUpload(request: CompleteUploadRequest): Promise<CompleteUploadResponse> {
    const { data } = await this.call('POST', '/upload/complete', () => this.api.POST('/api/v1/upload/complete', { body: request, signal: this.signal }));
    const body = documented<CompleteUploadResponse>(data);
    if (!body || typeof body.validationJobId !== 'string') throw new ProtocolError('POST /upload/complete answered without a validationJobId.');
    return body;
  }

  /** The validation status, or `changed: false` when it still matches `etag` (304). */
  async validationStatus(datasetId: string, etag?: string): Promise<StatusPoll> {
    const path = `/validation/${encodeURIComponent(datasetId)}/status`;
    const { data, response } = await this.call('GET', path, () =>
      this.api.GET('/api/v1/validation/{datasetId}/status', {
        params: { path: { datasetId } },
        headers: etag ? { 'if-none-match': etag } : {},
        signal: this.signal,
      }),
    );
    const { status, headers } = response;
    const retryAfter = retryAfterMs(headers.get('retry-after'));
    const wait = retryAfter === undefined ? {} : { retryAfterMs: retryAfter };
    if (status === 304) return { changed: false, ...wait };
    const body = documented<ValidationStatus>(data);
    if (!body || typeof body.status !== 'string') throw new ProtocolError(`GET ${path} answered without a status.`);
    return { changed: true, status: body, ...(headers.get('etag') ? { etag: headers.get('etag')! } : {}), ...wait };
  }

  /**
   * Runs one typed call, its errors as the CLI's. A 401 when a refresh token is at hand
   * swaps it for new tokens and runs the call once more.
   */
  private async call<T>(method: string, path: string, send: () => Promise<Answer<T>>, anonymous = false): Promise<Answer<T>> {
    try {
      return await this.once(method, path, send);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401) || anonymous || this.refreshToken === undefined) throw error;
      await this.refresh();
      return this.once(method, path, send);
    }
  }

  private async once<T>(method: string, path: string, send: () => Promise<Answer<T>>): Promise<Answer<T>> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof FlotillaApiError) throw new ApiError(error.method, error.path, error.status, error.problem, error.text, error.retryAfterMs);
      if (this.signal?.aborted) throw this.signal.reason;
      // openapi-fetch parses a 2xx body as JSON: a SyntaxError means the API sent something else.
      if (error instanceof SyntaxError) throw new ProtocolError(`${method} ${API_PATH}${path} answered with a body that is not JSON.`);
      throw new NetworkError(`${this.base}${path}`, networkReason(error));
    }
  }

  private async refresh(): Promise<void> {
    const refreshToken = this.refreshToken!;
    this.refreshToken = undefined; // one try: a refused refresh ends in the original 401
    const { data } = await this.call('POST', '/auth/refresh', () => this.anonymous.POST('/api/v1/auth/refresh', { body: { refreshToken }, signal: this.signal }), true);
    this.useTokens(data, '/auth/refresh');
  }

  private useTokens(body: TokenPair | undefined, path: string): void {
    if (!body || typeof body.accessToken !== 'string') throw new ProtocolError(`POST ${API_PATH}${path} answered without an accessToken.`);
    this.accessToken = body.accessToken;
    this.refreshToken = typeof body.refreshToken === 'string' ? body.refreshToken : undefined;
  }
}
