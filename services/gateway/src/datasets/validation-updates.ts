import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { BaseEnv, ENV, Naming } from '@flotilla/config';
import { DatasetEvents, ValidationEvents } from '@flotilla/contracts';
import { BroadcastListener, RabbitConnection } from '@flotilla/messaging';

/** The events after which a dataset's validation status may read differently. */
const CHANGES = [ValidationEvents.Started, ValidationEvents.Progress, ValidationEvents.Completed, DatasetEvents.Deleted];

/** One open stream's interest in a dataset: set when an event about it arrived since the last {@link next}. */
export interface DatasetWatch {
  /**
   * Resolves `true` as soon as an event about the dataset arrived since the last call (at
   * once if one did meanwhile), `false` after `timeoutMs` without one or when `signal` aborts.
   */
  next(timeoutMs: number, signal: AbortSignal): Promise<boolean>;
  close(): void;
}

interface Watcher {
  changed: boolean;
  wake?: () => void;
}

/**
 * Tells this gateway's open validation event streams when their dataset's job changed, from
 * the `validation.*` events every gateway instance hears (a {@link BroadcastListener}): a
 * stream re-reads the status only then, not on a timer. Events say only *that* something
 * changed; the stream reads *what* from the validator, so a lost or late event costs a
 * delay, never a wrong status (and the streams re-read now and then anyway).
 */
@Injectable()
export class ValidationUpdates implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly listener: BroadcastListener;

  constructor(connection: RabbitConnection, naming: Naming, @Inject(ENV) private readonly env: BaseEnv) {
    this.listener = new BroadcastListener(connection, naming, 'gateway', env.INTERNAL_TOKEN_SECRET, CHANGES, (envelope) => {
      const datasetId = (envelope.data as { datasetId?: unknown } | null)?.datasetId;
      if (typeof datasetId === 'string') this.changed(datasetId);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.listener.stop(this.env.SHUTDOWN_GRACE_MS);
  }

  /** Watches `datasetId` from now on: call before the first read, so no change between read and wait is missed. */
  watch(datasetId: string): DatasetWatch {
    const watcher: Watcher = { changed: false };
    let set = this.watchers.get(datasetId);
    if (!set) this.watchers.set(datasetId, (set = new Set()));
    set.add(watcher);
    return {
      next: (timeoutMs, signal) => waitForChange(watcher, timeoutMs, signal),
      close: () => {
        set.delete(watcher);
        if (set.size === 0 && this.watchers.get(datasetId) === set) this.watchers.delete(datasetId);
        watcher.wake?.();
      },
    };
  }

  /** Streams open on `datasetId` in this process (for tests and metrics). */
  watching(datasetId: string): number {
    return this.watchers.get(datasetId)?.size ?? 0;
  }

  private changed(datasetId: string): void {
    for (const watcher of this.watchers.get(datasetId) ?? []) {
      watcher.changed = true;
      watcher.wake?.();
    }
  }
}

function waitForChange(watcher: Watcher, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  if (watcher.changed || signal.aborted) {
    const changed = watcher.changed;
    watcher.changed = false;
    return Promise.resolve(changed);
  }
  return new Promise<boolean>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      watcher.wake = undefined;
      const changed = watcher.changed;
      watcher.changed = false;
      resolve(changed);
    };
    const timer = setTimeout(done, timeoutMs);
    signal.addEventListener('abort', done, { once: true });
    watcher.wake = done;
  });
}
