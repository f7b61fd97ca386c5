import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ValidationCompletedData, ValidationStartedData } from '@flotilla/contracts';
import { markEventProcessed } from '@flotilla/messaging';

/** The validator's events as seen by datasets: a dataset's status mirrors its latest job, and its files get their content address. */
@Injectable()
export class ValidationVerdicts {
  constructor(private readonly dataSource: DataSource) {}

  /** `validation.started`: the dataset is being validated (unless it moved on already). */
  async onValidationStarted(eventId: string, data: ValidationStartedData): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!(await markEventProcessed(m, { id: eventId, type: 'validation.started' }))) return;
      await m.query(`UPDATE datasets SET status = 'running', updated_at = clock_timestamp() WHERE id = $1 AND job_id = $2 AND status = 'queued'`, [
        data.datasetId,
        data.jobId,
      ]);
    });
  }

  /** `validation.completed`: the verdict, and the content address of every file. */
  async onValidationCompleted(eventId: string, data: ValidationCompletedData): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!(await markEventProcessed(m, { id: eventId, type: 'validation.completed' }))) return;
      await m.query(`UPDATE datasets SET status = $3, updated_at = clock_timestamp() WHERE id = $1 AND job_id = $2`, [data.datasetId, data.jobId, data.status]);
      if (data.files.length > 0) {
        await m.query(
          `UPDATE dataset_files f SET sha256 = u.sha256, md5 = u.md5
           FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(id, sha256, md5)
           WHERE f.id = u.id AND f.dataset_id = $1`,
          [data.datasetId, data.files.map((f) => f.fileId), data.files.map((f) => f.sha256), data.files.map((f) => f.md5)],
        );
      }
    });
  }
}
