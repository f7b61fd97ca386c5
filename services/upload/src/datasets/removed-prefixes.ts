import type { EntityManager } from 'typeorm';

/**
 * Records the prefixes of datasets about to be deleted, for the storage sweep to empty
 * again until their upload URLs (plus `graceSeconds`) expired: the rows go now, the
 * URLs stay valid, and a late PUT must not leave an object no row knows of. Runs in the
 * transaction that deletes the rows.
 */
export async function rememberDeletedPrefixes(m: EntityManager, datasetIds: string[], graceSeconds: number): Promise<void> {
  await m.query(
    `INSERT INTO removed_prefixes (prefix, sweep_until, uploads_only)
     SELECT 'datasets/' || id || '/', greatest(upload_expires_at + make_interval(secs => $2), now()), false FROM datasets WHERE id = ANY($1::uuid[])
     ON CONFLICT (prefix) DO UPDATE SET uploads_only = false, sweep_until = greatest(removed_prefixes.sweep_until, EXCLUDED.sweep_until), next_sweep_at = now()`,
    [datasetIds, graceSeconds],
  );
}

/**
 * After completion moved a dataset's single-PUT files to their object keys, its upload
 * keys are swept (only they) until the upload URLs expired: a PUT to an old URL writes
 * an object nothing reads, and it should not stay.
 */
export async function rememberUploadKeys(m: EntityManager, datasetId: string, graceSeconds: number): Promise<void> {
  await m.query(
    `INSERT INTO removed_prefixes (prefix, sweep_until, uploads_only, next_sweep_at)
     SELECT 'datasets/' || id || '/', upload_expires_at + make_interval(secs => $2), true, now() FROM datasets WHERE id = $1
     ON CONFLICT (prefix) DO NOTHING`,
    [datasetId, graceSeconds],
  );
}
