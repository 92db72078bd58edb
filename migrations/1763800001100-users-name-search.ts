import { MigrationInterface, QueryRunner } from 'typeorm';

// Hand-written: the admin user list searches names with ILIKE '%…%', which only a trigram
// index serves. Declared on the User entity with synchronize: false so the drift check keeps it.
export class UsersNameSearch1763800001100 implements MigrationInterface {
  name = 'UsersNameSearch1763800001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "ix_users_name_trgm" ON "users" USING gin ("name" gin_trgm_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_users_name_trgm"`);
  }
}
