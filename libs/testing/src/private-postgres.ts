import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './service-process.js';
import { waitFor } from './namespace.js';

/** The server binaries of the newest Postgres installed the Debian way (`/usr/lib/postgresql/<major>/bin`). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  if (majors.length === 0) throw new Error(`no Postgres server found under ${root}`);
  return join(root, majors[0]!, 'bin');
}

/** Postgres refuses to run as root: as root the cluster belongs to, and runs as, `postgres`. */
const AS_ROOT = userInfo().uid === 0;
const OWNER = 'postgres';

function run(bin: string, args: string[]): string {
  const [file, argv] = AS_ROOT ? ['runuser', ['-u', OWNER, '--', bin, ...args]] : [bin, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * A Postgres cluster of the test's own (initdb in a temporary directory, its own port,
 * trust authentication for `postgres`), so a test can stop, kill or freeze it without
 * touching the machine's server. The socket lives in the data directory; clients use TCP
 * on 127.0.0.1.
 */
export class PrivatePostgres {
  private readonly dir: string;
  private readonly bin = postgresBin();
  port = 0;

  /**
   * A new cluster in a fresh temporary directory; or, given `existing` (the `location` of
   * one created elsewhere, e.g. in another module context of the same test run), a handle
   * on that cluster.
   */
  constructor(existing?: { dir: string; port: number }) {
    if (existing) {
      this.dir = existing.dir;
      this.port = existing.port;
      return;
    }
    this.dir = mkdtempSync(join(tmpdir(), 'flotilla-pg-'));
    if (AS_ROOT) {
      // mkdtemp makes it 0700 for root; the cluster's owner must be able to write it.
      const { uid, gid } = userIdsOf(OWNER);
      chownSync(this.dir, uid, gid);
      chmodSync(this.dir, 0o700);
    }
  }

  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Where the cluster lives and listens: enough for `new PrivatePostgres(location)` to control it. */
  get location(): { dir: string; port: number } {
    return { dir: this.dir, port: this.port };
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** Creates the cluster on first use, then starts the server and waits until it answers. */
  async start(): Promise<this> {
    this.port ||= await freePort();
    if (!existsSync(join(this.dataDir, 'PG_VERSION'))) {
      run(join(this.bin, 'initdb'), ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    }
    // fsync off: a test cluster need not survive a power cut, and it starts and stops many times.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    run(join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-o', options, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
    await waitFor(() => this.answers(), { what: `the private Postgres on port ${this.port}` });
    return this;
  }

  /** Whether the server accepts a connection and answers a query now. */
  async answers(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** The postmaster's process id, while it runs. */
  get pid(): number | undefined {
    const file = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** Stops the server (`fast`: clients are disconnected, the shutdown is clean). */
  async stop(): Promise<void> {
    if (this.pid === undefined) return;
    run(join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  }

  /** SIGKILLs the postmaster and every backend: a crash; the next start recovers. */
  async kill(): Promise<void> {
    const pids = this.processIds();
    for (const pid of pids) signal(pid, 'SIGKILL');
    await waitFor(() => pids.every((pid) => !alive(pid)), { what: 'the private Postgres to die' });
    rmSync(join(this.dataDir, 'postmaster.pid'), { force: true });
  }

  /** Freezes the postmaster and its backends (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    for (const pid of this.processIds()) signal(pid, 'SIGSTOP');
  }

  /** Lets a paused server run again (SIGCONT). */
  resume(): void {
    for (const pid of this.processIds()) signal(pid, 'SIGCONT');
  }

  /** Stops the server (killing it when it does not stop) and deletes the cluster. */
  async remove(): Promise<void> {
    if (this.pid !== undefined) {
      this.resume();
      await this.stop().catch(() => this.kill());
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The postmaster and its children (the backends and background workers). */
  private processIds(): number[] {
    const postmaster = this.pid;
    if (postmaster === undefined) return [];
    const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    return [postmaster, ...children];
  }
}

function userIdsOf(name: string): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
