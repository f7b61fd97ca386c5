import { describe, expect, it } from '@jest/globals';
import type { ValidationStatus } from './datasets.js';
import { decodeStatusSnapshot, encodeStatusSnapshot, STATUS_SNAPSHOT_DELETED } from './status-snapshots.js';

describe('status snapshots', () => {
  const status = {
    datasetId: 'd1',
    jobId: 'j1',
    status: 'passed',
    progress: { filesTotal: 1, filesChecked: 1, bytesTotal: 10, bytesChecked: 10, percent: 100 },
    queuedAt: '2026-01-01T00:00:00.000Z',
    summary: { errors: 0, warnings: 1 },
    issues: [{ severity: 'warning', code: 'x', message: 'a\nmessage over two lines' }],
    reportUrl: 'http://s3/report?X-Amz-Signature=abc',
  } as ValidationStatus;

  it('decodes what it encodes, the status JSON as JSON.stringify writes it', () => {
    const decoded = decodeStatusSnapshot(encodeStatusSnapshot({ teamId: 't1', version: 'j1.7', status }));
    expect(decoded).toEqual({ teamId: 't1', version: 'j1.7', jobStatus: 'passed', statusJson: JSON.stringify(status) });
    expect(JSON.parse(decoded!.statusJson)).toEqual(status);
  });

  it('decodes a deletion marker or garbage as nothing', () => {
    expect(decodeStatusSnapshot(STATUS_SNAPSHOT_DELETED)).toBeUndefined();
    expect(decodeStatusSnapshot('t1\nj1.7\npassed')).toBeUndefined();
  });
});
