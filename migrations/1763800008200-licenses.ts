import { MigrationInterface, QueryRunner } from 'typeorm';

/** An upload set may choose the license of its sequences (null: the instance's content license). */
export class Licenses1763800008200 implements MigrationInterface {
  name = 'Licenses1763800008200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "upload_set" ADD "license" character varying(64)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "upload_set" DROP COLUMN "license"`);
  }
}
