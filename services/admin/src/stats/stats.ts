import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import {
  ProvisionerAdminRpc,
  StreamGroups,
  Streams,
  UploadAdminRpc,
  ValidatorAdminRpc,
  VotesAdminRpc,
  type AdminStats,
  type RpcActor,
  type RpcService,
} from '@flotilla/contracts';
import { eventsQueueDepth, RabbitConnection, REDIS, RpcClient } from '@flotilla/messaging';
import { DeadLetters } from '../dead-letters/dead-letters.js';
import { RequestLog } from '../requests/request-log.js';

const ASK_MS = 2000;

/**
 * The platform's figures, gathered from their owners over RPC and from the brokers.
 * A part whose owner does not answer is left out and named in `unavailable`, so the
 * console still shows the rest. Users and teams are added by the gateway, which owns them.
 */
@Injectable()
export class Stats implements OnApplicationBootstrap, OnModuleDestroy {
  private inspector?: ChannelWrapper;

  constructor(
    private readonly rpc: RpcClient,
    private readonly connection: RabbitConnection,
    private readonly naming: Naming,
    private readonly requests: RequestLog,
    private readonly deadLetters: DeadLetters,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** A channel for reading queue depths, ready before the first figures are asked for. */
  async onApplicationBootstrap(): Promise<void> {
    this.inspector = this.connection.createChannel({ name: 'stats', confirm: false });
    await this.connection.waitForChannel(this.inspector);
  }

  async onModuleDestroy(): Promise<void> {
    await this.inspector?.close().catch(() => undefined);
  }

  async gather(actor: RpcActor): Promise<AdminStats> {
    const unavailable: string[] = [];
    const ask = <T>(name: string, service: RpcService, pattern: string): Promise<T | undefined> =>
      this.rpc.call<T>(service, pattern, {}, { actor, timeoutMs: ASK_MS }).catch(() => {
        unavailable.push(name);
        return undefined;
      });
    const [datasets, validations, votes, stores, requests, deadLetters, validationQueue, voteStream] = await Promise.all([
      ask<{ byStatus: AdminStats['datasets'] }>('datasets', 'upload', UploadAdminRpc.Counts),
      ask<{ byStatus: AdminStats['validations'] }>('validations', 'validator', ValidatorAdminRpc.Counts),
      ask<AdminStats['votes']>('votes', 'votes', VotesAdminRpc.Counts),
      ask<{ byStatus: AdminStats['stores']; jobs: AdminStats['jobs'] }>('stores', 'provisioner', ProvisionerAdminRpc.Counts),
      this.requests.figures(),
      this.deadLetters.count(),
      this.queueDepth('validator').catch(() => {
        unavailable.push('validation queue');
        return null;
      }),
      this.streamGroup(this.naming.key(Streams.Votes), StreamGroups.VoteProcessors).catch(() => {
        unavailable.push('vote stream');
        return null;
      }),
    ]);
    return {
      generatedAt: new Date().toISOString(),
      users: 0,
      teams: 0,
      datasets: datasets?.byStatus ?? {},
      validations: validations?.byStatus ?? {},
      votes: votes ?? { total: 0, polls: 0 },
      stores: stores?.byStatus ?? {},
      jobs: stores?.jobs ?? {},
      queues: { validation: validationQueue, voteStreamLag: voteStream?.lag ?? null, voteStreamPending: voteStream?.pending ?? null, deadLetters },
      requests,
      unavailable,
    };
  }

  private async queueDepth(service: string): Promise<number | null> {
    if (!this.inspector || !this.connection.isConnected()) return null;
    return eventsQueueDepth(this.inspector, this.naming, service);
  }

  /** XINFO GROUPS: entries not yet delivered to the group, and delivered but not acknowledged. */
  private async streamGroup(stream: string, group: string): Promise<{ lag: number; pending: number } | null> {
    const groups = (await this.redis.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
    for (const flat of groups) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
      if (info.name === group) return { lag: Number(info.lag ?? 0) || 0, pending: Number(info.pending ?? 0) || 0 };
    }
    return null;
  }
}
