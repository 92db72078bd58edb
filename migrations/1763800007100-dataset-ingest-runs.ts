import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ingest runs of a dataset's current revision, counted in the database before the file is read:
 * a file that kills or wedges the worker is given up after a few runs, even when Redis (and the
 * job's own attempt count with it) was lost.
 */
export class DatasetIngestRuns1763800007100 implements MigrationInterface {
  name = 'DatasetIngestRuns1763800007100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "dataset" ADD "ingest_runs" integer NOT NULL DEFAULT '0'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "dataset" DROP COLUMN "ingest_runs"`);
  }
}
