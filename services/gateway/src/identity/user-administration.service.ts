import { BadRequestException, ConflictException, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import type { Role } from '@flotilla/auth';
import { AuditActions } from '@flotilla/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditLog, type AuditActor } from './audit-log.js';
import { toUserView, type UserView } from './identity.service.js';
import { hashPassword } from './passwords.js';
import { Team } from './team.entity.js';
import { raiseTokenVersion, TokenVersions } from './token-versions.js';
import { User } from './user.entity.js';

/** What an administrator may change of a user; absent fields stay as they are. */
export interface UserPatch {
  role?: Role;
  /** null: no team (admins only). */
  teamId?: string | null;
  disabled?: boolean;
  password?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = (id: string): NotFoundException => new NotFoundException(`User ${id} does not exist.`);

/**
 * Changing and deleting users (admin routes). Each change is one transaction with its
 * audit entry, raises the user's token version (so every access token issued before
 * stops working within seconds on every gateway instance; see TokenVersions) and never
 * leaves the platform without an active administrator (409).
 */
@Injectable()
export class UserAdministration {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    private readonly versions: TokenVersions,
  ) {}

  async update(id: string, patch: UserPatch, actor: AuditActor): Promise<UserView> {
    const changed = (Object.keys(patch) as Array<keyof UserPatch>).filter((k) => patch[k] !== undefined && (patch[k] !== null || k === 'teamId'));
    if (changed.length === 0) throw new BadRequestException('Nothing to change: give role, teamId, disabled or password.');
    if (!UUID.test(id)) throw notFound(id);
    const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    const { user, version } = await this.dataSource.transaction(async (m) => {
      if (patch.role === 'member' || patch.disabled === true) await this.lockActiveAdmins(m);
      const current = await m.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw notFound(id);
      const next = {
        role: patch.role ?? current.role,
        teamId: patch.teamId === undefined ? current.teamId : patch.teamId,
        disabled: patch.disabled ?? current.disabled,
      };
      if (next.role === 'member' && !next.teamId) throw new UnprocessableEntityException('A member needs a team: give teamId.');
      if (next.teamId && next.teamId !== current.teamId && !(await m.existsBy(Team, { id: next.teamId }))) throw new NotFoundException(`Team ${next.teamId} does not exist.`);
      if (isActiveAdmin(current) && !isActiveAdmin(next)) await this.keepAnotherAdmin(m, id);
      await m.update(User, { id }, { ...next, ...(passwordHash === undefined ? {} : { passwordHash }) });
      const raised = (await raiseTokenVersion(m, id))!;
      await this.audit.add(m, {
        action: AuditActions.UserUpdated,
        outcome: 'success',
        actorId: actor.id,
        actorEmail: actor.email,
        ip: actor.ip,
        target: `user:${id}`,
        details: { changed, email: current.email, ...next },
      });
      return { user: { ...current, ...next }, version: raised };
    });
    this.audit.flush();
    await this.versions.publish(id, version);
    return toUserView(user);
  }

  /** Deletes the user and its refresh tokens; its audit history stays (entries name it by id and email). */
  async remove(id: string, actor: AuditActor): Promise<void> {
    if (!UUID.test(id)) throw notFound(id);
    const version = await this.dataSource.transaction(async (m) => {
      await this.lockActiveAdmins(m);
      const current = await m.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw notFound(id);
      if (isActiveAdmin(current)) await this.keepAnotherAdmin(m, id);
      // Refresh tokens go with the user (ON DELETE CASCADE).
      await m.delete(User, { id });
      await this.audit.add(m, {
        action: AuditActions.UserDeleted,
        outcome: 'success',
        actorId: actor.id,
        actorEmail: actor.email,
        ip: actor.ip,
        target: `user:${id}`,
        details: { email: current.email, role: current.role, teamId: current.teamId },
      });
      return current.tokenVersion + 1;
    });
    this.audit.flush();
    await this.versions.publish(id, version);
  }

  /**
   * Serialises the changes that could remove an active admin (one transaction-scoped
   * advisory lock per schema, taken before any row lock): two admins demoting each other
   * at once then run one after the other, the second seeing the first's change and
   * getting 409. Row locks taken in id order instead still deadlocked under concurrent
   * disables (the target's lock comes after the admins').
   */
  private async lockActiveAdmins(m: EntityManager): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':active-admins'))`);
  }

  private async keepAnotherAdmin(m: EntityManager, id: string): Promise<void> {
    const others = (await m.query(`SELECT 1 FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1 LIMIT 1`, [id])) as unknown[];
    if (others.length === 0) throw new ConflictException('This is the last active administrator: make another user an administrator first.');
  }
}

function isActiveAdmin(user: { role: Role; disabled: boolean }): boolean {
  return user.role === 'admin' && !user.disabled;
}
