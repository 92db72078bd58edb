import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The grid of picture counts behind low-zoom vector tiles. Cells are the Web Mercator tiles of
 * zoom 9 (GRID_ZOOM in src/map/map-grid.entity.ts). Statement-level triggers append the cells
 * whose public pictures may have changed to `map_grid_dirty` (append-only: writers never wait
 * on each other); the `map.refresh-grid` job recounts them.
 */
export class MapGridTriggers1763800006100 implements MigrationInterface {
  name = 'MapGridTriggers1763800006100';

  async up(q: QueryRunner): Promise<void> {
    // Plain expressions (not STRICT, no subqueries) so that PostgreSQL inlines them: a bulk insert of
    // a million pictures pays a few hundred milliseconds for its grid marks, not minutes.
    // The corner of the bounding box is the point itself for a picture, and never fails on other shapes.
    await q.query(`
      CREATE FUNCTION map_grid_x(g geometry) RETURNS integer
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT least(511, greatest(0, floor((ST_XMin(g) + 180) / 360 * 512)))::integer
      $$
    `);
    await q.query(`
      CREATE FUNCTION map_grid_y(g geometry) RETURNS integer
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT least(511, greatest(0, floor(
          (1 - asinh(tan(radians(greatest(-85.0511287798, least(85.0511287798, ST_YMin(g)))))) / pi()) / 2 * 512
        )))::integer
      $$
    `);
    // A row counts (or did) when it is a ready, public, located picture; the collection's visibility is checked when recounting.
    await q.query(`
      CREATE FUNCTION map_grid_mark_inserted_items() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO map_grid_dirty (x, y)
        SELECT DISTINCT map_grid_x(geom), map_grid_y(geom) FROM new_items
        WHERE kind = 'picture' AND status = 'ready' AND visibility = 'anyone' AND geom IS NOT NULL;
        RETURN NULL;
      END $$
    `);
    await q.query(`
      CREATE FUNCTION map_grid_mark_deleted_items() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO map_grid_dirty (x, y)
        SELECT DISTINCT map_grid_x(geom), map_grid_y(geom) FROM old_items
        WHERE kind = 'picture' AND status = 'ready' AND visibility = 'anyone' AND geom IS NOT NULL;
        RETURN NULL;
      END $$
    `);
    await q.query(`
      CREATE FUNCTION map_grid_mark_updated_items() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO map_grid_dirty (x, y)
        SELECT DISTINCT cx, cy FROM (
          SELECT map_grid_x(g) AS cx, map_grid_y(g) AS cy FROM (
            SELECT CASE WHEN o.kind = 'picture' AND o.status = 'ready' AND o.visibility = 'anyone' THEN o.geom END AS old_g,
                   CASE WHEN n.kind = 'picture' AND n.status = 'ready' AND n.visibility = 'anyone' THEN n.geom END AS new_g
            FROM old_items o JOIN new_items n ON n.id = o.id
            WHERE o.geom IS DISTINCT FROM n.geom OR o.status IS DISTINCT FROM n.status OR o.visibility IS DISTINCT FROM n.visibility
               OR o.kind IS DISTINCT FROM n.kind OR o.collection_id IS DISTINCT FROM n.collection_id
          ) changed
          CROSS JOIN LATERAL (VALUES (old_g), (new_g)) AS v(g)
          WHERE g IS NOT NULL
        ) cells;
        RETURN NULL;
      END $$
    `);
    await q.query(`
      CREATE FUNCTION map_grid_mark_updated_collections() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO map_grid_dirty (x, y)
        SELECT DISTINCT map_grid_x(i.geom), map_grid_y(i.geom)
        FROM old_collections o JOIN new_collections n ON n.id = o.id
        JOIN item i ON i.collection_id = n.id
        WHERE o.visibility IS DISTINCT FROM n.visibility
          AND i.kind = 'picture' AND i.status = 'ready' AND i.visibility = 'anyone' AND i.geom IS NOT NULL;
        RETURN NULL;
      END $$
    `);
    await q.query(`
      CREATE TRIGGER map_grid_items_inserted AFTER INSERT ON item
      REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION map_grid_mark_inserted_items()
    `);
    await q.query(`
      CREATE TRIGGER map_grid_items_deleted AFTER DELETE ON item
      REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION map_grid_mark_deleted_items()
    `);
    await q.query(`
      CREATE TRIGGER map_grid_items_updated AFTER UPDATE ON item
      REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION map_grid_mark_updated_items()
    `);
    await q.query(`
      CREATE TRIGGER map_grid_collections_updated AFTER UPDATE ON collection
      REFERENCING OLD TABLE AS old_collections NEW TABLE AS new_collections FOR EACH STATEMENT EXECUTE FUNCTION map_grid_mark_updated_collections()
    `);
    // Existing pictures: count them once (fresh statistics first, or a large table may get a nested-loop plan).
    await q.query(`ANALYZE item`);
    await q.query(`ANALYZE collection`);
    await q.query(`
      INSERT INTO map_grid (x, y, count)
      SELECT map_grid_x(i.geom), map_grid_y(i.geom), count(*)::integer
      FROM item i JOIN collection c ON c.id = i.collection_id
      WHERE i.kind = 'picture' AND i.status = 'ready' AND i.visibility = 'anyone' AND c.visibility = 'anyone' AND i.geom IS NOT NULL
      GROUP BY 1, 2
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS map_grid_collections_updated ON collection`);
    await q.query(`DROP TRIGGER IF EXISTS map_grid_items_updated ON item`);
    await q.query(`DROP TRIGGER IF EXISTS map_grid_items_deleted ON item`);
    await q.query(`DROP TRIGGER IF EXISTS map_grid_items_inserted ON item`);
    await q.query(`DROP FUNCTION IF EXISTS map_grid_mark_updated_collections()`);
    await q.query(`DROP FUNCTION IF EXISTS map_grid_mark_updated_items()`);
    await q.query(`DROP FUNCTION IF EXISTS map_grid_mark_deleted_items()`);
    await q.query(`DROP FUNCTION IF EXISTS map_grid_mark_inserted_items()`);
    await q.query(`DROP FUNCTION IF EXISTS map_grid_y(geometry)`);
    await q.query(`DROP FUNCTION IF EXISTS map_grid_x(geometry)`);
    await q.query(`DELETE FROM map_grid`);
  }
}
