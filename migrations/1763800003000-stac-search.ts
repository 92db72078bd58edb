import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hand-written: what the STAC search needs beyond the entities.
 * - sightline_try_timestamptz: a cast that yields NULL instead of failing, so a CQL2 filter on a
 *   date-time property can never fail on a malformed stored value.
 * - sightline_text_array: array_to_string is only STABLE; this IMMUTABLE wrapper lets text[]
 *   columns take part in an expression index.
 * - GIN indexes for free-text search (`q`) over items and collections. Their expressions must
 *   stay identical to ITEM_TEXT_SQL / COLLECTION_TEXT_SQL in src/stac/stac.repository.ts.
 * - A covering partial index of published collections for the visibility join of searches.
 * The indexes are declared with `synchronize: false` in the entities.
 */
export class StacSearch1763800003000 implements MigrationInterface {
  name = 'StacSearch1763800003000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION sightline_try_timestamptz(value text) RETURNS timestamptz
      LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
      BEGIN
        RETURN value::timestamptz;
      EXCEPTION WHEN others THEN
        RETURN NULL;
      END
      $$
    `);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION sightline_text_array(value text[]) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(array_to_string(value, ' '), '') $$
    `);
    await queryRunner.query(`
      CREATE INDEX "ix_item_search_text" ON "item" USING gin ((to_tsvector('simple'::regconfig, coalesce(properties->>'title', '') || ' ' || coalesce(properties->>'description', '') || ' ' || coalesce(properties->>'keywords', '') || ' ' || coalesce(properties->>'platform', '') || ' ' || coalesce(properties->>'constellation', '') || ' ' || coalesce(properties->>'mission', '') || ' ' || coalesce(properties->>'instruments', '') || ' ' || coalesce(properties->'pers:interior_orientation'->>'camera_manufacturer', '') || ' ' || coalesce(properties->'pers:interior_orientation'->>'camera_model', ''))))
    `);
    await queryRunner.query(`
      CREATE INDEX "ix_collection_search_text" ON "collection" USING gin ((to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || sightline_text_array(keywords))))
    `);
    // Every item search joins its collection to check status and visibility: an index-only
    // lookup by id instead of a heap fetch (or a hash of the whole table) per candidate.
    await queryRunner.query(`
      CREATE INDEX "ix_collection_published" ON "collection" ("id") INCLUDE ("visibility", "owner_id", "license") WHERE status = 'ready'
    `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "ix_collection_published"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "ix_collection_search_text"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "ix_item_search_text"`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS sightline_text_array(text[])`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS sightline_try_timestamptz(text)`);
  }
}
