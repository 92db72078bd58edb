import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AuthUser } from '../auth/auth.types.js';
import { visibilitySql } from '../auth/visibility.js';
import { itemVisibilitySql } from '../catalog/item-visibility.js';
import { GRID_ZOOM } from './map-grid.entity.js';

/** Extent of a tile in MVT units, and the buffer around it (so lines and symbols join across tiles). */
const EXTENT = 4096;
const BUFFER = 64;

/** The pictures the grid counts: ready, and visible to anonymous users (picture and sequence). */
/**
 * Where a picture was taken: its geometry, or, for a picture whose geometry is what it sees on the
 * ground (a drone photo's footprint), its perspective centre (else a point of the footprint).
 */
const CAMERA_POINT_SQL = `CASE WHEN GeometryType(i.geom) = 'POINT' THEN i.geom
  WHEN jsonb_typeof(i.properties->'pers:perspective_center'->0) = 'number' AND jsonb_typeof(i.properties->'pers:perspective_center'->1) = 'number'
    THEN ST_SetSRID(ST_MakePoint((i.properties->'pers:perspective_center'->>0)::float8, (i.properties->'pers:perspective_center'->>1)::float8), 4326)
  ELSE ST_PointOnSurface(i.geom) END`;
const PUBLIC_PICTURE_SQL = `i.kind = 'picture' AND i.status = 'ready' AND i.visibility = 'anyone' AND c.visibility = 'anyone'`;

/** Serialises grid refreshes across workers (two at once could write stale counts last). */
const GRID_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(hashtext('sightline.map_grid')) AS locked`;

/** Vector tile queries (PostGIS ST_AsMVT) and the upkeep of the grid of picture counts. */
@Injectable()
export class MapRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Runs tile queries in a transaction without JIT compilation: PostGIS declares its MVT
   * functions costly, so on large tables the planner's estimates pass jit_above_cost and
   * compiling would take longer (hundreds of ms) than the query itself.
   */
  withoutJit<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (manager) => {
      await manager.query(`SET LOCAL jit = off`);
      return work(manager);
    });
  }

  /**
   * The `grid` layer of a low-zoom tile: the cells of zoom `GRID_ZOOM` under the tile, added
   * up into cells of zoom z + `levels` (16 × 16 cells per tile with levels = 4).
   */
  async gridTile(z: number, x: number, y: number, manager: EntityManager = this.db.manager, levels = 4): Promise<Buffer> {
    const level = Math.min(GRID_ZOOM, z + levels);
    const shift = GRID_ZOOM - level;
    const span = 1 << (GRID_ZOOM - z);
    const [row] = await manager.query(
      `WITH cells AS (
         SELECT (x >> $4) AS cx, (y >> $4) AS cy, sum(count)::int AS n
         FROM map_grid
         WHERE x BETWEEN $5 AND $6 AND y BETWEEN $7 AND $8
         GROUP BY 1, 2
       )
       SELECT coalesce(ST_AsMVT(t, 'grid', ${EXTENT}, 'geom'), ''::bytea) AS mvt FROM (
         SELECT n AS count, ST_AsMVTGeom(ST_TileEnvelope($9, cx, cy), ST_TileEnvelope($1, $2, $3), ${EXTENT}, 0, true) AS geom
         FROM cells
       ) t WHERE geom IS NOT NULL`,
      [z, x, y, shift, x * span, (x + 1) * span - 1, y * span, (y + 1) * span - 1, level],
    );
    return row.mvt as Buffer;
  }

  /** The `sequences` layer: sequence lines the caller may see, with id, title and date. */
  async sequencesTile(z: number, x: number, y: number, user: AuthUser | undefined, manager: EntityManager = this.db.manager): Promise<Buffer> {
    const vis = visibilitySql('c', user, 4);
    const [row] = await manager.query(
      `SELECT coalesce(ST_AsMVT(t, 'sequences', ${EXTENT}, 'geom'), ''::bytea) AS mvt FROM (
         SELECT c.id::text AS id, c.title,
                to_char(c.datetime_start AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date,
                ST_AsMVTGeom(ST_Transform(c.geom, 3857), ST_TileEnvelope($1, $2, $3), ${EXTENT}, ${BUFFER}, true) AS geom
         FROM collection c
         WHERE c.kind = 'sequence' AND c.status <> 'deleting' AND c.geom IS NOT NULL
           AND c.geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => ${BUFFER / EXTENT}), 4326)
           AND ${vis.sql}
       ) t WHERE geom IS NOT NULL`,
      [z, x, y, ...vis.params],
    );
    return row.mvt as Buffer;
  }

  /** The `pictures` layer: ready pictures the caller may see, with id, heading, sequence id and capture time. */
  async picturesTile(z: number, x: number, y: number, user: AuthUser | undefined, manager: EntityManager = this.db.manager): Promise<Buffer> {
    const vis = itemVisibilitySql('i', 'c', user, 4);
    const [row] = await manager.query(
      `SELECT coalesce(ST_AsMVT(t, 'pictures', ${EXTENT}, 'geom'), ''::bytea) AS mvt FROM (
         SELECT i.id::text AS id,
                CASE WHEN jsonb_typeof(i.properties->'view:azimuth') = 'number' THEN (i.properties->>'view:azimuth')::float8 END AS heading,
                i.collection_id::text AS sequence_id,
                to_char(i.datetime AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS datetime,
                ST_AsMVTGeom(ST_Transform(${CAMERA_POINT_SQL}, 3857), ST_TileEnvelope($1, $2, $3), ${EXTENT}, ${BUFFER}, true) AS geom
         FROM item i JOIN collection c ON c.id = i.collection_id
         WHERE i.kind = 'picture' AND i.status = 'ready'
           AND i.geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => ${BUFFER / EXTENT}), 4326)
           AND ${vis.sql}
       ) t WHERE geom IS NOT NULL`,
      [z, x, y, ...vis.params],
    );
    return row.mvt as Buffer;
  }

  /**
   * The `footprints` layer: ready items other than pictures (datasets, harvested records) and
   * pictures whose geometry is their ground footprint (drone photos) the caller may see, with id,
   * kind, collection id, title and date.
   */
  async footprintsTile(z: number, x: number, y: number, user: AuthUser | undefined, manager: EntityManager = this.db.manager): Promise<Buffer> {
    const vis = itemVisibilitySql('i', 'c', user, 4);
    const [row] = await manager.query(
      `SELECT coalesce(ST_AsMVT(t, 'footprints', ${EXTENT}, 'geom'), ''::bytea) AS mvt FROM (
         SELECT i.id::text AS id, i.kind, i.collection_id::text AS collection_id,
                left(coalesce(i.properties->>'title', ''), 200) AS title,
                to_char(i.datetime AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS datetime,
                ST_AsMVTGeom(ST_Transform(i.geom, 3857), ST_TileEnvelope($1, $2, $3), ${EXTENT}, ${BUFFER}, true) AS geom
         FROM item i JOIN collection c ON c.id = i.collection_id
         WHERE (i.kind <> 'picture' OR GeometryType(i.geom) <> 'POINT') AND i.status = 'ready' AND c.status <> 'deleting'
           AND i.geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => ${BUFFER / EXTENT}), 4326)
           AND ${vis.sql}
         LIMIT 20000
       ) t WHERE geom IS NOT NULL`,
      [z, x, y, ...vis.params],
    );
    return row.mvt as Buffer;
  }

  /**
   * Recounts up to `batch` dirty cells in one transaction (claiming their marks); returns how
   * many cells were recounted, or null when another refresh holds the grid.
   */
  async refreshDirtyCells(batch: number): Promise<number | null> {
    return this.db.transaction(async (m) => {
      const [{ locked }] = await m.query(GRID_LOCK_SQL);
      if (!locked) return null;
      const [row] = await m.query(
        `WITH claimed AS (
           DELETE FROM map_grid_dirty WHERE id IN (SELECT id FROM map_grid_dirty ORDER BY id LIMIT $1) RETURNING x, y
         ), cells AS (
           SELECT DISTINCT x, y FROM claimed
         ), counted AS (
           SELECT cells.x, cells.y,
                  (SELECT count(*)::int FROM item i JOIN collection c ON c.id = i.collection_id
                   WHERE i.geom && ST_Transform(ST_TileEnvelope(${GRID_ZOOM}, cells.x, cells.y), 4326)
                     AND map_grid_x(i.geom) = cells.x AND map_grid_y(i.geom) = cells.y
                     AND ${PUBLIC_PICTURE_SQL}) AS n
           FROM cells
         ), upserted AS (
           INSERT INTO map_grid (x, y, count, updated_at)
           SELECT x, y, n, now() FROM counted WHERE n > 0
           ON CONFLICT (x, y) DO UPDATE SET count = EXCLUDED.count, updated_at = now()
           RETURNING 1
         ), removed AS (
           DELETE FROM map_grid g USING counted WHERE g.x = counted.x AND g.y = counted.y AND counted.n = 0
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM cells)::int AS cells, (SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed) AS written`,
        [batch],
      );
      return row.cells as number;
    });
  }

  /** Recounts every cell from the items (repairs anything); returns the number of non-empty cells, or null when busy. */
  async rebuildGrid(): Promise<number | null> {
    return this.db.transaction(async (m) => {
      const [{ locked }] = await m.query(GRID_LOCK_SQL);
      if (!locked) return null;
      await m.query(`DELETE FROM map_grid_dirty WHERE id <= (SELECT coalesce(max(id), 0) FROM map_grid_dirty)`);
      await m.query(`DELETE FROM map_grid`);
      const rows: unknown[] = await m.query(
        `INSERT INTO map_grid (x, y, count, updated_at)
         SELECT map_grid_x(i.geom), map_grid_y(i.geom), count(*)::int, now()
         FROM item i JOIN collection c ON c.id = i.collection_id
         WHERE ${PUBLIC_PICTURE_SQL} AND i.geom IS NOT NULL
         GROUP BY 1, 2
         RETURNING 1`,
      );
      return rows.length;
    });
  }

  /** Distinct cells marked dirty, and cells in the grid. */
  async gridStats(): Promise<{ dirtyCells: number; gridCells: number }> {
    const [row] = await this.db.query(`SELECT (SELECT count(*) FROM (SELECT DISTINCT x, y FROM map_grid_dirty) d)::int AS dirty, (SELECT count(*) FROM map_grid)::int AS grid`);
    return { dirtyCells: row.dirty, gridCells: row.grid };
  }
}
