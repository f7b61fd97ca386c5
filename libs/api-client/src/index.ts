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
