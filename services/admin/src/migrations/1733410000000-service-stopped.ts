import type { MigrationInterface, QueryRunner } from 'typeorm';

/** An instance that said goodbye on a graceful shutdown is `stopped`, not `down`. */
export class ServiceStopped1733410000000 implements MigrationInterface {
  name = 'ServiceStopped1733410000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['service_instances', 'service_transitions']) {
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${table}_status_check`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_status_check CHECK (status IN ('up', 'down', 'stopped'))`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['service_instances', 'service_transitions']) {
      await q.query(`UPDATE ${table} SET status = 'down' WHERE status = 'stopped'`);
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${table}_status_check`);
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_status_check CHECK (status IN ('up', 'down'))`);
    }
  }
}
