import { Inject, Injectable } from '@nestjs/common';
import { ENV } from '@flotilla/config';
import { AuditActions, RpcError, StoreEventTypes, type AuditEventData, type RolloutAction, type RpcActor, type Store } from '@flotilla/contracts';
import { Outbox } from '@flotilla/messaging';
import type { ProvisionerEnv } from '../provisioner.env.js';
import { StoreRepository, storeView } from './store-repository.js';
import { StoresService } from './stores.service.js';

/** What each action writes in the store's row, for the running rollout to read (see RolloutControl). */
const CHANGES: Record<RolloutAction, (full: boolean) => Record<string, unknown>> = {
  pause: () => ({ rollout_paused: true }),
  resume: () => ({ rollout_paused: false }),
  promote: (full) => ({ rollout_command: full ? 'promote_full' : 'promote' }),
  abort: () => ({ rollout_command: 'abort' }),
};

const SAYS: Record<RolloutAction, (full: boolean) => string> = {
  pause: () => 'paused: the rollout holds where it is, traffic as it is, until resumed',
  resume: () => 'resumed',
  promote: (full) => (full ? 'promoted in full: straight to 100%' : 'promoted: the current step goes on'),
  abort: () => 'abort requested: all traffic back to the stable revision',
};

/**
 * `POST /stores/{id}/rollout/{promote|pause|resume|abort}`: records what the caller asks
 * of the store's running rollout, in the store's row, where the rollout (under the store's
 * lock, on whichever provisioner runs it) reads it within a poll; a store event, a
 * `store.rollout` bus event and an audit entry, in one transaction. 409 when no rollout
 * runs (a store not `updating`, or only scaling).
 */
@Injectable()
export class RolloutActions {
  constructor(
    private readonly stores: StoresService,
    private readonly repo: StoreRepository,
    private readonly outbox: Outbox,
    @Inject(ENV) private readonly env: ProvisionerEnv,
  ) {}

  async act(storeId: string, action: RolloutAction, full: boolean, actor: RpcActor): Promise<Store> {
    const row = await this.stores.findScoped(storeId, actor);
    const message = `rollout ${SAYS[action](full)} (by ${actor.userId})`;
    const updated = await this.repo.dataSource.transaction(async (m) => {
      const [[next]] = (await m.query(
        `UPDATE stores SET ${Object.keys(CHANGES[action](full)).map((column, i) => `${column} = $${i + 2}`).join(', ')}
         WHERE id = $1 AND status = 'updating' AND rollout_state IS NOT NULL RETURNING *`,
        [row.id, ...Object.values(CHANGES[action](full))],
      )) as [(typeof row)[], number];
      if (!next) return undefined;
      await this.repo.log(row.id, 'rollout', message, m);
      await this.repo.publish(m, StoreEventTypes.RolloutControl, next, message, actor.userId);
      const audit: AuditEventData = {
        action: AuditActions.RolloutControlled,
        outcome: 'success',
        actorId: actor.userId,
        target: `store:${row.id}`,
        details: { name: row.name, teamId: row.team_id, action, ...(action === 'promote' ? { full } : {}), revision: row.revision },
      };
      await this.outbox.add(m, `audit.${AuditActions.RolloutControlled}`, audit);
      return next;
    });
    if (!updated) throw new RpcError('CONFLICT', `Store ${row.name} has no rollout running (it is ${row.status}); there is nothing to ${action}.`);
    this.outbox.flush();
    return storeView(updated, this.env);
  }
}
