import type { ValidationJobStatus, ValidationStatus } from './datasets.js';

/**
 * The validator's read model of a dataset's validation status in Redis, for the gateway to
 * answer `GET /validation/{id}/status` with one GET instead of two RPCs. The key (before the
 * run's key prefix) holds a {@link StatusSnapshot} as JSON, or {@link STATUS_SNAPSHOT_DELETED}
 * once the dataset is deleted, so that a snapshot written late cannot bring it back. A
 * missing key only means "ask the validator".
 */
export const statusSnapshotKey = (datasetId: string): string => `validation-status:${datasetId}`;

/** Value of a deleted dataset's snapshot key. */
export const STATUS_SNAPSHOT_DELETED = 'deleted';

/** How long a deletion marker is kept: longer than any snapshot lives. */
export const STATUS_SNAPSHOT_DELETED_TTL_SECONDS = 86_400;

export interface StatusSnapshot {
  /** The dataset's team: only its members (and administrators) may read it. */
  teamId: string;
  /** The status's version, its ETag: `<jobId>.<version>`. */
  version: string;
  status: ValidationStatus;
}

/**
 * A snapshot as stored: team, version, the job's status and the status's JSON on four
 * lines, so the gateway can check the team and answer with the JSON as it is, without
 * parsing it.
 */
export function encodeStatusSnapshot(snapshot: StatusSnapshot): string {
  return `${snapshot.teamId}\n${snapshot.version}\n${snapshot.status.status}\n${JSON.stringify(snapshot.status)}`;
}

/** The parts of a stored snapshot; undefined for a deletion marker or anything malformed. */
export function decodeStatusSnapshot(stored: string): { teamId: string; version: string; jobStatus: ValidationJobStatus; statusJson: string } | undefined {
  const first = stored.indexOf('\n');
  const second = first === -1 ? -1 : stored.indexOf('\n', first + 1);
  const third = second === -1 ? -1 : stored.indexOf('\n', second + 1);
  if (third === -1) return undefined;
  return {
    teamId: stored.slice(0, first),
    version: stored.slice(first + 1, second),
    jobStatus: stored.slice(second + 1, third) as ValidationJobStatus,
    statusJson: stored.slice(third + 1),
  };
}
