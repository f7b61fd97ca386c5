/** Exit codes of `flotilla`. */
export const ExitCode = {
  /** The dataset passed (or, with --no-wait, was submitted). */
  Passed: 0,
  /** The verdict is `failed`: the dataset has errors. */
  Failed: 1,
  /** Bad arguments, or a folder that cannot be uploaded as it is. */
  Usage: 2,
  /** The API or the storage answered with an error, or could not be reached. */
  Http: 3,
  /** The verdict is `error`: the validation itself could not finish (the dataset was not judged). */
  ValidationError: 4,
  /** `flotilla wait --timeout` ran out before a verdict. */
  TimedOut: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A field-level problem of an RFC 9457 problem+json body. */
export interface ProblemFieldError {
  path: string;
  message: string;
}

/** The RFC 9457 problem+json body of an API error response. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: ProblemFieldError[];
}

/** An error with the exit code it ends the command with. */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode;
}

/** Bad command-line arguments (exit 2). */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  readonly exitCode = ExitCode.Usage;
}

/** The folder cannot be uploaded as it is: no files, unreadable files, names or types the API refuses (exit 2). */
export class InputError extends CliError {
  override readonly name = 'InputError';
  readonly exitCode = ExitCode.Usage;

  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
  }
}

/** The API answered with an error status (exit 3); `problem` is its problem+json body when it sent one. */
export class ApiError extends CliError {
  override readonly name = 'ApiError';
  readonly exitCode = ExitCode.Http;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly problem: Problem | undefined,
    readonly body?: string,
    /** The answer's Retry-After (429, 503), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(describeHttpError(method, path, status, problem, body));
  }
}

/** A request that got no HTTP answer at all: refused, reset, DNS, TLS (exit 3). */
export class NetworkError extends CliError {
  override readonly name = 'NetworkError';
  readonly exitCode = ExitCode.Http;

  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`Cannot reach ${url}: ${reason}`);
  }
}

/** An upload to a storage URL failed for good, after its retries (exit 3). */
export class TransferError extends CliError {
  override readonly name: string = 'TransferError';
  readonly exitCode = ExitCode.Http;

  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The storage refused a PUT because its presigned URL expired: the upload asks for new URLs (exit 3 if it cannot). */
export class UrlExpiredError extends TransferError {
  override readonly name = 'UrlExpiredError';
}

/** The API answered successfully but with something this command cannot use (exit 3). */
export class ProtocolError extends CliError {
  override readonly name = 'ProtocolError';
  readonly exitCode = ExitCode.Http;
}

function describeHttpError(method: string, path: string, status: number, problem: Problem | undefined, body: string | undefined): string {
  const head = `${method} ${path} answered ${status}`;
  if (!problem) return body ? `${head}: ${body}` : head;
  const lines = [`${head}: ${[problem.title, problem.detail].filter(Boolean).join(' — ') || 'no details'}`];
  for (const e of problem.errors ?? []) lines.push(`  - ${e.path ? `${e.path}: ` : ''}${e.message}`);
  return lines.join('\n');
}

/** The exit code an error ends the command with: its own, or 3 for anything unexpected. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof CliError ? error.exitCode : ExitCode.Http;
}

/** The message of anything thrown (errors of Node's own modules may come from another realm, so no `instanceof`). */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** What a failed `fetch` reports: undici hides the reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown } | null | undefined)?.cause;
  if (cause !== null && typeof cause === 'object') {
    const message = messageOf(cause);
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !message.includes(code) ? `${code} (${message})` : message;
  }
  return messageOf(error);
}
