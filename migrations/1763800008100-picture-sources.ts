import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pictures are no longer tied to upload sets: a picture names its source (`upload-set`, a drone
 * `flight`…) and that source's batch id, which may be empty. The source removes its pictures
 * itself (no cascade from the upload set any more).
 */
export class PictureSources1763800008100 implements MigrationInterface {
  name = 'PictureSources1763800008100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "picture" DROP CONSTRAINT "fk_picture_upload_set_id"`);
    await q.query(`DROP INDEX "public"."ix_picture_status_upload_set_id"`);
    await q.query(`ALTER TABLE "picture" RENAME COLUMN "upload_set_id" TO "source_id"`);
    await q.query(`ALTER TABLE "picture" ALTER COLUMN "source_id" DROP NOT NULL`);
    await q.query(`ALTER TABLE "picture" ADD "source_kind" character varying(32) NOT NULL DEFAULT 'upload-set'`);
    await q.query(`ALTER TABLE "picture" ALTER COLUMN "source_kind" DROP DEFAULT`);
    await q.query(`CREATE INDEX "ix_picture_source_id_source_kind_status" ON "picture" ("source_kind", "source_id", "status")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_picture_source_id_source_kind_status"`);
    await q.query(`DELETE FROM "picture" WHERE "source_kind" <> 'upload-set' OR "source_id" IS NULL`);
    await q.query(`ALTER TABLE "picture" DROP COLUMN "source_kind"`);
    await q.query(`ALTER TABLE "picture" RENAME COLUMN "source_id" TO "upload_set_id"`);
    await q.query(`ALTER TABLE "picture" ALTER COLUMN "upload_set_id" SET NOT NULL`);
    await q.query(`CREATE INDEX "ix_picture_status_upload_set_id" ON "picture" ("upload_set_id", "status")`);
    await q.query(
      `ALTER TABLE "picture" ADD CONSTRAINT "fk_picture_upload_set_id" FOREIGN KEY ("upload_set_id") REFERENCES "upload_set"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }
}
