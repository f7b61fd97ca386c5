import type { DataSource } from 'typeorm';
import type { RolloutState } from '@flotilla/contracts';

/** A command for the running rollout, taken once. */
export type RolloutCommand = 'promote' | 'promote_full' | 'abort';

/** Thrown inside a rollout when someone aborted it: the rollout sends all traffic back to the stable revision. */
export class RolloutAborted extends Error {
  override readonly name = 'RolloutAborted';
}

/**
 * How a running rollout hears what people ask of it (`POST /stores/{id}/rollout/...`,
 * recorded in the store's row by any provisioner instance) and tells where it stands.
 * The rollout runs under the store's lock, so it alone reads and takes the commands.
 */
export interface RolloutControl {
  read(): Promise<{ paused: boolean; command: RolloutCommand | null }>;
  /** Takes `command` if it is still the pending one (so a newer command is not lost). */
  take(command: RolloutCommand): Promise<void>;
  report(state: Omit<RolloutState, 'paused'>): Promise<void>;
  /**
   * The rollout pauses itself (an analysis without data), as `POST .../rollout/pause` would;
   * people resume it. Optional for controls nobody resumes (tests); the store's has it.
   */
  pause?(): Promise<void>;
}

/** A rollout nobody steers (unit tests, a first install). */
export const UNSTEERED: RolloutControl = {
  read: async () => ({ paused: false, command: null }),
  take: async () => undefined,
  report: async () => undefined,
  pause: async () => undefined,
};

/** The control of one store's rollout, kept in its `stores` row. */
export function storeRolloutControl(dataSource: DataSource, storeId: string): RolloutControl {
  return {
    async read() {
      const [row] = (await dataSource.query(`SELECT rollout_paused, rollout_command FROM stores WHERE id = $1`, [storeId])) as {
        rollout_paused: boolean;
        rollout_command: RolloutCommand | null;
      }[];
      return { paused: row?.rollout_paused ?? false, command: row?.rollout_command ?? null };
    },
    async take(command) {
      await dataSource.query(`UPDATE stores SET rollout_command = NULL WHERE id = $1 AND rollout_command = $2`, [storeId, command]);
    },
    async report(state) {
      await dataSource.query(`UPDATE stores SET rollout_state = $2 WHERE id = $1`, [storeId, JSON.stringify(state)]);
    },
    async pause() {
      await dataSource.query(`UPDATE stores SET rollout_paused = true WHERE id = $1`, [storeId]);
    },
  };
}

/** Ends a store's rollout state: nothing in progress, nothing held, no command pending. */
export async function clearRolloutControl(dataSource: DataSource, storeId: string): Promise<void> {
  await dataSource.query(`UPDATE stores SET rollout_state = NULL, rollout_paused = false, rollout_command = NULL WHERE id = $1`, [storeId]);
}
