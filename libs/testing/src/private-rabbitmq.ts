import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { freePort } from './service-process.js';
import { waitFor } from './namespace.js';

const run = promisify(execFile);

/**
 * Where the broker's own scripts live. Debian's /usr/sbin wrappers switch to the
 * `rabbitmq` user (and its Erlang cookie), so the scripts behind them are run instead.
 */
function rabbitBin(): string {
  for (const dir of ['/usr/lib/rabbitmq/bin', '/usr/local/sbin', '/opt/homebrew/sbin']) {
    if (existsSync(join(dir, 'rabbitmq-server')) && existsSync(join(dir, 'rabbitmqctl'))) return dir;
  }
  throw new Error('rabbitmq-server is not installed (looked in /usr/lib/rabbitmq/bin, /usr/local/sbin, /opt/homebrew/sbin)');
}

/**
 * A RabbitMQ node of the test's own: its own node name, AMQP and distribution ports,
 * data, log and plugins files, config and Erlang cookie, all in a temporary directory,
 * so a test can restart, kill or freeze it without touching the machine's broker. Runs
 * as the current user; no management listener.
 */
export class PrivateRabbitMQ {
  private readonly dir: string;
  private readonly bin = rabbitBin();
  readonly node: string;
  port = 0;
  private distPort = 0;

  /**
   * A new node in a fresh temporary directory; or, given `existing` (the `location` of one
   * created elsewhere, e.g. in another module context of the same test run), a handle on it.
   */
  constructor(existing?: RabbitMQLocation) {
    if (existing) {
      ({ dir: this.dir, node: this.node, port: this.port, distPort: this.distPort } = existing);
      return;
    }
    this.dir = mkdtempSync(join(tmpdir(), 'flotilla-rabbitmq-'));
    this.node = `flotilla-${randomBytes(4).toString('hex')}@localhost`;
    for (const sub of ['mnesia', 'log']) mkdirSync(join(this.dir, sub));
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    // Empty config and env files: the machine's /etc/rabbitmq ones name its node and port.
    writeFileSync(join(this.dir, 'rabbitmq.conf'), '');
    writeFileSync(join(this.dir, 'rabbitmq-env.conf'), 'ERL_EPMD_ADDRESS=127.0.0.1\n');
    writeFileSync(join(this.dir, '.erlang.cookie'), randomBytes(20).toString('hex'), { mode: 0o400 });
  }

  /** Where the node lives and listens: enough for `new PrivateRabbitMQ(location)` to control it. */
  get location(): RabbitMQLocation {
    return { dir: this.dir, node: this.node, port: this.port, distPort: this.distPort };
  }

  /** `amqp://guest:guest@127.0.0.1:<port>` (guest may log in over loopback). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** The Erlang VM's process id (the broker writes it once booted). */
  get pid(): number | undefined {
    const file = join(this.dir, 'pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  private env(): NodeJS.ProcessEnv {
    const d = this.dir;
    return {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: d, // where the node and rabbitmqctl find the cookie
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: join(d, 'log'),
      RABBITMQ_LOGS: join(d, 'log', 'node.log'),
      RABBITMQ_PID_FILE: join(d, 'pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(d, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(d, 'rabbitmq-env.conf'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  /** rabbitmqctl against this node only. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run(join(this.bin, 'rabbitmqctl'), ['-n', this.node, ...args], { env: this.env(), cwd: this.dir, timeout: 60_000 });
    return stdout;
  }

  /** Starts the node (keeping its data from an earlier start) and waits until it takes AMQP clients. */
  async start(): Promise<this> {
    this.port ||= await freePort();
    this.distPort ||= await freePort();
    rmSync(join(this.dir, 'pid'), { force: true });
    const child = spawn(join(this.bin, 'rabbitmq-server'), [], { env: this.env(), cwd: this.dir, stdio: 'ignore' });
    let exited: string | undefined;
    child.on('exit', (code, sig) => (exited = `rabbitmq-server exited (${code ?? sig})`));
    child.unref();
    await waitFor(
      async () => {
        if (exited) throw new Error(`${exited}: ${this.logTail()}`);
        const connection = await amqp.connect(this.url);
        await connection.close();
        return this.pid !== undefined;
      },
      { timeoutMs: 120_000, intervalMs: 300, what: `the private RabbitMQ node ${this.node} on port ${this.port}` },
    );
    return this;
  }

  /** Stops the whole node gracefully (`rabbitmqctl stop`): clients see the broker go away. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined || !alive(pid)) return;
    this.resume();
    await this.ctl('stop').catch(() => signal(pid, 'SIGKILL'));
    await waitFor(() => !alive(pid), { timeoutMs: 60_000, what: `the private RabbitMQ node ${this.node} to stop` });
  }

  /** SIGKILLs the Erlang VM: a crash. */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    signal(pid, 'SIGKILL');
    await waitFor(() => !alive(pid), { what: `the private RabbitMQ node ${this.node} to die` });
  }

  /** Freezes the Erlang VM (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    if (this.pid !== undefined) signal(this.pid, 'SIGSTOP');
  }

  /** Lets a paused node run again (SIGCONT). */
  resume(): void {
    if (this.pid !== undefined) signal(this.pid, 'SIGCONT');
  }

  /** Closes, on the broker's side, every client connection whose name starts with `prefix`; returns how many. */
  async closeConnections(prefix: string, reason = 'closed by the test'): Promise<number> {
    // One line per connection: `<pid>\t[{"connection_name","…"},…]`.
    const out = await this.ctl('list_connections', 'pid', 'client_properties', '-q', '--no-table-headers');
    const pids = out
      .split('\n')
      .filter((line) => line.includes(`{"connection_name","${prefix}`))
      .map((line) => line.split('\t')[0]!);
    for (const pid of pids) await this.ctl('close_connection', pid, reason);
    return pids.length;
  }

  /** Stops the node and deletes its data. */
  async remove(): Promise<void> {
    await this.stop().catch(() => this.kill());
    rmSync(this.dir, { recursive: true, force: true });
  }

  private logTail(): string {
    const file = join(this.dir, 'log', 'node.log');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-20).join('\n') : '(no log)';
  }
}

export interface RabbitMQLocation {
  dir: string;
  node: string;
  port: number;
  distPort: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
