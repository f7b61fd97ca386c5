import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '@flotilla/auth';
import { RolloutActionDto, type Store } from '@flotilla/contracts';
import { Endpoint } from '../http/openapi/endpoint.js';
import { StoreDto } from './dto/store-responses.dto.js';
import { StoresService } from './stores.service.js';

const CONFLICT = '409 when no rollout is running (the store is not updating to a new revision)';

/** Steering a store's running rollout (API.md, Stores): each action is a store event and audited. */
@ApiTags('stores')
@Controller('stores/:id/rollout')
export class StoreRolloutController {
  constructor(private readonly stores: StoresService) {}

  @Post('promote')
  @HttpCode(202)
  @Endpoint({
    id: 'promoteStoreRollout',
    summary: "Promote a store's rollout",
    description: `The step that waits (its pause, timed or indefinite) goes on at once; with \`full: true\` the rollout goes straight to 100%. 404 for an unknown store; ${CONFLICT}.`,
    access: 'user',
    body: true,
    slow: true,
    problems: [403, 404, 409],
  })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, its rollout promoted (taken within a poll of the rollout)' })
  promote(@Param('id') id: string, @Body() body: RolloutActionDto, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.rollout(id, 'promote', body.full ?? false, user);
  }

  @Post('pause')
  @HttpCode(202)
  @Endpoint({
    id: 'pauseStoreRollout',
    summary: "Pause a store's rollout",
    description: `The rollout holds where it is, traffic as it is, past its step's pause, until resumed, promoted or aborted. 404 for an unknown store; ${CONFLICT}.`,
    access: 'user',
    slow: true,
    problems: [403, 404, 409],
  })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, its rollout paused' })
  pause(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.rollout(id, 'pause', false, user);
  }

  @Post('resume')
  @HttpCode(202)
  @Endpoint({
    id: 'resumeStoreRollout',
    summary: "Resume a store's rollout",
    description: `A paused rollout goes on: a step whose pause ended moves to the next. 404 for an unknown store; ${CONFLICT}.`,
    access: 'user',
    slow: true,
    problems: [403, 404, 409],
  })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, its rollout resumed' })
  resume(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.rollout(id, 'resume', false, user);
  }

  @Post('abort')
  @HttpCode(202)
  @Endpoint({
    id: 'abortStoreRollout',
    summary: "Abort a store's rollout",
    description: `All traffic goes back to the stable revision at once and the new revision is removed; the store is then \`degraded\` until a new version is set. 404 for an unknown store; ${CONFLICT}.`,
    access: 'user',
    slow: true,
    problems: [403, 404, 409],
  })
  @ApiAcceptedResponse({ type: StoreDto, description: 'The store, its rollout being aborted (taken within a poll of the rollout)' })
  abort(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<Store> {
    return this.stores.rollout(id, 'abort', false, user);
  }
}
