/**
 * The typed client of the Flotilla REST API. Its types are generated from the gateway's
 * OpenAPI document (libs/api-client/openapi.json) by generate.mjs; see the README.
 */
export { createFlotillaClient, type FlotillaClient, type FlotillaClientOptions } from './client.js';
export { FlotillaApiError, retryAfterMs, type Problem, type ProblemFieldError } from './problem.js';
export type { components, operations, paths } from './generated/schema.js';
import type { components } from './generated/schema.js';

/** The document's named schemas (`Schemas['TokenPairDto']`, …). */
export type Schemas = components['schemas'];

/**
 * What the document says of a body it does not describe yet: an object without
 * properties (openapi-typescript's type for `{ type: object }`).
 */
export type Undescribed = Record<string, never>;

/**
 * A body a caller reads as `T`. Use it as the type of the data a call resolves to
 * (`function read<T>(data: ReadAs<T>)`): the document's type for the body must then be
 * assignable to `T`, so a change of the API that breaks the caller breaks its build,
 * except while the document does not describe the body (no content, or an object
 * without properties), which any `T` accepts.
 */
export type ReadAs<T> = T | Undescribed | undefined;
