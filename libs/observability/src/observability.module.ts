import { Global, Module } from '@nestjs/common';
import { HealthController, HealthRegistry } from './health.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.js';
import { TerminusModule } from '@nestjs/terminus';

/** Health, readiness and metrics endpoints plus the registries modules feed. */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [HealthRegistry, MetricsService],
  exports: [HealthRegistry, MetricsService],
})
export class ObservabilityModule {}
