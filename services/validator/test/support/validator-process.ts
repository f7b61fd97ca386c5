import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadEnv, Naming } from '@flotilla/config';
import { DatasetEvents, ValidationEvents, type DatasetProfile, type DatasetUploadedData, type EventEnvelope, type ValidationCompletedData } from '@flotilla/contracts';
import { topologyNames, topologyResources, type TopologyNames } from '@flotilla/messaging';
import { ObjectStorage, StorageEnv, startEmbeddedS3, type EmbeddedS3 } from '@flotilla/storage';
import { deleteAmqp, dropSchemas, freePort, ServiceProcess, signedEvent, testEnv, TEST_AMQP_URL, TEST_DATABASE_URL, uniqueNamespace } from '@flotilla/testing';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface LocalFile {
  filename: string;
  contentType: string;
  content: Buffer;
}

/**
 * The validator as a process of its own against real RabbitMQ, Postgres and an embedded
 * S3 (on a directory of its own, so it can be stopped and started again with its bucket),
 * in a namespace of its own; events are published and observed on the bus exactly as the
 * upload service and the admin see them: `completed` collects every `validation.completed`.
 */
export class ValidatorUnderTest {
  readonly ns = uniqueNamespace();
  readonly naming = new Naming(this.ns);
  readonly names: TopologyNames = topologyNames(this.naming, 'validator', 'validator');
  readonly completed: EventEnvelope<ValidationCompletedData>[] = [];
  s3!: EmbeddedS3;
  s3Port = 0;
  storage!: ObjectStorage;
  process!: ServiceProcess;
  channel!: Channel;
  db!: pg.Client;
  private connection?: ChannelModel;
  private readonly s3Directory = mkdtempSync(join(tmpdir(), 'validator-test-s3-'));
  private readonly completedQueue = this.naming.amqp(`test-${randomUUID()}.completed`);

  /** `variables`: the validator's own, over the test defaults. */
  constructor(private readonly variables: Record<string, string> = {}) {}

  get schema(): string {
    return this.naming.schema('validation');
  }

  get bucket(): string {
    return `v-${this.ns}`;
  }

  env(): Record<string, string> {
    return testEnv(this.ns, { S3_ENDPOINT: this.s3.endpoint, S3_BUCKET: this.bucket, ...this.variables });
  }

  async start(): Promise<this> {
    const built = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', 'services/validator'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`tsc -b services/validator failed:\n${built.stdout}${built.stderr}`);
    this.s3Port = await freePort();
    await this.startS3();
    this.storage = new ObjectStorage(loadEnv(StorageEnv, { S3_ENDPOINT: this.s3.endpoint, S3_BUCKET: this.bucket }));
    this.process = new ServiceProcess('validator', await freePort(), this.env());
    await this.process.start();
    this.connection = await amqp.connect(TEST_AMQP_URL);
    this.channel = await this.connection.createChannel();
    await this.channel.assertQueue(this.completedQueue, { exclusive: true });
    await this.channel.bindQueue(this.completedQueue, this.names.eventsExchange, ValidationEvents.Completed);
    await this.channel.consume(this.completedQueue, (m) => m && this.completed.push(JSON.parse(m.content.toString()) as EventEnvelope<ValidationCompletedData>), { noAck: true });
    this.db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await this.db.connect();
    return this;
  }

  /** (Re)starts the embedded S3 on its port and directory. */
  async startS3(): Promise<void> {
    this.s3 = await startEmbeddedS3({ port: this.s3Port, directory: this.s3Directory });
  }

  /** SIGKILLs the validator and starts a new one on the same port. */
  async restart(): Promise<void> {
    await this.process.kill();
    this.process = new ServiceProcess('validator', this.process.port, this.env());
    await this.process.start();
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    await this.channel?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    await this.db?.end();
    await this.s3?.close();
    rmSync(this.s3Directory, { recursive: true, force: true });
    const r = topologyResources(this.naming, 'validator', 'validator');
    await deleteAmqp(r.queues, r.exchanges);
    await dropSchemas(this.ns);
  }

  /** Puts the files in S3 (unless `put: false`) and publishes `dataset.uploaded` for them, as `upload` does. */
  async uploaded(
    files: LocalFile[],
    options: { profile?: DatasetProfile; teamId?: string; put?: boolean; envelopeId?: string } = {},
  ): Promise<EventEnvelope<DatasetUploadedData>> {
    const datasetId = randomUUID();
    const data: DatasetUploadedData = {
      datasetId,
      jobId: randomUUID(),
      teamId: options.teamId ?? randomUUID(),
      profile: options.profile ?? 'xray',
      options: {},
      queuedAt: new Date().toISOString(),
      files: files.map((f) => {
        const fileId = randomUUID();
        return { fileId, filename: f.filename, contentType: f.contentType, sizeBytes: f.content.length, key: `datasets/${datasetId}/${fileId}/${f.filename}` };
      }),
    };
    if (options.put !== false) for (const [i, f] of files.entries()) await this.storage.putObject(data.files[i]!.key, f.content, f.contentType);
    const envelope: EventEnvelope<DatasetUploadedData> = {
      id: options.envelopeId ?? randomUUID(),
      type: DatasetEvents.Uploaded,
      occurredAt: new Date().toISOString(),
      source: 'upload',
      correlationId: randomUUID(),
      data,
    };
    this.publish(envelope);
    return envelope;
  }

  /** Publishes `envelope` signed as upload signs it: the consumer refuses events without the platform's signature. */
  publish(envelope: unknown, type: string = DatasetEvents.Uploaded): void {
    const signed = signedEvent(envelope);
    this.channel.publish(this.names.eventsExchange, type, signed.content, { persistent: true, contentType: 'application/json', ...signed.options });
  }

  completedFor(jobId: string): EventEnvelope<ValidationCompletedData>[] {
    return this.completed.filter((e) => e.data.jobId === jobId);
  }
}
