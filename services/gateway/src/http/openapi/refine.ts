import type { OpenAPIObject } from '@nestjs/swagger';
import { problemResponse } from './problems.js';

type Json = Record<string, unknown>;

/**
 * Fastify's `maxParamLength` (its default, which the services keep): a longer path parameter
 * is answered 414 by the router before any route runs.
 */
export const MAX_PATH_PARAM_LENGTH = 100;

/** Methods whose requests Fastify reads a body of. */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/** Path parameters that are row ids (UUIDs); any other value is refused (400) or matches nothing (404). */
const UUID_PARAMS = /^(id|datasetId|fileId)$/;
const NOT_UUID_PATHS = /\/(polls|dead-letters)\//;

/** What the decorators cannot say once for every operation. */
export function refineDocument(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, Json>)) {
      const parameters = (operation.parameters ?? []) as Json[];
      const inPath = parameters.filter((p) => p.in === 'path');
      for (const parameter of inPath) {
        const schema = (parameter.schema ?? {}) as Json;
        if (schema.type === 'string' && schema.maxLength === undefined) schema.maxLength = MAX_PATH_PARAM_LENGTH;
        if (UUID_PARAMS.test(String(parameter.name)) && !NOT_UUID_PATHS.test(path) && schema.format === undefined) schema.format = 'uuid';
        parameter.schema = schema;
      }
      const responses = operation.responses as Json;
      if (inPath.length > 0 && !responses['414']) responses['414'] = problemResponse(414);
      // Fastify parses a body sent with any of these methods, whether the route reads one or not.
      if (BODY_METHODS.has(method)) for (const status of [400, 413, 415] as const) responses[status] ??= problemResponse(status);
      for (const [status, response] of Object.entries(responses)) {
        const r = response as Json;
        // An answer whose shape the decorators do not state yet is still a JSON object.
        if (/^2/.test(status) && status !== '204' && !r.content) r.content = { 'application/json': { schema: { type: 'object', description: 'Described by the operation' } } };
      }
      operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
  // No server of this document is internal: it is the public edge (OWASP API9, inventory).
  for (const server of document.servers ?? []) (server as unknown as Json)['x-internal'] = false;
  walk(document, (schema) => {
    // Integers say their size: int32 when their bounds fit, int64 otherwise (all are safe integers).
    // A UUID or a timestamp is as long as its format allows (ISO 8601 with nanoseconds and an offset: 35).
    if (schema.type === 'string' && schema.maxLength === undefined && schema.format === 'uuid') schema.maxLength = 36;
    if (schema.type === 'string' && schema.maxLength === undefined && schema.format === 'date-time') schema.maxLength = 35;
    if (schema.type === 'integer' && schema.format === undefined) {
      const fits = typeof schema.maximum === 'number' && schema.maximum <= 2 ** 31 - 1 && typeof schema.minimum === 'number' && schema.minimum >= -(2 ** 31);
      schema.format = fits ? 'int32' : 'int64';
    }
  });
}

/** Calls `visit` on every object of the document (schemas among them). */
function walk(value: unknown, visit: (node: Json) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value !== null && typeof value === 'object') {
    visit(value as Json);
    Object.values(value).forEach((v) => walk(v, visit));
  }
}
