import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { EventConsumer, Outbox } from '@flotilla/messaging';
import { MetricsService } from '@flotilla/observability';
import { AdminRpc } from './admin.rpc.js';
import { DatasetEventsConsumer } from './dataset-events.consumer.js';
import { JobQueries } from './job-queries.js';
import { JobStore } from './job-store.js';
import { ReportRpc } from './report.rpc.js';
import { StatusRpc } from './status.rpc.js';
import { StatusSnapshots } from './status-snapshots.js';
import { ValidationRunner } from './validation-runner.js';

/** `validation_queue_length`: datasets waiting in the validator's queue, read from the broker at scrape time. */
@Injectable()
class QueueLengthMetric implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly events: EventConsumer,
  ) {}

  onModuleInit(): void {
    const events = this.events;
    this.metrics.gauge({
      name: 'validation_queue_length',
      help: 'Events waiting in the validator queue (uploaded datasets not yet taken by a worker)',
      async collect() {
        const depth = await events.depth();
        if (depth) this.set(depth.messages);
      },
    });
  }
}

@Module({
  providers: [Outbox, JobStore, JobQueries, ValidationRunner, DatasetEventsConsumer, StatusRpc, ReportRpc, StatusSnapshots, AdminRpc, QueueLengthMetric],
})
export class JobsModule {}
