import { nifti } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { putFiles, sha256, type LocalFile, type StartBody, type ValidationStatusBody } from '../../e2e/support/datasets.js';
import type { Gateways } from './gateways.js';

/** An x-ray dataset of `volumes` volumes and its manifest, different for each seed. */
export function xrayDataset(seed: number, volumes: number): LocalFile[] {
  const files = Array.from({ length: volumes }, (_, i) => ({ filename: `volume-${i}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 32, seed: seed * 100 + i }) }));
  const rows = files.map((f) => `${f.filename},normal,${sha256(f.content)}`);
  return [...files, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label,sha256\n${rows.join('\n')}\n`) }];
}

/**
 * Datasets sent as a client sends them — start, PUT, complete, then the verdict — through
 * whichever gateway is up. A start that got no answer is started again (the first may
 * exist, unfinished, outside the client's record); complete is idempotent and is repeated
 * until it answers 202. The record: the dataset ids answered 201 and completed with 202.
 */
export class DatasetFlow {
  readonly completed = new Map<string, string>();
  readonly verdicts = new Map<string, ValidationStatusBody>();
  readonly problems: string[] = [];
  startsRetried = 0;
  putsRetried = 0;

  constructor(
    private readonly gateways: Gateways,
    private readonly token: string,
  ) {}

  /** Sends dataset `i` through caller `n`'s gateway and waits for its verdict. */
  async send(n: number, i: number, files: LocalFile[]): Promise<void> {
    let start: StartBody | undefined;
    while (!start) {
      const body = { datasetName: `replicated-${i}`, profile: 'xray', files: files.map((f) => ({ filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length })) };
      const { res } = await this.gateways.request<StartBody>(n, 'POST', '/api/v1/upload/start', { token: this.token, body });
      if (res?.status === 201) start = res.body;
      else if (this.startsRetried++ > 20) throw new Error(`start of dataset ${i} kept failing: ${res?.status} ${JSON.stringify(res?.body)}`);
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // A PUT is idempotent: one whose connection was reset is sent again.
    for (let attempt = 1; ; attempt++) {
      try {
        await putFiles(start, files);
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
        this.putsRetried++;
      }
    }
    const datasetId = start.datasetId;
    const complete = await this.gateways.retry<{ validationJobId: string }>(n, 'POST', '/api/v1/upload/complete', { token: this.token, body: { datasetId } }, (r) => r.status === 202);
    if (complete?.status !== 202) {
      this.problems.push(`complete of ${datasetId}: ${complete?.status} ${JSON.stringify(complete?.body)}`);
      return;
    }
    this.completed.set(datasetId, complete.body.validationJobId);
    const verdict = await waitFor(
      async () => {
        const { res } = await this.gateways.request<ValidationStatusBody>(n, 'GET', `/api/v1/validation/${datasetId}/status`, { token: this.token });
        return res?.status === 200 && ['passed', 'failed', 'error'].includes(res.body.status) ? res.body : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 250, what: `the verdict on ${datasetId}` },
    );
    this.verdicts.set(datasetId, verdict);
  }
}
