import { ConflictException, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ENV } from '@flotilla/config';
import type { Role } from '@flotilla/auth';
import { AuditActions } from '@flotilla/contracts';
import { DataSource, QueryFailedError, type Repository } from 'typeorm';
import type { GatewayEnv } from '../gateway.env.js';
import { AuditLog, type AuditActor } from './audit-log.js';
import { decodeCursor, encodeCursor, type Page } from './cursor.js';
import { hashPassword } from './passwords.js';
import { Team } from './team.entity.js';
import { User } from './user.entity.js';

export interface TeamView {
  id: string;
  name: string;
  createdAt: string;
}

export interface UserView {
  id: string;
  email: string;
  role: Role;
  teamId: string | null;
  /** A disabled user's tokens are refused and it cannot log in. */
  disabled: boolean;
  createdAt: string;
}

const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

function pgCode(error: unknown): string | undefined {
  return error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : undefined;
}

export const toTeamView = (t: Team): TeamView => ({ id: t.id, name: t.name, createdAt: t.createdAt.toISOString() });
export const toUserView = (u: User): UserView => ({
  id: u.id,
  email: u.email,
  role: u.role,
  teamId: u.teamId,
  disabled: u.disabled,
  createdAt: u.createdAt.toISOString(),
});

/**
 * Teams and users of the `identity` schema; seeds the first admin at start. A team or
 * user is created in one transaction with its `audit.*` event. Changing and deleting
 * users: UserAdministration.
 */
@Injectable()
export class IdentityService implements OnApplicationBootstrap {
  private readonly logger = new Logger(IdentityService.name);

  constructor(
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    @Inject(ENV) private readonly env: GatewayEnv,
  ) {}

  /** Creates the admin named by ADMIN_EMAIL unless a user with that email exists. */
  async onApplicationBootstrap(): Promise<void> {
    const email = this.env.ADMIN_EMAIL.toLowerCase();
    if (await this.users.existsBy({ email })) return;
    try {
      await this.users.insert({ email, passwordHash: await hashPassword(this.env.ADMIN_PASSWORD), role: 'admin', teamId: null });
      this.logger.log(`created the first administrator ${email}`);
    } catch (error) {
      // Another gateway instance created it at the same moment.
      if (pgCode(error) !== UNIQUE_VIOLATION) throw error;
    }
  }

  findUserByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email: email.toLowerCase() });
  }

  findUser(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findTeam(id: string): Promise<Team | null> {
    return this.teams.findOneBy({ id });
  }

  async createTeam(name: string, actor: AuditActor): Promise<TeamView> {
    try {
      const team = await this.dataSource.transaction(async (m) => {
        const created = await m.save(m.create(Team, { name }));
        await this.audit.add(m, {
          action: AuditActions.TeamCreated,
          outcome: 'success',
          actorId: actor.id,
          actorEmail: actor.email,
          ip: actor.ip,
          target: `team:${created.id}`,
          details: { name: created.name },
        });
        return created;
      });
      this.audit.flush();
      return toTeamView(team);
    } catch (error) {
      if (pgCode(error) === UNIQUE_VIOLATION) throw new ConflictException(`A team named "${name}" already exists.`);
      throw error;
    }
  }

  async createUser(input: { email: string; password: string; teamId: string | null; role: Role }, actor: AuditActor): Promise<UserView> {
    const email = input.email.toLowerCase();
    if (input.teamId && !(await this.teams.existsBy({ id: input.teamId }))) {
      throw new NotFoundException(`Team ${input.teamId} does not exist.`);
    }
    try {
      const passwordHash = await hashPassword(input.password);
      const user = await this.dataSource.transaction(async (m) => {
        const created = await m.save(m.create(User, { email, passwordHash, role: input.role, teamId: input.teamId }));
        await this.audit.add(m, {
          action: AuditActions.UserCreated,
          outcome: 'success',
          actorId: actor.id,
          actorEmail: actor.email,
          ip: actor.ip,
          target: `user:${created.id}`,
          details: { email: created.email, role: created.role, teamId: created.teamId },
        });
        return created;
      });
      this.audit.flush();
      return toUserView(user);
    } catch (error) {
      const code = pgCode(error);
      if (code === UNIQUE_VIOLATION) throw new ConflictException(`A user with email ${email} already exists.`);
      if (code === FOREIGN_KEY_VIOLATION) throw new NotFoundException(`Team ${input.teamId} does not exist.`);
      throw error;
    }
  }

  listTeams(cursor: string | undefined, limit: number): Promise<Page<TeamView>> {
    return this.page(this.teams, cursor, limit, toTeamView);
  }

  listUsers(cursor: string | undefined, limit: number): Promise<Page<UserView>> {
    return this.page(this.users, cursor, limit, toUserView);
  }

  private async page<E extends { id: string; createdAt: Date }, V>(
    repo: Repository<E>,
    rawCursor: string | undefined,
    limit: number,
    view: (e: E) => V,
  ): Promise<Page<V>> {
    const cursor = decodeCursor(rawCursor);
    const qb = repo.createQueryBuilder('e').orderBy('e.created_at', 'ASC').addOrderBy('e.id', 'ASC').take(limit + 1);
    if (cursor) qb.where('(e.created_at, e.id) > (:at, :id)', { at: cursor.createdAt, id: cursor.id });
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(view), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }
}
