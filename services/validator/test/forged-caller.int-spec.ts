import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import { DatasetEvents, ValidatorAdminRpc, ValidatorRpc, type RpcActor } from '@flotilla/contracts';
import { topologyNames, topologyResources } from '@flotilla/messaging';
import { startEmbeddedS3, type EmbeddedS3 } from '@flotilla/storage';
import { deleteAmqp, dropSchemas, forgedCalls, forgedSignature, freePort, rawBroker, type RawBroker, REFUSED, ServiceProcess, TEST_DATABASE_URL, testEnv, uniqueNamespace, waitFor } from '@flotilla/testing';

jest.setTimeout(180_000);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: null };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };

/**
 * The validator as a process refuses what anything on the broker could send without the
 * services' key: RPCs with a forged actor and a missing, foreign or expired caller token,
 * a member's token on an admin pattern, and a `dataset.uploaded` without the platform's signature.
 */
describe('validator: a caller the platform did not sign is refused', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const schema = naming.schema('validation');
  let s3: EmbeddedS3;
  let validator: ServiceProcess;
  let broker: RawBroker;
  let db: pg.Client;

  beforeAll(async () => {
    const built = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', 'services/validator'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`tsc -b services/validator failed:\n${built.stdout}${built.stderr}`);
    s3 = await startEmbeddedS3();
    validator = new ServiceProcess('validator', await freePort(), testEnv(ns, { S3_ENDPOINT: s3.endpoint, S3_BUCKET: `vf-${ns}` }));
    await validator.start();
    broker = await rawBroker(naming);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await broker?.close();
    await validator?.stop();
    await db?.end();
    await s3?.close();
    const r = topologyResources(naming, 'validator', 'validator');
    await deleteAmqp(r.queues, r.exchanges);
    await dropSchemas(ns);
  });

  it('refuses every team\'s job list and the counts with a forged actor: no token, a foreign key, an expired token, a member\'s token', async () => {
    expect(await forgedCalls(broker, 'validator', ValidatorAdminRpc.List, {}, ADMIN, MEMBER)).toEqual(REFUSED);
    expect(await forgedCalls(broker, 'validator', ValidatorAdminRpc.Counts, {}, ADMIN, MEMBER)).toEqual(REFUSED);
  });

  it('refuses a status call without a valid token', async () => {
    const codes = await forgedCalls(broker, 'validator', ValidatorRpc.Status, { datasetId: randomUUID() }, ADMIN, MEMBER);
    expect({ ...codes, member: 'FORBIDDEN' }).toEqual(REFUSED);
  });

  it('dead-letters a dataset.uploaded without a signature or with a forged one, and starts no job', async () => {
    const dlq = topologyNames(naming, 'validator').deadLetterQueue;
    const before = (await broker.channel.checkQueue(dlq)).messageCount;
    const job = (): Record<string, unknown> => ({
      datasetId: randomUUID(),
      jobId: randomUUID(),
      teamId: MEMBER.teamId,
      profile: 'xray',
      options: {},
      queuedAt: new Date().toISOString(),
      files: [{ fileId: randomUUID(), filename: 'a.png', contentType: 'image/png', sizeBytes: 10, key: `datasets/x/y/a.png` }],
    });
    const unsigned = job();
    const forged = job();
    await broker.event(DatasetEvents.Uploaded, unsigned);
    await broker.event(DatasetEvents.Uploaded, forged, forgedSignature());
    await waitFor(async () => ((await broker.channel.checkQueue(dlq)).messageCount >= before + 2 ? true : undefined), {
      what: 'both forged events in the dead-letter queue',
      timeoutMs: 15_000,
    });
    const jobs = await db.query(`SELECT id FROM "${schema}".jobs WHERE id = ANY($1::uuid[])`, [[unsigned.jobId, forged.jobId]]);
    expect(jobs.rowCount).toBe(0);
  });
});
