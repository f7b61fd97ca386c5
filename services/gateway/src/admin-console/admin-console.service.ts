import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AdminRpc, type AdminStats } from '@flotilla/contracts';
import { RpcClient } from '@flotilla/messaging';
import type { AuthUser } from '@flotilla/auth';
import { actorOf } from '../datasets/datasets.service.js';
import { Team } from '../identity/team.entity.js';
import { User } from '../identity/user.entity.js';

/** The admin API: answered by the `admin` service over RPC; users and teams are the gateway's own. */
@Injectable()
export class AdminConsoleService {
  constructor(
    private readonly rpc: RpcClient,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Team) private readonly teams: Repository<Team>,
  ) {}

  call<T>(pattern: string, payload: unknown, user: AuthUser): Promise<T> {
    return this.rpc.call<T>('admin', pattern, payload, { actor: actorOf(user), timeoutMs: 15_000 });
  }

  async stats(user: AuthUser): Promise<AdminStats> {
    const [stats, users, teams] = await Promise.all([this.call<AdminStats>(AdminRpc.Stats, {}, user), this.users.count(), this.teams.count()]);
    return { ...stats, users, teams };
  }
}
