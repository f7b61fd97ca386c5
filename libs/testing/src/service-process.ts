import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitFor } from './namespace.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The same flag as TRACING_IMPORT in libs/observability (kept equal by its settings.spec.ts). */
export const TRACING_IMPORT = '--import=@flotilla/observability/tracing';

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A built service run as its own process, as in production: `node services/<name>/dist/main.js`.
 * Its output is kept (for failure messages) and echoed when TEST_SERVICE_OUTPUT is set.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private output: string[] = [];
  readonly url: string;

  /** What failure messages and echoed output call it: the name, or e.g. `gateway#2` beside a second instance. */
  readonly label: string;

  constructor(
    readonly name: string,
    readonly port: number,
    /** Its variables; a test may change them before a {@link start} again (a new configuration after a restart). */
    readonly env: Record<string, string>,
    label?: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.label = label ?? name;
  }

  /** Starts the process and resolves once `/health/startup` answers 200. */
  async start(timeoutMs = 60_000): Promise<this> {
    const child = spawn(process.execPath, [`${ROOT}services/${this.name}/dist/main.js`], {
      cwd: ROOT,
      // Tracing preloaded as under `npm start` (TRACING_IMPORT of @flotilla/observability; a no-op without OTEL_* variables).
      env: { PATH: process.env.PATH ?? '', ...this.env, NODE_OPTIONS: [this.env.NODE_OPTIONS, TRACING_IMPORT].filter(Boolean).join(' '), HTTP_PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.output.push(text);
      if (this.output.length > 500) this.output.shift();
      if (process.env.TEST_SERVICE_OUTPUT) process.stderr.write(`[${this.label}] ${text}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`${this.label} exited with ${child.exitCode}`);
          const res = await fetch(`${this.url}/health/startup`);
          return res.status === 200;
        },
        { timeoutMs, intervalMs: 200, what: `${this.label} to start` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- ${this.label} output ---\n${this.logs()}`);
    }
    return this;
  }

  logs(): string {
    return this.output.join('');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True from start() until the process exits, however it ends. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM and wait for a graceful exit; resolves with the exit code. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: the process gets no chance to finish anything. */
  async kill(): Promise<number | null> {
    return this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit');
    child.kill(signal);
    const [code] = (await exited) as [number | null];
    this.child = undefined;
    return code;
  }
}
