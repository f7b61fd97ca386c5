import { BadRequestException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';

export const YAML_TYPE = 'application/yaml';

/**
 * Bodies sent as YAML (a store spec, `PUT /stores/{id}/spec`) are parsed to the same value a
 * JSON body would give; one document only, no custom tags, so nothing but plain data comes in.
 */
export function acceptYamlBodies(fastify: FastifyInstance): void {
  fastify.addContentTypeParser([YAML_TYPE, 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parse(body as string, { schema: 'core', maxAliasCount: 50 }) as unknown);
    } catch (error) {
      done(new BadRequestException(`The body is not valid YAML: ${(error as Error).message}`), undefined);
    }
  });
}
