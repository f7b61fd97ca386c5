import type { ValidationStatus } from '@flotilla/contracts';
import { USAGE, parseCommand, type DatasetCommand, type UploadCommand } from './args.js';
import { runDatasetCommand, verdictExitCode } from './dataset-commands.js';
import { ApiError, CliError, ExitCode, InputError, exitCodeOf, messageOf } from './errors.js';
import { completeCredentials, PromptInterrupted, type TerminalInput } from './password-prompt.js';
import { renderVerdict } from './render.js';
import { BarReporter, LineReporter, type Reporter } from './reporter.js';
import { stateDirectory } from './state.js';
import { uploadDataset } from './upload-dataset.js';
import { VERSION } from './version.js';

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  /** The terminal a password is asked on (when it is a TTY). */
  stdin?: TerminalInput;
  /** Aborted on Ctrl-C: uploads and polls stop. */
  signal?: AbortSignal;
}

/** Exit code after an interrupt (128 + SIGINT). */
export const INTERRUPTED = 130;

/**
 * `flotilla` with its arguments (without `node` and the script): runs the command and
 * resolves to the exit code — 0 passed (or submitted, with --no-wait), 1 failed,
 * 2 bad arguments or folder, 3 HTTP or network error, 4 validation error, 5 wait timed out.
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
  for (const warning of command.warnings ?? []) io.stderr.write(`flotilla: warning: ${warning}\n`);
  return command.command === 'upload' ? upload(command, io) : datasetCommand(command, io);
}

async function datasetCommand(command: DatasetCommand, io: CliIo): Promise<number> {
  try {
    const credentials = await completeCredentials(command.credentials, io.stdin, io.stderr);
    const { status, timedOut } = await runDatasetCommand(command, credentials, {
      ...(io.signal ? { signal: io.signal } : {}),
      onStatus: (s) => {
        if (!command.json) io.stderr.write(`${s.status} (${s.progress.percent}%)\n`);
      },
    });
    if (status && command.json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else if (status) io.stdout.write(command.command === 'status' && !['passed', 'failed', 'error'].includes(status.status) ? `${status.status} (${status.progress.percent}%)\n` : renderVerdict(status, command.datasetId));
    if (timedOut) {
      io.stderr.write(`flotilla: no verdict for ${command.datasetId} within ${command.timeoutSeconds} s\n`);
      return ExitCode.TimedOut;
    }
    return command.command === 'status' ? ExitCode.Passed : verdictExitCode(status!);
  } catch (error) {
    return failed(error, command.json, io);
  }
}

/** Reports a command that could not go on, and its exit code. */
function failed(error: unknown, json: boolean, io: CliIo): number {
  if (io.signal?.aborted || error instanceof PromptInterrupted) {
    io.stderr.write('flotilla: interrupted\n');
    return INTERRUPTED;
  }
  io.stderr.write(`flotilla: ${messageOf(error)}\n`);
  if (!(error instanceof CliError) && io.env.FLOTILLA_DEBUG) io.stderr.write(`${(error as { stack?: string } | undefined)?.stack ?? ''}\n`);
  if (json) io.stdout.write(`${JSON.stringify({ error: errorJson(error) }, null, 2)}\n`);
  return exitCodeOf(error);
}

async function upload(command: UploadCommand, io: CliIo): Promise<number> {
  const reporter: Reporter = command.json
    ? new LineReporter(io.stderr)
    : io.stdout.isTTY
      ? new BarReporter(io.stdout as NodeJS.WritableStream)
      : new LineReporter(io.stdout);
  let status: ValidationStatus;
  try {
    const credentials = await completeCredentials(command.credentials, io.stdin, io.stderr);
    status = await uploadDataset(
      {
        folder: command.folder,
        profile: command.profile,
        name: command.name,
        ...(command.description !== undefined ? { description: command.description } : {}),
        ...(command.edition !== undefined ? { edition: command.edition } : {}),
        api: command.api,
        credentials,
        wait: command.wait,
        concurrency: command.concurrency,
        ...(command.resume !== undefined ? { resume: command.resume } : {}),
        stateDirectory: stateDirectory(io.env),
        ...(io.signal ? { signal: io.signal } : {}),
      },
      reporter,
    );
  } catch (error) {
    return failed(error, command.json, io);
  }

  if (command.json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  else if (!command.wait) {
    io.stdout.write(`Dataset "${command.name}" (${status.datasetId}) is uploaded; validation job ${status.jobId} is ${status.status}.\n`);
  } else io.stdout.write(renderVerdict(status, command.name));

  if (!command.wait) return ExitCode.Passed;
  return verdictExitCode(status);
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
