import { afterEach, describe, expect, it } from '@jest/globals';
import type { ValidationIssue } from '@flotilla/contracts';
import { INTERRUPTED, run } from './cli.js';
import { FakeApi, type FakeApiOptions } from './test/fake-api.js';
import { Capture, makeFolder, noise, removeFolder } from './test/folders.js';

const issues: ValidationIssue[] = [
  { severity: 'warning', code: 'xray.dicom.missing-tag', file: 'scan-001.dcm', path: '(0010,0040)', message: 'PatientSex is missing' },
  { severity: 'error', code: 'xray.labels.unknown-file', file: 'labels.csv', path: 'row 3', message: 'names scan-404.dcm, which is not in the dataset' },
];

describe('flotilla (run)', () => {
  let api: FakeApi | undefined;
  let folder: string | undefined;
  afterEach(async () => {
    await api?.close();
    if (folder) await removeFolder(folder);
    if (folder) await removeFolder(`${folder}-state`);
    api = undefined;
    folder = undefined;
  });

  async function flotilla(args: string[], options: FakeApiOptions & { tty?: boolean; signal?: AbortSignal } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    folder ??= await makeFolder({ 'labels.csv': noise(1000), 'scan-001.dcm': noise(80_000) });
    api ??= await FakeApi.start(options);
    const stdout = new Capture();
    stdout.isTTY = options.tty ?? false;
    const stderr = new Capture();
    const argv = args.map((a) => a.replace('$FOLDER', folder!).replace('$API', api!.url));
    // The state of an interrupted upload goes beside the folder, not into the user's own state directory.
    const env = { FLOTILLA_API: api.url, FLOTILLA_EMAIL: 'ada@example.com', FLOTILLA_PASSWORD: 'correct horse battery', XDG_STATE_HOME: `${folder}-state` };
    const code = await run(argv, { stdout, stderr, env, ...(options.signal ? { signal: options.signal } : {}) });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('exits 0 on passed, with line-by-line progress when stdout is not a terminal', async () => {
    const { code, stdout, stderr } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--name', 'batch-7']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Found 2 files (79.1 KiB)');
    expect(lines).toContain('Hashed 2 files (SHA-256)');
    expect(lines).toContain(`Dataset ${api!.datasetId}: uploading 2 files (79.1 KiB, 1 in parts)`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^Uploaded 79\\.1 KiB in \\d+s \\([\\d.]+ \\w+/s\\); validation job ${api!.jobId} is queued$`)));
    expect(lines).toContain('Validation running: 40% (1/2 files, 31.6 KiB of 79.1 KiB)');
    expect(lines).toContain('Validation passed: 100% (2/2 files, 79.1 KiB of 79.1 KiB)');
    expect(lines[lines.length - 1]).toBe(`PASSED: Dataset "batch-7" (${api!.datasetId}) — 0 errors, 0 warnings`);
  });

  it('exits 1 on failed, with the table of issues, errors first', async () => {
    const { code, stdout } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--name', 'batch-7'], { verdict: 'failed', issues });
    expect(code).toBe(1);
    const verdict = stdout.slice(stdout.indexOf('FAILED'));
    expect(verdict).toBe(
      [
        `FAILED: Dataset "batch-7" (${api!.datasetId}) — 1 error, 1 warning`,
        '',
        'SEVERITY  CODE                      FILE          PATH         MESSAGE',
        'error     xray.labels.unknown-file  labels.csv    row 3        names scan-404.dcm, which is not in the dataset',
        'warning   xray.dicom.missing-tag    scan-001.dcm  (0010,0040)  PatientSex is missing',
        '',
      ].join('\n'),
    );
  });

  it('exits 4 on error (the dataset could not be judged, unlike failed), with the reason', async () => {
    const { code, stdout } = await flotilla(['upload', '$FOLDER', '--profile', 'xray'], { verdict: 'error' });
    expect(code).toBe(4);
    expect(stdout).toMatch(/ERROR: Dataset "flotilla-cli-\w+" \(.*\) could not be validated\nReason: The validator could not read the objects\.\n$/);
  });

  it('status shows the status as it is (exit 0); wait waits for the verdict and exits with its code', async () => {
    api = await FakeApi.start({ verdict: 'error' });
    const status = await flotilla(['status', api.datasetId]);
    expect({ code: status.code, stdout: status.stdout }).toEqual({ code: 0, stdout: 'running (40%)\n' });
    const waited = await flotilla(['wait', api.datasetId, '--json']);
    expect({ code: waited.code, status: (JSON.parse(waited.stdout) as { status: string }).status }).toEqual({ code: 4, status: 'error' });
  });

  it('exits 2 on bad arguments and on a folder that cannot be uploaded', async () => {
    let result = await flotilla(['upload', '$FOLDER', '--profile', 'ct']);
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'flotilla: Unknown profile "ct"; use xray or teams-json.\nRun "flotilla --help" for usage.\n' });
    result = await flotilla(['upload', '$FOLDER', '--profile', 'teams-json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot be uploaded as it is:\n {2}- labels\.csv: text\/csv is not accepted by the teams-json profile/);
    expect(api!.logins).toEqual([]);
  });

  it('prints the usage on --help', async () => {
    const { code, stdout } = await flotilla(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: flotilla upload <folder>/);
  });

  it('exits 3 with the problem+json title and detail of an error response', async () => {
    const { code, stderr } = await flotilla(['upload', '$FOLDER', '--profile', 'xray'], {
      startProblem: { status: 422, title: 'Unprocessable Entity', detail: 'scan-001.dcm is over the size limit.' },
    });
    expect(code).toBe(3);
    expect(stderr).toBe('flotilla: POST /api/v1/upload/start answered 422: Unprocessable Entity — scan-001.dcm is over the size limit.\n');
  });

  it('exits 3 on a wrong password', async () => {
    const { code, stderr } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--password', 'wrong']);
    expect(code).toBe(3);
    expect(stderr).toBe(
      'flotilla: warning: --password is deprecated: the password shows in the process list and shell history. Leave it out to be asked for it, or set FLOTILLA_PASSWORD.\n' +
        'flotilla: POST /api/v1/auth/login answered 401: Unauthorized — Wrong email or password.\n',
    );
  });

  it('exits 3 when the API cannot be reached', async () => {
    const closed = await FakeApi.start();
    const url = closed.url;
    await closed.close();
    const { code, stderr } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--api', url]);
    expect(code).toBe(3);
    expect(stderr).toBe(`flotilla: Cannot reach ${url}/api/v1/auth/login: connect ECONNREFUSED ${url.slice('http://'.length)}\n`);
  });

  it('with --json prints only the final status on stdout, progress on stderr', async () => {
    const { code, stdout, stderr } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--json'], { verdict: 'failed', issues });
    expect(code).toBe(1);
    const status = JSON.parse(stdout) as { status: string; issues: unknown[] };
    expect(status.status).toBe('failed');
    expect(status.issues).toEqual(issues);
    expect(stderr).toMatch(/^Found 2 files/);
  });

  it('with --json prints an error as JSON too', async () => {
    const { code, stdout } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--json'], { startProblem: { status: 422, title: 'Unprocessable Entity' } });
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ error: { kind: 'ApiError', status: 422, problem: { title: 'Unprocessable Entity' } } });
  });

  it('with --no-wait exits 0 once validation is queued', async () => {
    const { code, stdout } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--name', 'b', '--no-wait'], { verdict: 'failed' });
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n').pop()).toBe(`Dataset "b" (${api!.datasetId}) is uploaded; validation job ${api!.jobId} is running.`);
    expect(api!.statusRequests).toHaveLength(1);
  });

  it('draws progress bars on a terminal', async () => {
    const { code, stdout } = await flotilla(['upload', '$FOLDER', '--profile', 'xray', '--name', 'batch-7'], { tty: true });
    expect(code).toBe(0);
    expect(stdout).toMatch(/Hashing {4}\[█{30}\] 100% \| 2 files/);
    expect(stdout).toMatch(/Uploading {2}\[█+\] 100% \| 79\.1 KiB \| [\d.]+ [KMG]?i?B\/s \| in \d+s \| 2 files/);
    expect(stdout).toMatch(/Validating \[█{30}\] 100% \| passed \| 2\/2 files/);
    expect(stdout).toMatch(/PASSED: Dataset "batch-7"/);
  });

  it('stops when interrupted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { code, stderr } = await flotilla(['upload', '$FOLDER', '--profile', 'xray'], { signal: controller.signal });
    expect(code).toBe(INTERRUPTED);
    expect(stderr).toBe('flotilla: interrupted\n');
  });
});
