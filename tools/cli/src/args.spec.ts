import { describe, expect, it } from '@jest/globals';
import { DEFAULT_API, USAGE, parseCommand } from './args.js';
import { UsageError } from './errors.js';

const login = ['--email', 'ada@example.com', '--password', 'pw'];

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommand(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
}

const ID = '0b5f4a4e-4c1e-4d7e-9d0a-1c2b3a4d5e6f';

describe('parseCommand', () => {
  it('asks for the password when only the email is given, and warns of --password', () => {
    expect(parseCommand(['upload', 'd', '--profile', 'xray', '--email', 'a@b.c'])).toMatchObject({ credentials: { email: 'a@b.c', promptPassword: true } });
    expect(parseCommand(['upload', 'd', '--profile', 'xray', '--email', 'a@b.c'])).not.toHaveProperty('warnings');
    expect(parseCommand(['upload', 'd', '--profile', 'xray', '--email', 'a@b.c'], { FLOTILLA_PASSWORD: 'pw' })).toMatchObject({ credentials: { email: 'a@b.c', password: 'pw' } });
  });

  it('reads --resume, status and wait with --timeout', () => {
    expect(parseCommand(['upload', 'd', '--profile', 'xray', '--resume', ID], { FLOTILLA_TOKEN: 't' })).toMatchObject({ command: 'upload', resume: ID });
    expect(parseCommand(['status', ID], { FLOTILLA_TOKEN: 't' })).toEqual({ command: 'status', datasetId: ID, api: `${DEFAULT_API}/`, credentials: { token: 't' }, json: false });
    expect(parseCommand(['wait', ID, '--timeout', '30', '--json'], { FLOTILLA_TOKEN: 't' })).toMatchObject({ command: 'wait', datasetId: ID, timeoutSeconds: 30, json: true });
  });

  it('reads a full upload command', () => {
    expect(
      parseCommand([
        'upload', './data/batch-7', '--profile', 'teams-json', '--name', 'teams', '--description', 'season 2',
        '--edition', 'international', '--api', 'https://flotilla.example.com', ...login, '--no-wait', '--json', '--concurrency', '8',
      ]),
    ).toEqual({
      command: 'upload',
      folder: './data/batch-7',
      profile: 'teams-json',
      name: 'teams',
      description: 'season 2',
      edition: 'international',
      api: 'https://flotilla.example.com/',
      credentials: { email: 'ada@example.com', password: 'pw' },
      concurrency: 8,
      wait: false,
      json: true,
      warnings: [expect.stringMatching(/^--password is deprecated/)],
    });
  });

  it('defaults the name to the folder, the API to localhost, and waits', () => {
    expect(parseCommand(['upload', '/data/batch-7/', '--profile', 'xray', ...login])).toMatchObject({
      name: 'batch-7',
      api: `${DEFAULT_API}/`,
      concurrency: 4,
      wait: true,
      json: false,
    });
  });

  it('takes the API and credentials from the environment; flags win', () => {
    const env = { FLOTILLA_API: 'http://api:8080', FLOTILLA_EMAIL: 'env@example.com', FLOTILLA_PASSWORD: 'env-pw' };
    expect(parseCommand(['upload', 'd', '--profile', 'xray'], env)).toMatchObject({
      api: 'http://api:8080/',
      credentials: { email: 'env@example.com', password: 'env-pw' },
    });
    expect(parseCommand(['upload', 'd', '--profile', 'xray', '--api', 'http://other', '--email', 'me@example.com'], env)).toMatchObject({
      api: 'http://other/',
      credentials: { email: 'me@example.com', password: 'env-pw' },
    });
  });

  it('uses FLOTILLA_TOKEN unless --email or --password is given', () => {
    const env = { FLOTILLA_TOKEN: 'tok', FLOTILLA_EMAIL: 'env@example.com', FLOTILLA_PASSWORD: 'env-pw' };
    expect(parseCommand(['upload', 'd', '--profile', 'xray'], env)).toMatchObject({ credentials: { token: 'tok' } });
    expect(parseCommand(['upload', 'd', '--profile', 'xray', ...login], env)).toMatchObject({ credentials: { email: 'ada@example.com', password: 'pw' } });
  });

  it('answers help and version', () => {
    expect(parseCommand(['--help'])).toEqual({ command: 'help' });
    expect(parseCommand(['upload', '-h'])).toEqual({ command: 'help' });
    expect(parseCommand(['help'])).toEqual({ command: 'help' });
    expect(parseCommand(['--version'])).toEqual({ command: 'version' });
    expect(USAGE).toMatch(/^Usage: flotilla upload <folder> --profile xray\|teams-json/);
  });

  it('says what is wrong with bad arguments', () => {
    expect(usageError([])).toMatch(/Missing the command/);
    expect(usageError(['download', 'd'])).toMatch(/Unknown command "download"/);
    expect(usageError(['upload', '--profile', 'xray', ...login])).toMatch(/Missing the folder/);
    expect(usageError(['upload', 'a', 'b', '--profile', 'xray', ...login])).toMatch(/Unexpected argument "b"/);
    expect(usageError(['upload', 'd', ...login])).toMatch(/Missing --profile/);
    expect(usageError(['upload', 'd', '--profile', 'ct', ...login])).toBe('Unknown profile "ct"; use xray or teams-json.');
    expect(usageError(['upload', 'd', '--profile', 'xray', '--edition', 'original', ...login])).toMatch(/--edition applies to --profile teams-json only/);
    expect(usageError(['upload', 'd', '--profile', 'teams-json', '--edition', 'pal', ...login])).toMatch(/Unknown edition "pal"/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--bogus', ...login])).toBe("Unknown option '--bogus'.");
    expect(usageError(['upload', 'd', '--profile'])).toMatch(/argument missing/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--api', 'localhost:8080', ...login])).toMatch(/--api "localhost:8080"/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--api', 'ftp://x', ...login])).toMatch(/http or https/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--concurrency', '0', ...login])).toMatch(/--concurrency must be/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--concurrency', '2.5', ...login])).toMatch(/--concurrency must be/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--name', 'x'.repeat(201), ...login])).toMatch(/longer than 200/);
    expect(usageError(['upload', 'd', '--profile', 'xray'])).toMatch(/No credentials/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--resume', 'nope', ...login])).toMatch(/--resume "nope" is not a dataset id/);
    expect(usageError(['upload', 'd', '--profile', 'xray', '--timeout', '5', ...login])).toMatch(/--timeout applies to "wait" only/);
    expect(usageError(['status', 'nope', ...login])).toMatch(/takes a dataset id/);
    expect(usageError(['status', ID, '--timeout', '5', ...login])).toMatch(/--timeout applies to "wait" only/);
    expect(usageError(['wait', ID, '--timeout', '0', ...login])).toMatch(/--timeout must be/);
    expect(usageError(['wait', ID, '--profile', 'xray', ...login])).toMatch(/--profile applies to "upload" only/);
    expect(usageError(['fetch', ID, ...login])).toMatch(/Unknown command "fetch"/);
    expect(usageError(['upload', 'd', '--profile', 'xray'], { FLOTILLA_PASSWORD: 'pw' })).toMatch(/Missing the email/);
  });
});
