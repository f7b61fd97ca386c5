import cliProgress from 'cli-progress';
import type { CompleteUploadResponse, ValidationStatus } from '@flotilla/contracts';
import { RateMeter, formatBytes, formatDuration } from './format.js';
import type { FolderListing, LocalFile } from './scan.js';
import type { RetryNotice, UploadProgress } from './uploader.js';

/**
 * What `uploadDataset` tells about its progress. Every method is optional; `close` is
 * called last, whether the upload succeeded or not.
 */
export interface Reporter {
  listed?(listing: FolderListing & { bytesTotal: number }): void;
  hashProgress?(bytesDone: number, bytesTotal: number): void;
  hashed?(files: LocalFile[]): void;
  uploadStarted?(info: { datasetId: string; filesTotal: number; bytesTotal: number; multipartFiles: number }): void;
  uploadProgress?(progress: UploadProgress): void;
  fileUploaded?(filename: string, progress: UploadProgress): void;
  retry?(notice: RetryNotice): void;
  /** An interrupted upload of this dataset goes on: only what the store does not hold is sent. */
  resumed?(datasetId: string): void;
  /** Upload URLs expired: new ones were asked for what is still missing. */
  resigned?(): void;
  /** The upload is complete and validation is queued. */
  completed?(response: CompleteUploadResponse): void;
  /** A validation status that differs from the one before. */
  validationStatus?(status: ValidationStatus): void;
  close?(): void;
}

interface Output {
  write(text: string): unknown;
}

const retryLine = (n: RetryNotice): string =>
  `Retrying ${n.filename}${n.partNumber === undefined ? '' : ` part ${n.partNumber}`} in ${(n.delayMs / 1000).toFixed(1)}s ` +
  `(try ${n.attempt} of ${n.retries + 1} failed: ${n.reason})`;

const statusLine = (s: ValidationStatus): string =>
  `Validation ${s.status}: ${Math.round(s.progress.percent)}% (${s.progress.filesChecked}/${s.progress.filesTotal} files, ` +
  `${formatBytes(s.progress.bytesChecked)} of ${formatBytes(s.progress.bytesTotal)})`;

const listedLine = (l: FolderListing & { bytesTotal: number }): string => {
  const skipped = l.skipped.length > 0 ? `; left out: ${l.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '';
  return `Found ${l.files.length} file${l.files.length === 1 ? '' : 's'} (${formatBytes(l.bytesTotal)})${skipped}`;
};

/**
 * Progress as lines of text, for logs and pipes: a line per step, the upload every 10%,
 * the validation on each change.
 */
export class LineReporter implements Reporter {
  private readonly meter = new RateMeter();
  private lastDecile = -1;
  private startedAt = 0;
  private bytesTotal = 0;

  constructor(private readonly out: Output) {}

  listed(listing: FolderListing & { bytesTotal: number }): void {
    this.line(listedLine(listing));
  }

  hashed(files: LocalFile[]): void {
    this.line(`Hashed ${files.length} file${files.length === 1 ? '' : 's'} (SHA-256)`);
  }

  resumed(datasetId: string): void {
    this.line(`Resuming the upload of dataset ${datasetId}`);
  }

  resigned(): void {
    this.line('Upload URLs expired; signed again for what is missing');
  }

  uploadStarted(info: { datasetId: string; filesTotal: number; bytesTotal: number; multipartFiles: number }): void {
    this.startedAt = Date.now();
    this.bytesTotal = info.bytesTotal;
    const multipart = info.multipartFiles > 0 ? `, ${info.multipartFiles} in parts` : '';
    this.line(`Dataset ${info.datasetId}: uploading ${info.filesTotal} files (${formatBytes(info.bytesTotal)}${multipart})`);
  }

  uploadProgress(p: UploadProgress): void {
    this.meter.sample(p.bytesDone);
    const decile = p.bytesTotal === 0 ? 10 : Math.floor((p.bytesDone / p.bytesTotal) * 10);
    if (decile <= this.lastDecile || decile >= 10) return; // 100% is told by `completed`
    this.lastDecile = decile;
    if (decile === 0) return;
    const rate = this.meter.rate();
    this.line(
      `Uploaded ${decile * 10}% (${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}, ${p.filesDone}/${p.filesTotal} files)` +
        (rate === undefined ? '' : ` at ${formatBytes(rate)}/s, ETA ${formatDuration(this.meter.eta(p.bytesTotal))}`),
    );
  }

  retry(notice: RetryNotice): void {
    this.line(retryLine(notice));
  }

  completed(response: CompleteUploadResponse): void {
    let took = '';
    if (this.startedAt) {
      const seconds = Math.max(0.001, (Date.now() - this.startedAt) / 1000);
      took = ` ${formatBytes(this.bytesTotal)} in ${formatDuration(seconds)} (${formatBytes(this.bytesTotal / seconds)}/s)`;
    }
    this.line(`Uploaded${took}; validation job ${response.validationJobId} is ${response.status}`);
  }

  validationStatus(status: ValidationStatus): void {
    this.line(statusLine(status));
  }

  private line(text: string): void {
    this.out.write(`${text}\n`);
  }
}

const MIN_BAR = 10;
const MAX_BAR = 30;

interface BarPayload {
  label: string;
  /** Details after the percentage, most important first; the last ones are left out when the terminal is narrow. */
  parts: string[];
}

/** `Label [bar] 42% | part | part`, fitted to the terminal's width (cli-progress does not wrap lines). */
export function fitBarLine(options: cliProgress.Options, params: cliProgress.Params, payload: BarPayload): string {
  const width = Math.max(MIN_BAR + 20, params.maxWidth - 1);
  const percent = `${Math.floor(Math.max(0, Math.min(1, params.progress)) * 100)}%`.padStart(4);
  const parts = payload.parts ?? [];
  const without = (kept: number): number => payload.label.length + 4 + percent.length + parts.slice(0, kept).reduce((sum, p) => sum + 3 + p.length, 0);
  let kept = parts.length;
  while (kept > 0 && without(kept) + MIN_BAR > width) kept--;
  const barsize = Math.max(MIN_BAR, Math.min(options.barsize ?? MAX_BAR, width - without(kept)));
  const bar = cliProgress.Format.BarFormat(params.progress, { ...options, barsize });
  return `${payload.label} [${bar}] ${percent}${parts.slice(0, kept).map((p) => ` | ${p}`).join('')}`;
}

/** Progress bars for a terminal: hashing, uploading (bytes, speed, ETA), validating. */
export class BarReporter implements Reporter {
  private readonly bars: cliProgress.MultiBar;
  private readonly meter = new RateMeter();
  private hashBar: cliProgress.SingleBar | undefined;
  private uploadBar: cliProgress.SingleBar | undefined;
  private validateBar: cliProgress.SingleBar | undefined;
  private upload: { startedAt: number; bytesTotal: number; filesTotal: number } | undefined;
  private closed = false;

  constructor(stream: NodeJS.WritableStream) {
    this.bars = new cliProgress.MultiBar(
      {
        stream,
        format: fitBarLine,
        barsize: MAX_BAR,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        // Lines logged above the bars push them down: every bar is drawn again each time.
        forceRedraw: true,
        fps: 10,
        gracefulExit: false,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  listed(listing: FolderListing & { bytesTotal: number }): void {
    this.bars.log(`${listedLine(listing)}\n`);
    this.hashBar = this.bars.create(Math.max(1, listing.bytesTotal), 0, { label: 'Hashing   ', parts: [] } satisfies BarPayload);
  }

  hashProgress(bytesDone: number, bytesTotal: number): void {
    this.hashBar?.update(bytesDone, { parts: [`${formatBytes(bytesDone)}/${formatBytes(bytesTotal)}`] });
  }

  hashed(files: LocalFile[]): void {
    this.hashBar?.update(this.hashBar.getTotal(), { parts: [`${files.length} file${files.length === 1 ? '' : 's'}`] });
  }

  resumed(datasetId: string): void {
    this.bars.log(`Resuming the upload of dataset ${datasetId}\n`);
  }

  resigned(): void {
    this.bars.log('Upload URLs expired; signed again for what is missing\n');
  }

  uploadStarted(info: { datasetId: string; filesTotal: number; bytesTotal: number; multipartFiles: number }): void {
    this.bars.log(`Dataset ${info.datasetId}\n`);
    this.upload = { startedAt: Date.now(), bytesTotal: info.bytesTotal, filesTotal: info.filesTotal };
    this.uploadBar = this.bars.create(Math.max(1, info.bytesTotal), 0, { label: 'Uploading ', parts: [] } satisfies BarPayload);
  }

  uploadProgress(p: UploadProgress): void {
    this.meter.sample(p.bytesDone);
    const rate = this.meter.rate();
    this.uploadBar?.update(p.bytesDone, {
      parts: [
        `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}`,
        rate === undefined ? '--/s' : `${formatBytes(rate)}/s`,
        `ETA ${formatDuration(this.meter.eta(p.bytesTotal))}`,
        `${p.filesDone}/${p.filesTotal} files`,
      ],
    });
  }

  fileUploaded(_filename: string, p: UploadProgress): void {
    this.uploadProgress(p);
  }

  retry(notice: RetryNotice): void {
    this.bars.log(`${retryLine(notice)}\n`);
  }

  completed(response: CompleteUploadResponse): void {
    if (this.upload && this.uploadBar) {
      const { startedAt, bytesTotal, filesTotal } = this.upload;
      const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
      this.uploadBar.update(this.uploadBar.getTotal(), {
        parts: [formatBytes(bytesTotal), `${formatBytes(bytesTotal / seconds)}/s`, `in ${formatDuration(seconds)}`, `${filesTotal} files`],
      });
    }
    this.validateBar = this.bars.create(100, 0, { label: 'Validating', parts: [response.status] } satisfies BarPayload);
  }

  validationStatus(s: ValidationStatus): void {
    this.validateBar ??= this.bars.create(100, 0, { label: 'Validating', parts: [] } satisfies BarPayload);
    this.validateBar.update(Math.max(0, Math.min(100, s.progress.percent)), {
      parts: [s.status, `${s.progress.filesChecked}/${s.progress.filesTotal} files`],
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bars.stop();
  }
}
