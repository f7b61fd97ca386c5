import { BadRequestException, Body, Controller, Get, Headers, Param, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiConsumes, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { stringify } from 'yaml';
import { CurrentUser, type AuthUser } from '@flotilla/auth';
import { STORE_SPEC_API_VERSION, type Store, type StoreSpecChange, type StoreSpecDocument } from '@flotilla/contracts';
import { Endpoint } from '../http/openapi/endpoint.js';
import { YAML_TYPE } from '../http/yaml-body.js';
import { StoreDto } from './dto/store-responses.dto.js';
import { StoresService } from './stores.service.js';

const DOCUMENT = 'A `kind: Store` document (API.md, Stores; schema in libs/contracts/src/store-spec.schema.ts), as JSON or YAML (`Content-Type: application/yaml`).';
const SPEC = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: { apiVersion: { type: 'string', enum: [STORE_SPEC_API_VERSION] }, kind: { type: 'string', enum: ['Store'] }, metadata: { type: 'object' }, spec: { type: 'object' } },
};
const DIFF = {
  type: 'object',
  required: ['diff'],
  properties: {
    diff: {
      type: 'array',
      maxItems: 1000,
      items: { type: 'object', required: ['path', 'from', 'to'], properties: { path: { type: 'string', maxLength: 200, example: 'spec.replicas' }, from: {}, to: {} } },
    },
  },
};

/** A store's desired state as a document (docs/STORE-SPEC.md): read it, compare one with it, apply one. */
@ApiTags('stores')
@Controller('stores/:id/spec')
export class StoreSpecController {
  constructor(private readonly stores: StoresService) {}

  @Get()
  @Endpoint({
    id: 'getStoreSpec',
    summary: "Get a store's spec",
    description: "The store's desired state as a `kind: Store` document: YAML with `Accept: application/yaml`, else JSON. 404 for an unknown store or another team's.",
    access: 'user',
    slow: true,
    problems: [403, 404],
  })
  @ApiOkResponse({
    description: 'The desired state as a `kind: Store` document',
    // The YAML form is the same document as text: no JSON schema describes it.
    content: { 'application/json': { schema: SPEC }, [YAML_TYPE]: {} },
  })
  async get(@Param('id') id: string, @Headers('accept') accept: string | undefined, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) reply: FastifyReply): Promise<StoreSpecDocument | string> {
    const document = await this.stores.spec(id, user);
    if (!wantsYaml(accept)) return document;
    void reply.header('content-type', `${YAML_TYPE}; charset=utf-8`);
    return stringify(document);
  }

  @Put()
  @Endpoint({
    id: 'putStoreSpec',
    summary: "Apply or compare a store's spec",
    description:
      "With `dryRun=true`: 200 and the differences from the store's desired state, nothing changed. Without: 202 and the document applied as PATCH applies a change (new env or probes roll out a new revision). 422 naming every invalid field at once, a `metadata.name` other than the store's, or a changed template; 409 while the store is busy; 404 for an unknown store or another team's.",
    access: 'user',
    body: true,
    slow: true,
    problems: [403, 404, 409, 422],
  })
  @ApiQuery({ name: 'dryRun', required: false, enum: ['true', 'false'] })
  @ApiConsumes('application/json', YAML_TYPE)
  @ApiBody({ schema: { ...SPEC, description: DOCUMENT } })
  @ApiOkResponse({ schema: DIFF, description: 'Dry run: what applying the document would change' })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, updating to the document' })
  async put(
    @Param('id') id: string,
    @Body() body: unknown,
    @Query('dryRun') dryRun: string | undefined,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ diff: StoreSpecChange[] } | Store> {
    if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false') throw new BadRequestException('dryRun must be true or false.');
    const result = await this.stores.putSpec(id, body, dryRun === 'true', user);
    void reply.status(dryRun === 'true' ? 200 : 202);
    return result;
  }
}

function wantsYaml(accept: string | undefined): boolean {
  return /\b(application|text)\/(x-)?yaml\b/i.test(accept ?? '');
}
