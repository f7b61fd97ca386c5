import type { Logger } from '@nestjs/common';
import type { ClusterDriver, StoreNamespace } from '../drivers/cluster-driver.js';
import type { StoreRepository } from '../stores/store-repository.js';
import type { StoreLock } from './store-lock.js';

export interface OrphanSweepOptions {
  driver: ClusterDriver;
  repo: Pick<StoreRepository, 'namespaces' | 'find'>;
  lock: Pick<StoreLock, 'withLock'>;
  installationId: string;
  /** Namespaces younger than this are never swept: at least one reconcile pass. */
  minAgeMs: number;
  now: () => number;
  logger: Pick<Logger, 'warn'>;
  /** Called for each namespace removed. */
  removed: (namespace: StoreNamespace) => void;
}

/**
 * Removes namespaces of this installation whose store no longer exists in its database.
 *
 * The namespaces are listed before the rows are read: a store is recorded before its
 * namespace is created, so a namespace in the listing whose store exists has its row in
 * the later read, even if the store was requested in between. Only namespaces with this
 * installation's label are ever listed (and the label is checked again here), so no
 * other installation's store is touched however its rows look. A namespace younger than
 * `minAgeMs` is left for a later pass; one without store id and name labels is left alone. The
 * store's lock is taken, and the row looked up once more under it, before anything is
 * deleted, so a store being created or deleted at that moment is not raced.
 */
export async function sweepOrphans(options: OrphanSweepOptions): Promise<void> {
  const { driver, repo, lock, installationId, logger } = options;
  const namespaces = await driver.listStoreNamespaces();
  const rows = await repo.namespaces();
  const known = new Set(rows.flatMap((row) => [row.id, row.namespace]));
  for (const namespace of namespaces) {
    if (namespace.installation !== installationId || namespace.terminating) continue;
    if (!namespace.storeId || !namespace.storeName || known.has(namespace.storeId) || known.has(namespace.name)) continue;
    const age = options.now() - namespace.createdAt.getTime();
    if (!(age >= options.minAgeMs)) continue;
    const { storeId, storeName } = namespace;
    await lock
      .withLock(
        storeId,
        async () => {
          if (await repo.find(storeId)) return;
          logger.warn(`namespace ${namespace.name} (store ${storeId}, ${Math.round(age / 1000)} s old) belongs to no store of installation ${installationId}; removing it`);
          await driver.remove({ storeId, name: storeName, namespace: namespace.name, teamId: '', template: 'wordpress' });
          options.removed(namespace);
        },
        10_000,
      )
      .catch((error: unknown) => {
        if (error instanceof Error && error.name === 'StoreBusyError') return;
        logger.warn(`orphan namespace ${namespace.name} not removed: ${error instanceof Error ? error.message : String(error)}`);
      });
  }
}
