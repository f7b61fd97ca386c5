import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ValidationEvents, type ValidationCompletedData, type ValidationStartedData } from '@flotilla/contracts';
import { EventConsumer } from '@flotilla/messaging';
import { ValidationVerdicts } from './validation-verdicts.js';

/** Follows the validator: a dataset's status mirrors its latest job, and its files get their content address. */
@Injectable()
export class ValidationEventsConsumer implements OnModuleInit {
  constructor(
    private readonly events: EventConsumer,
    private readonly verdicts: ValidationVerdicts,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.events.subscribe<ValidationStartedData>([ValidationEvents.Started], (e) => this.verdicts.onValidationStarted(e.id, e.data));
    await this.events.subscribe<ValidationCompletedData>([ValidationEvents.Completed], (e) => this.verdicts.onValidationCompleted(e.id, e.data));
  }
}
