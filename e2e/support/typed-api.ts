/**
 * The e2e tests' typed client: `@flotilla/api-client` (paths, parameters and bodies typed
 * from the OpenAPI document), with refusals left as answers so a test can check them.
 */
import { createFlotillaClient, type FlotillaClient, type ReadAs } from '@flotilla/api-client';

/** A client of the gateway at `baseUrl`, signed in with `token` when given. */
export function typedApi(baseUrl: string, token?: string): FlotillaClient {
  return createFlotillaClient({ baseUrl, ...(token ? { token } : {}), throwOnError: false });
}

/** What a typed call resolves to, with `throwOnError: false`. */
export interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The body of an answer that must have `status` (any 2xx when left out), as the test
 * reads it: the document's type for the answer must be assignable to `T` (ReadAs), so an
 * API change that breaks the test breaks its compilation. Throws with the status and body otherwise.
 */
export async function expectBody<T>(pending: Promise<Answer<ReadAs<T>>>, status?: number): Promise<T> {
  const { data, error, response } = await pending;
  if (status === undefined ? !response.ok : response.status !== status) {
    throw new Error(`${response.url} answered ${response.status}, not ${status ?? '2xx'}: ${JSON.stringify(error ?? data)}`);
  }
  return data as T;
}

/** The status of an answer, for the tests of refusals. */
export async function statusOf(pending: Promise<Answer<unknown>>): Promise<number> {
  return (await pending).response.status;
}
