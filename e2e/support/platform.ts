import type { FlotillaClient } from '@flotilla/api-client';
import { Naming } from '@flotilla/config';
import { consumerDeadLetterQueues, topologyResources } from '@flotilla/messaging';
import { startEmbeddedS3, type EmbeddedS3 } from '@flotilla/storage';
import { deleteAmqp, deleteKeys, dropSchemas, freePort, ServiceProcess, testEnv, uniqueNamespace } from '@flotilla/testing';
import { expectBody, typedApi } from './typed-api.js';

export const ADMIN = { email: 'admin@e2e.test', password: 'e2e-admin-password-123' };

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A REST client as a user would write one: plain fetch, JSON in and out. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** The typed client of the same gateway (see typed-api.ts), signed in with `token` when given. */
  as(token?: string): FlotillaClient {
    return typedApi(this.baseUrl, token);
  }

  async login(email: string, password: string): Promise<string> {
    const pair = await expectBody<{ accessToken: string }>(this.as().POST('/api/v1/auth/login', { body: { email, password } }), 200);
    return pair.accessToken;
  }
}

export type ServiceName = 'gateway' | 'vote-consumer' | 'upload' | 'validator' | 'provisioner' | 'admin';

/** The RPC queue each service serves, for cleaning up its topology. */
const SERVES = { gateway: undefined, 'vote-consumer': 'votes', upload: 'upload', validator: 'validator', provisioner: 'provisioner', admin: 'admin' } as const;

export interface PlatformOptions {
  /** Instances of each service, started at the same moment, each its own process on its own port (1 unless given). */
  replicas?: number;
  /** How long each process may take to answer its startup probe (60 s unless given); a dozen processes starting at once on a small machine need longer. */
  startTimeoutMs?: number;
  /** Variables of one service only (e.g. its own broker login), over the shared ones. */
  envOf?: (name: ServiceName) => Record<string, string>;
}

/**
 * The platform's services as separate processes on the shared servers, in their own
 * namespace; with `upload` or `validator`, an embedded S3 of its own too. With
 * `replicas`, every service runs that many times over, as a deployment scaled out would.
 */
export class Platform {
  readonly namespace = uniqueNamespace();
  readonly services: ServiceProcess[] = [];
  /** The first instance of each service. */
  readonly byName = new Map<ServiceName, ServiceProcess>();
  /** Every instance of each service, in start order. */
  readonly instances = new Map<ServiceName, ServiceProcess[]>();
  s3?: EmbeddedS3;
  /** A client of the first gateway. */
  api!: ApiClient;
  /** A client of each gateway instance, in the order of `instancesOf('gateway')`. */
  apis: ApiClient[] = [];

  constructor(
    private readonly extraEnv: Record<string, string> = {},
    readonly names: ServiceName[] = ['vote-consumer', 'gateway'],
    readonly options: PlatformOptions = {},
  ) {}

  get replicas(): number {
    return this.options.replicas ?? 1;
  }

  get gateway(): ServiceProcess {
    return this.service('gateway');
  }

  get voteConsumer(): ServiceProcess {
    return this.service('vote-consumer');
  }

  service(name: ServiceName): ServiceProcess {
    const svc = this.byName.get(name);
    if (!svc) throw new Error(`${name} is not part of this platform`);
    return svc;
  }

  instancesOf(name: ServiceName): ServiceProcess[] {
    this.service(name);
    return this.instances.get(name)!;
  }

  /** SIGKILLs one instance of a service (the last unless told) and resolves once it is gone; returns it, for a restart. */
  async kill(name: ServiceName, index = this.replicas - 1): Promise<ServiceProcess> {
    const svc = this.instancesOf(name)[index];
    if (!svc) throw new Error(`${name} has no instance ${index}`);
    await svc.kill();
    return svc;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return testEnv(this.namespace, {
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      JWT_SECRET: 'e2e-jwt-secret-that-is-long-enough-0123456789',
      ...(this.s3 ? { S3_ENDPOINT: this.s3.endpoint, S3_BUCKET: `flotilla-${this.namespace}` } : {}),
      ...this.extraEnv,
      ...extra,
    });
  }

  async start(): Promise<this> {
    if (this.names.includes('upload') || this.names.includes('validator')) this.s3 = await startEmbeddedS3();
    const ports = new Map<ServiceName, number[]>();
    for (const name of this.names) {
      const taken: number[] = [];
      // freePort lets the port go again, so each is checked against those already handed out.
      while (taken.length < this.replicas) {
        const port = await freePort();
        if (![...ports.values()].flat().includes(port) && !taken.includes(port)) taken.push(port);
      }
      ports.set(name, taken);
    }
    // The gateway forwards the console to the admin service: every gateway to the first admin.
    const adminUrl: Record<string, string> = ports.has('admin') ? { ADMIN_URL: `http://127.0.0.1:${ports.get('admin')![0]}` } : {};
    for (const name of this.names) {
      const instances = ports.get(name)!.map((port, i) => new ServiceProcess(name, port, this.env({ ...(name === 'gateway' ? adminUrl : {}), ...this.options.envOf?.(name) }), this.replicas > 1 ? `${name}#${i + 1}` : name));
      this.instances.set(name, instances);
      this.byName.set(name, instances[0]!);
      this.services.push(...instances);
    }
    // All at once, so replicas of one service start (and migrate) together.
    await Promise.all(this.services.map((s) => s.start(this.options.startTimeoutMs)));
    if (this.byName.has('gateway')) {
      this.apis = this.instancesOf('gateway').map((g) => new ApiClient(g.url));
      this.api = this.apis[0]!;
    }
    return this;
  }

  /** Stops every service and removes the namespace's schemas, keys, queues and objects. */
  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    const ns = this.namespace;
    await Promise.allSettled([
      dropSchemas(ns),
      deleteKeys(ns),
      ...this.names.map((name) => topologyResources(new Naming(ns), name, SERVES[name])).map((r) => deleteAmqp(r.queues, r.exchanges)),
      // The admin declares every service's dead-letter queue, also of services not started here.
      ...(this.names.includes('admin') ? [deleteAmqp(consumerDeadLetterQueues(new Naming(ns)))] : []),
      this.s3?.close(),
    ]);
  }
}
