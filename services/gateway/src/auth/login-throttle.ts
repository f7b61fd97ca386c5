import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { AuditActions } from '@flotilla/contracts';
import type { GatewayEnv } from '../gateway.env.js';
import type { AuditLog } from '../identity/audit-log.js';
import type { AttemptRefusal, LimitCheck, RateLimiter } from '../rate-limit/rate-limiter.service.js';
import { TooManyRequestsException } from '../rate-limit/too-many-requests.exception.js';

type LoginLimits = Pick<GatewayEnv, 'LOGIN_MAX_FAILURES_PER_ACCOUNT' | 'LOGIN_MAX_FAILURES_PER_IP' | 'LOGIN_THROTTLE_WINDOW_SECONDS'>;

/** A login attempt taken from the account's and the IP's counters, to be settled once the password is checked. */
export interface LoginAttempt {
  /** The password was right: the account's count starts again and the IP gets its attempt back. */
  succeeded(): Promise<void>;
  /** The password could not be checked (a dependency failed): both get their attempt back. Each attempt is settled once. */
  abandoned(): Promise<void>;
}

/**
 * Throttling against password guessing that counts first: {@link take} takes an attempt from
 * the account's and the IP's counters in one atomic Redis step before the password is
 * checked, so concurrent guesses can never get more password checks than the limit.
 *
 * What the counters hold: attempts whose password check failed (or is still running)
 * within the window. A success resets the account's count and gives the IP back its attempt,
 * so an office behind one address is not locked out by its own successful logins; a
 * refused attempt takes nothing (it checked no password).
 *
 * Redis unavailable: login fails closed with 503. Without the counters nothing stops an
 * unlimited guessing run, and logging in is not what must keep working through an outage
 * (issued tokens keep working).
 */
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);

  constructor(
    private readonly limiter: RateLimiter,
    private readonly audit: AuditLog,
    private readonly env: LoginLimits,
  ) {}

  /** Takes an attempt for `email` (lower-cased) from `ip`, or throws 429 (with Retry-After) or 503. */
  async take(email: string, ip: string): Promise<LoginAttempt> {
    const account: LimitCheck = { key: `login:account:${email}`, limit: this.env.LOGIN_MAX_FAILURES_PER_ACCOUNT };
    const fromIp: LimitCheck = { key: `login:ip:${ip}`, limit: this.env.LOGIN_MAX_FAILURES_PER_IP };
    let verdict;
    try {
      verdict = await this.limiter.takeAttempt([account, fromIp], this.env.LOGIN_THROTTLE_WINDOW_SECONDS);
    } catch (error) {
      this.logger.warn({ event: 'login.unthrottled', ip, error: error instanceof Error ? error.message : String(error) });
      throw new ServiceUnavailableException('Logins cannot be checked against guessing right now; try again shortly.');
    }
    if (!verdict.allowed) await this.refused(email, ip, verdict as AttemptRefusal);
    // Settled once: an abandon after a success (the token could not be stored) gives nothing back twice.
    let settled = false;
    const settle = async (...steps: (() => Promise<void>)[]): Promise<void> => {
      if (settled) return;
      settled = true;
      await Promise.all(steps.map((step) => step()));
    };
    return {
      succeeded: () => settle(() => this.limiter.reset(account.key), () => this.limiter.giveBack(fromIp.key)),
      abandoned: () => settle(() => this.limiter.giveBack(account.key), () => this.limiter.giveBack(fromIp.key)),
    };
  }

  /**
   * Audits the refusal aggregated per exhausted counter and window (one entry at the first
   * refusal, then one per flush with the count: not a database write each) and throws 429.
   */
  private async refused(email: string, ip: string, refusal: AttemptRefusal): Promise<never> {
    const scope = refusal.exhausted === 0 ? 'account' : 'ip';
    const first = refusal.refusals === 1;
    if (first) this.logger.warn({ event: 'login.throttled', scope, email, ip });
    await this.audit.recordRefusal(
      scope === 'account' ? `login:account:${email}` : `login:ip:${ip}`,
      {
        action: AuditActions.LoginThrottled,
        outcome: 'failure',
        actorId: null,
        actorEmail: email,
        ip,
        details: { retryAfterSeconds: refusal.retryAfterSeconds, exhausted: scope },
      },
      first,
    );
    throw new TooManyRequestsException(refusal.retryAfterSeconds, 'Too many failed logins; try again later.');
  }
}
