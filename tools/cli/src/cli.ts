import type { ValidationStatus } from '@flotilla/contracts';
import { USAGE, parseCommand, type UploadCommand } from './args.js';
import { ApiError, CliError, ExitCode, InputError, exitCodeOf, messageOf } from './errors.js';
import { renderVerdict } from './render.js';
import { BarReporter, LineReporter, type Reporter } from './reporter.js';
import { uploadDataset } from './upload-dataset.js';
import { VERSION } from './version.js';

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: uploads and polls stop. */
  signal?: AbortSignal;
}

/** Exit code after an interrupt (128 + SIGINT). */
export const INTERRUPTED = 130;

/**
 * `flotilla` with its arguments (without `node` and the script): runs the command and
 * resolves to the exit code — 0 passed (or submitted, with --no-wait), 1 failed or
 * error, 2 bad arguments or folder, 3 HTTP or network error.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let command;
  try {
    command = parseCommand(argv, io.env);
  } catch (error) {
    io.stderr.write(`flotilla: ${messageOf(error)}\nRun "flotilla --help" for usage.\n`);
    return exitCodeOf(error);
  }
  if (command.command === 'help') {
    io.stdout.write(USAGE);
    return ExitCode.Passed;
  }
  if (command.command === 'version') {
    io.stdout.write(`${VERSION}\n`);
    return ExitCode.Passed;
  }
  return upload(command, io);
}

async function upload(command: UploadCommand, io: CliIo): Promise<number> {
  const reporter: Reporter = command.json
    ? new LineReporter(io.stderr)
    : io.stdout.isTTY
      ? new BarReporter(io.stdout as NodeJS.WritableStream)
      : new LineReporter(io.stdout);
  let status: ValidationStatus;
  try {
    status = await uploadDataset(
      {
        folder: command.folder,
        profile: command.profile,
        name: command.name,
        ...(command.description !== undefined ? { description: command.description } : {}),
        ...(command.edition !== undefined ? { edition: command.edition } : {}),
        api: command.api,
        credentials: command.credentials,
        wait: command.wait,
        concurrency: command.concurrency,
        ...(io.signal ? { signal: io.signal } : {}),
      },
      reporter,
    );
  } catch (error) {
    if (io.signal?.aborted) {
      io.stderr.write('flotilla: interrupted\n');
      return INTERRUPTED;
    }
    io.stderr.write(`flotilla: ${messageOf(error)}\n`);
    if (!(error instanceof CliError) && io.env.FLOTILLA_DEBUG) io.stderr.write(`${(error as { stack?: string } | undefined)?.stack ?? ''}\n`);
    if (command.json) io.stdout.write(`${JSON.stringify({ error: errorJson(error) }, null, 2)}\n`);
    return exitCodeOf(error);
  }

  if (command.json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  else if (!command.wait) {
    io.stdout.write(`Dataset "${command.name}" (${status.datasetId}) is uploaded; validation job ${status.jobId} is ${status.status}.\n`);
  } else io.stdout.write(renderVerdict(status, command.name));

  if (!command.wait) return ExitCode.Passed;
  return status.status === 'passed' ? ExitCode.Passed : ExitCode.Failed;
}

/** An error as JSON for --json: its kind and message, and the problem+json of an API error. */
function errorJson(error: unknown): Record<string, unknown> {
  if (error instanceof ApiError) {
    return { kind: error.name, message: error.message, status: error.status, ...(error.problem ? { problem: error.problem } : {}) };
  }
  if (error instanceof InputError) return { kind: error.name, message: error.message, problems: error.problems };
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return { kind: typeof name === 'string' ? name : 'Error', message: messageOf(error) };
}
