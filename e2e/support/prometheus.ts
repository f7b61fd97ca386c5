import { freePort, waitFor } from '@flotilla/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { prometheusBinary, ruleGroups, tempDir } from '../../deploy/test/support/promtool.js';

export interface ScrapeTarget {
  job: string;
  url: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus (Debian's `prometheus` binary) of the test's own: its own config and
 * data directory in a temp dir, on a free loopback port, scraping the given services'
 * /metrics with the project's alert rules loaded as they are (k8s/monitoring). Scrapes and
 * rule evaluations run every second instead of Prometheus's default minute, so states
 * change in seconds; the rules' expressions and `for` durations are not touched.
 */
export class LocalPrometheus {
  private child?: ChildProcess;
  private readonly output: string[] = [];
  private readonly dir = tempDir('prometheus');
  url = '';

  constructor(
    private readonly targets: ScrapeTarget[],
    private readonly labels: Record<string, string> = {},
  ) {}

  async start(): Promise<this> {
    const port = await freePort();
    writeFileSync(join(this.dir, 'flotilla-rules.yaml'), stringify({ groups: ruleGroups() }));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: ['flotilla-rules.yaml'],
      scrape_configs: this.targets.map((t) => {
        const url = new URL(t.url);
        return { job_name: t.job, metrics_path: '/metrics', static_configs: [{ targets: [url.host], labels: this.labels }] };
      }),
    };
    writeFileSync(join(this.dir, 'prometheus.yml'), stringify(config));
    mkdirSync(join(this.dir, 'data'));
    // Under /prometheus: the e2e setup checks every answer from an /api/v1 path against
    // Flotilla's OpenAPI document, and Prometheus's HTTP API is not Flotilla's.
    this.url = `http://127.0.0.1:${port}/prometheus`;
    this.child = spawn(
      prometheusBinary('prometheus'),
      [`--config.file=${join(this.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${this.url}/`, '--web.route-prefix=/prometheus', '--log.level=warn'],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer): void => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    await waitFor(
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`prometheus exited with ${this.child?.exitCode}:\n${this.logs()}`);
        return (await fetch(`${this.url}/-/ready`)).status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'Prometheus to be ready' },
    );
    return this;
  }

  logs(): string {
    return this.output.join('');
  }

  /** An instant query through the HTTP API; its vector result. */
  async query(promql: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: PromSample[] } };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
    return body.data.result;
  }

  /** The loaded rules with their evaluation health, from /api/v1/rules. */
  async rules(): Promise<{ name: string; health: string; lastError?: string; type: string; state?: string }[]> {
    const res = await fetch(`${this.url}/api/v1/rules`);
    const body = (await res.json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string; type: string; state?: string }[] }[] } };
    return body.data.groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
