import { createServer, request as forward, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One PUT as it reached the store: what the SigV4 verifier needs, and how the store answered. */
export interface RecordedPut {
  url: string;
  headers: Record<string, string>;
  /** The store's status; undefined while it has not answered (or the client went away first). */
  status?: number;
}

/** Called with each PUT before it is forwarded, and with the store's status before the client hears it. */
export interface ProxyHooks {
  /** Called with every request (any method) before it is forwarded: a test may hold it back. */
  beforeRequest?: (method: string, url: string) => Promise<void> | void;
  beforePut?: (put: RecordedPut) => Promise<void> | void;
  afterPut?: (put: RecordedPut) => Promise<void> | void;
}

/**
 * An HTTP proxy in front of the embedded S3 that records every PUT (object or part) as
 * the store receives it: the independent count of what a client sent. The upload service
 * signs its URLs for this proxy (`S3_PUBLIC_ENDPOINT`), so the client's PUTs all pass here.
 */
export class S3CountingProxy {
  readonly puts: RecordedPut[] = [];
  hooks: ProxyHooks = {};
  private server?: Server;
  /** Where requests go; set once the embedded S3 is up. */
  target = '';

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (answer) => {
          res.writeHead(answer.status, answer.headers).end(answer.body);
        },
        () => res.destroy(),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** PUTs to `/bucket/...<key>?partNumber=n&uploadId=...` by part number (whole-object PUTs as part 0), counted by key. */
  countsByKey(): Map<string, Map<number, number>> {
    const counts = new Map<string, Map<number, number>>();
    for (const put of this.puts) {
      const url = new URL(put.url);
      const key = decodeURIComponent(url.pathname);
      const part = Number(url.searchParams.get('partNumber') ?? 0);
      const byPart = counts.get(key) ?? new Map<number, number>();
      byPart.set(part, (byPart.get(part) ?? 0) + 1);
      counts.set(key, byPart);
    }
    return counts;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
    await this.hooks.beforeRequest?.(req.method ?? 'GET', req.url ?? '/');
    const put: RecordedPut | undefined = req.method === 'PUT' ? { url: `${this.endpoint}${req.url ?? '/'}`, headers } : undefined;
    if (put) {
      this.puts.push(put);
      await this.hooks.beforePut?.(put);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const target = new URL(req.url ?? '/', this.target);
    const answer = await new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>((resolve, reject) => {
      const out = forward(target, { method: req.method, headers: req.headers }, (res) => {
        const body: Buffer[] = [];
        res.on('data', (c: Buffer) => body.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers as Record<string, string | string[]>, body: Buffer.concat(body) }));
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(Buffer.concat(chunks));
    });
    if (put) {
      put.status = answer.status;
      await this.hooks.afterPut?.(put);
    }
    return answer;
  }
}
