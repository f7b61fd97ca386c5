import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { ProvisionerAdminRpc, ProvisionerRpc, type RpcActor } from '@flotilla/contracts';
import { topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, forgedCalls, rawBroker, type RawBroker, REFUSED, testEnv, uniqueNamespace } from '@flotilla/testing';
import { AppModule } from '../src/app.module.js';
import { CLUSTER_DRIVER } from '../src/drivers/driver.token.js';
import { SimulatedDriver } from '../src/drivers/simulated/index.js';
import { StoreRepository } from '../src/stores/store-repository.js';

const ADMIN: RpcActor = { userId: randomUUID(), role: 'admin', teamId: randomUUID() };
const MEMBER: RpcActor = { userId: randomUUID(), role: 'member', teamId: randomUUID() };

/**
 * The provisioner refuses RPCs that anything on the broker could send without the
 * services' key: a forged actor with a missing, foreign or expired caller token, and a
 * member's token on the admin's figures. (It consumes no events.)
 */
describe('provisioner: a caller the platform did not sign is refused', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const saved = { ...process.env };
  let app: NestFastifyApplication;
  let broker: RawBroker;
  let repo: StoreRepository;

  beforeAll(async () => {
    Object.assign(process.env, testEnv(ns));
    const driver = new SimulatedDriver({ podStartMs: 50, podReadyMs: 50, controllerIntervalMs: 200, namespaceTerminationMs: 100 });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(CLUSTER_DRIVER).useValue(driver).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.enableShutdownHooks();
    await app.init();
    repo = app.get(StoreRepository);
    broker = await rawBroker(naming);
  });

  afterAll(async () => {
    await broker?.close();
    await app?.close();
    process.env = saved;
    const r = topologyResources(naming, 'provisioner', 'provisioner');
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns), deleteAmqp(r.queues, r.exchanges)]);
  });

  it('refuses a store created with a forged actor and no token, a foreign key or an expired token; no store is written', async () => {
    const name = `forged-${randomUUID().slice(0, 6)}`;
    const codes = await forgedCalls(broker, 'provisioner', ProvisionerRpc.Create, { name, template: 'wordpress' }, ADMIN, MEMBER);
    // A member may create a store for its own team: only the three without a valid token are refused.
    expect({ noToken: codes.noToken, wrongKey: codes.wrongKey, expired: codes.expired }).toEqual({
      noToken: 'UNAUTHENTICATED',
      wrongKey: 'UNAUTHENTICATED',
      expired: 'UNAUTHENTICATED',
    });
    const rows = (await repo.dataSource.query(`SELECT team_id FROM stores WHERE name = $1`, [name])) as { team_id: string }[];
    // The honest member's call made at most its own team's store, never the forged admin's.
    expect(rows.filter((r) => r.team_id !== MEMBER.teamId)).toEqual([]);
  });

  it('refuses the admin\'s figures to a forged actor and to a member\'s token', async () => {
    expect(await forgedCalls(broker, 'provisioner', ProvisionerAdminRpc.Counts, {}, ADMIN, MEMBER)).toEqual(REFUSED);
  });
});
