import { GatewayTimeoutException, Inject, Injectable, type CallHandler, type NestInterceptor } from '@nestjs/common';
import { ENV } from '@flotilla/config';
import { throwError, timeout, type Observable } from 'rxjs';
import type { GatewayEnv } from '../gateway.env.js';

/** Time for the answer to come back after Postgres would have cancelled the statement itself. */
const MARGIN_MS = 1000;

/**
 * Bounds a route whose work is the gateway's own Postgres queries: 504 problem+json once
 * Postgres has had longer than its own `statement_timeout`. A server that is down is
 * refused at once (503); one that hangs (stopped, partitioned) keeps its open connections
 * and answers nothing, so neither `statement_timeout` (enforced by the frozen server) nor
 * the pool's connect timeout ends the wait: this does. The query itself is left to finish
 * or fail when the server comes back.
 */
@Injectable()
export class DatabaseDeadline implements NestInterceptor {
  private readonly ms: number;

  constructor(@Inject(ENV) env: GatewayEnv) {
    this.ms = env.DATABASE_STATEMENT_TIMEOUT_MS > 0 ? env.DATABASE_STATEMENT_TIMEOUT_MS + MARGIN_MS : 0;
  }

  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    if (this.ms === 0) return next.handle();
    return next.handle().pipe(
      timeout({ first: this.ms, with: () => throwError(() => new GatewayTimeoutException('The database did not answer in time; try again shortly.')) }),
    );
  }
}
