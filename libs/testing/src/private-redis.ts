import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './service-process.js';
import { waitFor } from './namespace.js';

export interface PrivateRedisOptions {
  /**
   * Persistent as a deployment's Redis is (append-only file, fsynced on every write), so
   * stopping and starting it is a restart, not a wipe. Off by default: a fresh, empty
   * server each start.
   */
  durable?: boolean;
}

/**
 * A Redis server of the test's own, on its own port, so a test can stop and start it
 * without disturbing anyone else using the machine's Redis.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir: string | undefined;
  port = 0;

  constructor(options: PrivateRedisOptions = {}) {
    if (options.durable) this.dir = mkdtempSync(join(tmpdir(), 'flotilla-redis-'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port ||= await freePort();
    const persistence = this.dir ? ['--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
      stdio: 'ignore',
    });
    await waitFor(
      async () => {
        const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined); // refused until the server listens: connect() rejects, no need to print it
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { what: `redis-server on port ${this.port}` },
    );
    return this;
  }

  /** SIGKILL by default; SIGTERM lets a durable server finish its append-only file. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    child.kill('SIGCONT'); // a paused server acts on the signal only once it runs
    await exited;
    this.child = undefined;
  }

  /** The server's process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a paused server run again (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the server and deletes what a durable one kept on disk. */
  async remove(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
