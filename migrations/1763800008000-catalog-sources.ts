import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What used to be decided by a collection's kind becomes data set by its source at creation:
 * how its extent is derived and whether its items are ordered. Items may carry links and
 * extension URLs of their own, and a file purge names each item's folder.
 */
export class CatalogSources1763800008000 implements MigrationInterface {
  name = 'CatalogSources1763800008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "collection" ADD "extent_mode" character varying(16) NOT NULL DEFAULT 'items-bbox'`);
    await q.query(`ALTER TABLE "collection" ADD "ordered" boolean NOT NULL DEFAULT false`);
    await q.query(`UPDATE "collection" SET "extent_mode" = 'items-line', "ordered" = true WHERE "kind" = 'sequence'`);
    await q.query(`UPDATE "collection" SET "extent_mode" = 'declared' WHERE "kind" = 'harvested'`);
    // Sequences made from upload sets said `time-asc`, collection editing `time_asc`: one vocabulary.
    await q.query(
      `UPDATE "collection" SET "properties" = jsonb_set("properties", '{sort_method}', to_jsonb(replace("properties"->>'sort_method', '-', '_')))
       WHERE "properties"->>'sort_method' LIKE '%-%'`,
    );
    await q.query(`ALTER TABLE "item" ADD "links" jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`ALTER TABLE "item" ADD "stac_extensions" text array NOT NULL DEFAULT '{}'`);
    // Links and extension lists kept in the properties by convention move to their columns.
    await q.query(
      `UPDATE "item" SET
         "links" = CASE WHEN jsonb_typeof("properties"->'sightline:links') = 'array' THEN "properties"->'sightline:links' ELSE '[]' END,
         "stac_extensions" = CASE WHEN jsonb_typeof("properties"->'stac_extensions') = 'array'
           THEN ARRAY(SELECT jsonb_array_elements_text("properties"->'stac_extensions')) ELSE '{}' END,
         "properties" = "properties" - 'sightline:links' - 'stac_extensions'
       WHERE "kind" = 'dataset' AND ("properties" ? 'sightline:links' OR "properties" ? 'stac_extensions')`,
    );
    await q.query(`ALTER TABLE "file_purge" ADD "item_prefixes" text array NOT NULL DEFAULT '{}'`);
    // Pending purges were all of picture items, whose folder follows from the id.
    await q.query(
      `UPDATE "file_purge" SET "item_prefixes" = ARRAY(
         SELECT 'pictures/' || substr(x::text, 1, 2) || '/' || substr(x::text, 3, 2) || '/' || x::text || '/'
         FROM unnest("item_ids") WITH ORDINALITY AS u(x, n) ORDER BY n)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "file_purge" DROP COLUMN "item_prefixes"`);
    await q.query(`ALTER TABLE "item" DROP COLUMN "stac_extensions"`);
    await q.query(`ALTER TABLE "item" DROP COLUMN "links"`);
    await q.query(`ALTER TABLE "collection" DROP COLUMN "ordered"`);
    await q.query(`ALTER TABLE "collection" DROP COLUMN "extent_mode"`);
  }
}
