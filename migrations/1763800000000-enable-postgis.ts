import { MigrationInterface, QueryRunner } from 'typeorm';

export class EnablePostgis1763800000000 implements MigrationInterface {
  name = 'EnablePostgis1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS postgis`);
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP EXTENSION IF EXISTS pg_trgm`);
    await q.query(`DROP EXTENSION IF EXISTS postgis`);
  }
}
