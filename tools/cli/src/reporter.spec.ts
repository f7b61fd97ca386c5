import { describe, expect, it } from '@jest/globals';
import cliProgress from 'cli-progress';
import { LineReporter, fitBarLine } from './reporter.js';
import { Capture } from './test/folders.js';

describe('fitBarLine', () => {
  const options: cliProgress.Options = { barsize: 30, barCompleteString: '#'.repeat(30), barIncompleteString: '.'.repeat(30), barGlue: '' };
  const params = (maxWidth: number): cliProgress.Params => ({ progress: 0.5, eta: 0, startTime: 0, stopTime: null, total: 100, value: 50, maxWidth });
  const payload = { label: 'Uploading ', parts: ['1.0 MiB/2.0 MiB', '1.0 MiB/s', 'ETA 1s', '3/9 files'] };

  it('shows everything on a wide terminal', () => {
    expect(fitBarLine(options, params(200), payload)).toBe(`Uploading  [${'#'.repeat(15)}${'.'.repeat(15)}]  50% | 1.0 MiB/2.0 MiB | 1.0 MiB/s | ETA 1s | 3/9 files`);
  });

  it('narrows the bar, then leaves out the last details, to stay on one line', () => {
    for (const width of [100, 80, 60, 40]) {
      const line = fitBarLine(options, params(width), payload);
      expect(line.length).toBeLessThan(width);
      expect(line).toMatch(/^Uploading {2}\[#{5,}\.{5,}\] {2}50%/);
    }
    expect(fitBarLine(options, params(60), payload)).toBe('Uploading  [######.....]  50% | 1.0 MiB/2.0 MiB | 1.0 MiB/s');
  });
});

describe('LineReporter', () => {
  it('tells the upload every 10%, retries, and each new validation status', () => {
    const out = new Capture();
    const reporter = new LineReporter(out);
    reporter.uploadStarted({ datasetId: 'd1', filesTotal: 2, bytesTotal: 1000, multipartFiles: 0 });
    for (const done of [50, 120, 150, 480, 1000]) reporter.uploadProgress({ bytesDone: done, bytesTotal: 1000, filesDone: done === 1000 ? 2 : 0, filesTotal: 2 });
    reporter.retry({ filename: 'a.png', attempt: 1, retries: 3, delayMs: 500, reason: '503 SlowDown' });
    expect(out.text.split('\n').map((l) => l.replace(/ at .*$/, ''))).toEqual([
      'Dataset d1: uploading 2 files (1000 B)',
      'Uploaded 10% (120 B of 1000 B, 0/2 files)',
      'Uploaded 40% (480 B of 1000 B, 0/2 files)',
      'Retrying a.png in 0.5s (try 1 of 4 failed: 503 SlowDown)',
      '',
    ]);
  });
});
