import type { ValidationIssue } from '@flotilla/contracts';
import type { ObjectStorage } from '@flotilla/storage';
import { error } from '../profiles/issues.js';
import { IssueList, profileFor, type FileFacts, type IssueCaps, type ProfileOptions } from '../profiles/index.js';
import { forEachBounded } from './bounded.js';
import type { FileResult, JobRow, JobStore } from './job-store.js';
import { readObject } from './object-reader.js';

/** The dataset was deleted while its job ran: stop quietly, there is nobody to tell. */
export class JobCancelled extends Error {
  override readonly name = 'JobCancelled';
}

/** The job's documents would hold more bytes than its budget: the dataset fails, the validator does not. */
class OverBudget extends Error {
  override readonly name = 'OverBudget';
}

export const reportKey = (datasetId: string, jobId: string): string => `reports/${datasetId}/${jobId}.json`;

export interface JobOutcome {
  status: 'passed' | 'failed';
  issues: ValidationIssue[];
  /** Exact counts; `issues` holds only the capped list. */
  summary: { errors: number; warnings: number };
  files: FileResult[];
  reportKey: string;
}

export interface JobValidationSettings {
  fileConcurrency: number;
  progressIntervalMs: number;
  caps: IssueCaps;
  /** Bytes of documents kept whole, at most, per job. */
  documentBudgetBytes: number;
  profileOptions: Omit<ProfileOptions, 'edition'>;
}

/**
 * Reads the job's files, `fileConcurrency` at a time (each streamed once, so memory stays
 * bounded per file), and applies the profile to them in the job's file order, whatever
 * order the reads finish in. Progress (files finished, bytes read) is written at most once
 * per `progressIntervalMs`, one write at a time: a short job makes no progress write at
 * all, its verdict sets the totals. Issues are capped (see {@link IssueList}), and the
 * documents kept whole for the profile are held to `documentBudgetBytes`: the declared
 * sizes are checked before anything is read, the bytes actually read as they arrive.
 */
export async function validateJob(
  job: JobRow,
  signal: AbortSignal,
  deps: {
    storage: ObjectStorage;
    jobs: JobStore;
    settings: JobValidationSettings;
    /** Told of each progress write once it is committed (for `validation.progress`). */
    onProgress?: (filesChecked: number, bytesChecked: number) => void;
  },
): Promise<JobOutcome> {
  const { storage, jobs, settings } = deps;
  const profile = profileFor(job.profile);
  const issues = new IssueList(settings.caps);
  const wantsBody = job.files.map((file) => profile.wantsBody({ filename: file.filename, contentType: file.contentType, sizeBytes: file.sizeBytes }));
  const declaredDocumentBytes = job.files.reduce((sum, file, i) => sum + (wantsBody[i] ? file.sizeBytes : 0), 0);
  const read: (FileFacts | undefined)[] = new Array<FileFacts | undefined>(job.files.length);
  let filesChecked = 0;
  let bytesChecked = 0;
  let documentBytes = 0;
  let lastReport = performance.now();
  let pending: Promise<void> | undefined;
  let progressError: unknown;
  // Called as bytes arrive and as files finish; a failed write (or a deleted job) ends the reads.
  const progress = (): void => {
    if (progressError) throw progressError;
    if (pending || performance.now() - lastReport < settings.progressIntervalMs) return;
    lastReport = performance.now();
    const counts = [filesChecked, bytesChecked] as const;
    pending = jobs
      .progress(job.id, ...counts)
      .then((held) => {
        if (!held) throw new JobCancelled();
        deps.onProgress?.(...counts);
      })
      .catch((e: unknown) => {
        progressError = e;
      })
      .finally(() => (pending = undefined));
  };
  if (signal.aborted) throw new JobCancelled();
  try {
    if (declaredDocumentBytes > settings.documentBudgetBytes) throw new OverBudget(`declares ${declaredDocumentBytes} bytes of documents`);
    await forEachBounded(
      job.files,
      settings.fileConcurrency,
      async (file, index, stop) => {
        const stream = await storage.getStream(file.key, stop);
        const wantBody = wantsBody[index]!;
        const fact = await readObject(stream, file, {
          wantBody,
          onBytes: (bytes) => {
            bytesChecked += bytes;
            if (wantBody) documentBytes += bytes;
            if (documentBytes > settings.documentBudgetBytes) throw new OverBudget(`holds more than ${settings.documentBudgetBytes} bytes of documents`);
            progress();
          },
        });
        read[index] = profile.summarize(fact);
        filesChecked++;
        progress();
      },
      signal,
    );
  } catch (e) {
    if (!(e instanceof OverBudget)) throw e;
    issues.push(
      error('job_too_large', `The dataset ${e.message}; one validation holds at most ${settings.documentBudgetBytes} bytes of manifests and documents`),
    );
  }
  await pending;
  if (progressError) throw progressError;
  const complete = !issues.hasErrors;
  const facts = complete ? (read as FileFacts[]) : [];
  const options = { ...settings.profileOptions, ...(job.options.edition ? { edition: job.options.edition } : {}) };
  let listed = issues.toArray();
  if (complete && profile.validateInSteps) {
    // Between steps the event loop runs: other jobs, lease renewals, status requests.
    const steps = profile.validateInSteps(facts, options, issues);
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done) {
        listed = step.value;
        break;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new JobCancelled();
    }
  } else if (complete) listed = profile.validate(facts, options, issues);
  const summary = issues.summary;
  const status = summary.errors > 0 ? 'failed' : 'passed';
  const files = facts.map((f) => ({ fileId: f.fileId, filename: f.filename, sha256: f.sha256, md5: f.md5, sizeBytes: f.size }));
  const key = reportKey(job.dataset_id, job.id);
  const body = {
    datasetId: job.dataset_id,
    jobId: job.id,
    profile: job.profile,
    options: job.options,
    status,
    summary,
    files,
    issues: listed,
    generatedAt: new Date().toISOString(),
  };
  await storage.putObject(key, JSON.stringify(body, null, 2), 'application/json');
  return { status, issues: listed, summary, files: files.map(({ fileId, sha256, md5, sizeBytes }) => ({ fileId, sha256, md5, sizeBytes })), reportKey: key };
}
