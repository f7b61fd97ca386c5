import { PermanentDriverError } from '../cluster-driver.js';
import { apiMessage, statusCode } from './kube-apis.js';

/** An API failure with the operation and the server's message; 403 and 422 are final. */
export function apiError(operation: string, error: unknown): Error {
  const code = statusCode(error);
  const message = `${operation} failed${code ? ` (HTTP ${code})` : ''}: ${apiMessage(error)}`;
  if (code === 403 || code === 422) return new PermanentDriverError(message, { cause: error });
  return new Error(message, { cause: error });
}

export interface ObjectApi<T> {
  create(body: T): Promise<unknown>;
  read(name: string): Promise<T>;
  replace(name: string, body: T): Promise<unknown>;
}

/** Creates `body`; when it exists (409), replaces it with `body` at the current resourceVersion, retrying a lost race. */
export async function createOrReplace<T extends { metadata?: { name?: string; resourceVersion?: string } }>(what: string, body: T, api: ObjectApi<T>): Promise<void> {
  const name = body.metadata?.name as string;
  try {
    await api.create(body);
    return;
  } catch (error) {
    if (statusCode(error) !== 409) throw apiError(`create ${what}`, error);
  }
  for (let attempt = 1; ; attempt++) {
    const existing = await api.read(name).catch((error: unknown) => {
      throw apiError(`read ${what}`, error);
    });
    try {
      await api.replace(name, { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } });
      return;
    } catch (error) {
      if (statusCode(error) !== 409 || attempt >= 3) throw apiError(`replace ${what}`, error);
    }
  }
}
