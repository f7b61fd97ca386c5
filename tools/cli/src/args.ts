import { parseArgs } from 'node:util';
import { basename, resolve } from 'node:path';
import { DatasetProfiles, TeamsEditions, type DatasetProfile, type TeamsEdition } from '@flotilla/contracts';
import { UsageError, messageOf } from './errors.js';

export const DEFAULT_API = 'http://localhost:8080';
export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 32;

export const USAGE = `Usage: flotilla upload <folder> --profile xray|teams-json [options]
       flotilla status <datasetId> [--api <url>] [--email <email>] [--json]
       flotilla wait <datasetId> [--timeout <seconds>] [--api <url>] [--email <email>] [--json]

upload: uploads the files of <folder> (not its subfolders, not dotfiles) as a
dataset, then waits for the validation verdict. An interrupted upload goes on
where it stopped when run again on the same folder (its state is kept under
$XDG_STATE_HOME/flotilla, by default ~/.local/state/flotilla), or with --resume.
status: prints a dataset's validation status. wait: waits for its verdict.

Options:
  --profile <profile>      validation profile: xray or teams-json (required)
  --name <datasetName>     dataset name (default: the folder's name)
  --description <text>     dataset description
  --edition <edition>      teams-json only: original or international
  --api <url>              API origin (default: $FLOTILLA_API or ${DEFAULT_API})
  --email <email>          sign in as this user (default: $FLOTILLA_EMAIL)
  --password <password>    deprecated (visible to other users of the machine): the
                           password is asked on the terminal, or read from $FLOTILLA_PASSWORD
  --resume <datasetId>     go on with this pending upload instead of starting a new one
  --timeout <seconds>      wait only: give up after this long (exit 5)
  --concurrency <n>        files or parts uploaded at once, 1-${MAX_CONCURRENCY} (default: ${DEFAULT_CONCURRENCY})
  --no-wait                return once the upload is complete and validation is queued
  --json                   print the final status as JSON on stdout (progress goes to stderr)
  -h, --help               print this help
  --version                print the version

An access token in $FLOTILLA_TOKEN is used instead of signing in when no
--email is given.

Exit codes: 0 passed (or queued, with --no-wait; status: shown), 1 failed,
2 bad arguments or folder, 3 HTTP or network error, 4 validation error
(the dataset could not be judged), 5 wait timed out, 130 interrupted.
`;

/** Who the command acts as: an access token, or an email and password to sign in with. */
export type Credentials = { token: string } | { email: string; password: string };
/** An email whose password is to be asked on the terminal (none given in the environment). */
export interface PasswordPrompt {
  email: string;
  promptPassword: true;
}

export interface UploadCommand {
  command: 'upload';
  folder: string;
  profile: DatasetProfile;
  name: string;
  description?: string;
  edition?: TeamsEdition;
  api: string;
  credentials: Credentials | PasswordPrompt;
  concurrency: number;
  wait: boolean;
  json: boolean;
  /** A pending dataset to go on with. */
  resume?: string;
  /** What the command line does that it should not (a password in the arguments). */
  warnings?: string[];
}

/** `flotilla status <id>` and `flotilla wait <id> [--timeout]`. */
export interface DatasetCommand {
  command: 'status' | 'wait';
  datasetId: string;
  api: string;
  credentials: Credentials | PasswordPrompt;
  json: boolean;
  timeoutSeconds?: number;
  warnings?: string[];
}

export type Command = UploadCommand | DatasetCommand | { command: 'help' } | { command: 'version' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const OPTIONS = {
  profile: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  edition: { type: 'string' },
  api: { type: 'string' },
  email: { type: 'string' },
  password: { type: 'string' },
  concurrency: { type: 'string' },
  'no-wait': { type: 'boolean' },
  json: { type: 'boolean' },
  resume: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const MAX_NAME_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 2000;

/**
 * Reads the command line (without `node` and the script) and the environment.
 * Throws a UsageError that says what is wrong.
 */
export function parseCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs explains itself ("Unknown option '--x'", "Option '--name <value>' argument missing").
    // Node's advice about positionals that start with "-" is left out.
    throw new UsageError(messageOf(error).replace(/\. To specify a positional argument.*$/s, '.'));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { command: 'help' };
  if (values.version) return { command: 'version' };

  const [command, folder, ...extra] = positionals;
  if (command === undefined) throw new UsageError('Missing the command: flotilla upload <folder> --profile xray|teams-json');
  if (command === 'status' || command === 'wait') return parseDatasetCommand(command, folder, extra, values, env);
  if (command !== 'upload') throw new UsageError(`Unknown command "${command}"; the commands are "upload", "status" and "wait".`);
  if (values.timeout !== undefined) throw new UsageError('--timeout applies to "wait" only.');
  const resume = values.resume;
  if (resume !== undefined && !UUID.test(resume)) throw new UsageError(`--resume "${resume}" is not a dataset id.`);
  if (folder === undefined || folder === '') throw new UsageError('Missing the folder to upload: flotilla upload <folder> --profile xray|teams-json');
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}": upload takes one folder.`);

  const profile = values.profile;
  if (profile === undefined) throw new UsageError(`Missing --profile (${DatasetProfiles.join(' or ')}).`);
  if (!isOneOf(DatasetProfiles, profile)) throw new UsageError(`Unknown profile "${profile}"; use ${DatasetProfiles.join(' or ')}.`);

  const edition = values.edition;
  if (edition !== undefined) {
    if (!isOneOf(TeamsEditions, edition)) throw new UsageError(`Unknown edition "${edition}"; use ${TeamsEditions.join(' or ')}.`);
    if (profile !== 'teams-json') throw new UsageError('--edition applies to --profile teams-json only.');
  }

  const name = values.name ?? basename(resolve(folder));
  if (name.trim() === '') throw new UsageError('The dataset name is empty; give one with --name.');
  if (name.length > MAX_NAME_LENGTH) throw new UsageError(`The dataset name is longer than ${MAX_NAME_LENGTH} characters; give a shorter one with --name.`);
  const description = values.description;
  if (description !== undefined && description.length > MAX_DESCRIPTION_LENGTH) {
    throw new UsageError(`The description is longer than ${MAX_DESCRIPTION_LENGTH} characters.`);
  }

  const api = parseApi(values.api ?? nonEmpty(env.FLOTILLA_API) ?? DEFAULT_API);
  const concurrency = parseConcurrency(values.concurrency);
  const credentials = parseCredentials(values.email, values.password, env);

  return {
    command: 'upload',
    folder,
    profile,
    name,
    ...(description !== undefined ? { description } : {}),
    ...(edition !== undefined ? { edition } : {}),
    api,
    credentials,
    concurrency,
    wait: !values['no-wait'],
    json: values.json ?? false,
    ...(resume !== undefined ? { resume } : {}),
    ...passwordWarning(values.password),
  };
}

function parseDatasetCommand(
  command: 'status' | 'wait',
  datasetId: string | undefined,
  extra: string[],
  values: { api?: string; email?: string; password?: string; json?: boolean; timeout?: string; [name: string]: unknown },
  env: Readonly<Record<string, string | undefined>>,
): DatasetCommand {
  if (datasetId === undefined || !UUID.test(datasetId)) throw new UsageError(`"${command}" takes a dataset id: flotilla ${command} <datasetId>`);
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}": ${command} takes one dataset id.`);
  const uploadOnly = ['profile', 'name', 'description', 'edition', 'concurrency', 'no-wait', 'resume'].find((name) => values[name] !== undefined);
  if (uploadOnly) throw new UsageError(`--${uploadOnly} applies to "upload" only.`);
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    if (command !== 'wait') throw new UsageError('--timeout applies to "wait" only.');
    timeoutSeconds = /^\d+$/.test(values.timeout) ? Number(values.timeout) : NaN;
    if (!(timeoutSeconds >= 1)) throw new UsageError(`--timeout must be a whole number of seconds, at least 1, not "${values.timeout}".`);
  }
  return {
    command,
    datasetId,
    api: parseApi(values.api ?? nonEmpty(env.FLOTILLA_API) ?? DEFAULT_API),
    credentials: parseCredentials(values.email, values.password, env),
    json: values.json ?? false,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...passwordWarning(values.password),
  };
}

/** `--password` still works, but puts the password where other users of the machine see it (ps, shell history). */
function passwordWarning(password: string | undefined): { warnings?: string[] } {
  if (password === undefined) return {};
  return { warnings: ['--password is deprecated: the password shows in the process list and shell history. Leave it out to be asked for it, or set FLOTILLA_PASSWORD.'] };
}

function parseApi(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--api "${value}" is not a URL such as ${DEFAULT_API}.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--api "${value}" must be an http or https URL.`);
  if (url.search || url.hash) throw new UsageError(`--api "${value}" must not have a query or fragment.`);
  return url.toString();
}

function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, not "${value}".`);
  return n;
}

function parseCredentials(email: string | undefined, password: string | undefined, env: Readonly<Record<string, string | undefined>>): Credentials | PasswordPrompt {
  const token = nonEmpty(env.FLOTILLA_TOKEN);
  // An explicit --email (or --password) means "sign in", even when a token is in the environment.
  if (email === undefined && password === undefined && token !== undefined) return { token };
  const user = email ?? nonEmpty(env.FLOTILLA_EMAIL);
  const secret = password ?? nonEmpty(env.FLOTILLA_PASSWORD);
  if (user === undefined && secret === undefined) {
    throw new UsageError('No credentials: pass --email (the password is then asked), or set FLOTILLA_EMAIL and FLOTILLA_PASSWORD, or FLOTILLA_TOKEN.');
  }
  if (user === undefined) throw new UsageError('Missing the email: pass --email or set FLOTILLA_EMAIL.');
  if (secret === undefined) return { email: user, promptPassword: true };
  return { email: user, password: secret };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
