import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A picture is a duplicate only of its owner's pictures: refusing a file because someone else
 * uploaded the same bytes would tell them that the other person has it (a private picture).
 * (Reverting fails while two owners hold the same bytes, as it should.)
 */
export class PicturesDuplicatesPerOwner1763800007000 implements MigrationInterface {
  name = 'PicturesDuplicatesPerOwner1763800007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_picture_sha256"`);
    await q.query(`CREATE UNIQUE INDEX "ix_picture_owner_id_sha256" ON "picture" ("owner_id", "sha256")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_picture_owner_id_sha256"`);
    await q.query(`CREATE UNIQUE INDEX "ix_picture_sha256" ON "picture" USING btree ("sha256")`);
  }
}
