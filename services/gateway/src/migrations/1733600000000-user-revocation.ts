import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users can be disabled, and each has a token version: every access token carries the
 * version it was issued under, and raising it (logout, refresh-token reuse, any change
 * to the user) ends the tokens issued before.
 */
export class UserRevocation1733600000000 implements MigrationInterface {
  name = 'UserRevocation1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN token_version`);
    await q.query(`ALTER TABLE users DROP COLUMN disabled`);
  }
}
