import { Public } from './public-route.js';
import { Controller, Get, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';

/** Resolves when the dependency answers; rejects with the reason when it does not. */
export type DependencyCheck = () => Promise<unknown>;

const CHECK_TIMEOUT_MS = 2000;

/**
 * Where each module registers the dependencies it cannot work without; readiness
 * asks all of them and names the ones that are down.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, DependencyCheck>();
  private started = false;

  register(name: string, check: DependencyCheck): void {
    this.checks.set(name, check);
  }

  entries(): [string, DependencyCheck][] {
    return [...this.checks.entries()];
  }

  /** Called once the service listens and its consumers run. */
  markStarted(): void {
    this.started = true;
  }

  get isStarted(): boolean {
    return this.started;
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly registry: HealthRegistry,
  ) {}

  /** The process is alive and its event loop turns. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Every dependency answers; 503 names each one that does not. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(
      this.registry.entries().map(([name, check]) => async () => {
        const session = this.indicators.check(name);
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return session.up();
        } catch (error) {
          return session.down({ message: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
  }

  /** 200 once start-up (migrations, connections, consumers) has finished. */
  @Get('startup')
  startup(): { status: 'ok' } {
    if (!this.registry.isStarted) throw new ServiceUnavailableException('starting');
    return { status: 'ok' };
  }
}
