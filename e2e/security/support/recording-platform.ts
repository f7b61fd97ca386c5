import type { ChildProcess } from 'node:child_process';
import { freePort, ServiceProcess } from '@flotilla/testing';
import { ApiClient, Platform, type ServiceName } from '../../support/platform.js';

/**
 * A service process whose whole output is kept (ServiceProcess keeps the last 500
 * chunks, enough for failure messages but not for searching everything a run printed).
 */
export class RecordedProcess extends ServiceProcess {
  private readonly everything: string[] = [];

  override start(timeoutMs?: number): Promise<this> {
    const started = super.start(timeoutMs);
    // ServiceProcess spawns synchronously at the start of start(): its child is there now,
    // before any output can arrive.
    const child = (this as unknown as { child?: ChildProcess }).child;
    const keep = (chunk: Buffer): void => {
      this.everything.push(chunk.toString());
    };
    child?.stdout?.on('data', keep);
    child?.stderr?.on('data', keep);
    return started;
  }

  /** Everything every run of this service printed, from its first start. */
  allOutput(): string {
    return this.everything.join('');
  }

  /** Whether the current process is still running. */
  alive(): boolean {
    const child = (this as unknown as { child?: ChildProcess }).child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  /** The JSON log lines at `error` (50) or `fatal` (60). */
  errorLines(): string[] {
    return this.allOutput()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line));
  }
}

/**
 * The e2e Platform with every process recorded; same start-up as Platform.start
 * (kept in step with it by hand).
 */
export class RecordingPlatform extends Platform {
  override async start(): Promise<this> {
    const { startEmbeddedS3 } = await import('@flotilla/storage');
    if (this.names.includes('upload') || this.names.includes('validator')) this.s3 = await startEmbeddedS3();
    const ports = new Map<ServiceName, number>();
    for (const name of this.names) ports.set(name, await freePort());
    const adminUrl: Record<string, string> = ports.has('admin') ? { ADMIN_URL: `http://127.0.0.1:${ports.get('admin')}` } : {};
    for (const name of this.names) {
      const svc = new RecordedProcess(name, ports.get(name)!, this.env(name === 'gateway' ? adminUrl : {}));
      this.byName.set(name, svc);
      this.services.push(svc);
    }
    await Promise.all(this.services.map((s) => s.start()));
    this.api = new ApiClient(this.gateway.url);
    return this;
  }

  recorded(name: ServiceName): RecordedProcess {
    return this.service(name) as RecordedProcess;
  }

  get recordedServices(): RecordedProcess[] {
    return this.services as RecordedProcess[];
  }
}
