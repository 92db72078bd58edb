import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Visibility } from '../auth/visibility.js';
import { Collection } from './collection.entity.js';
import type { ItemStatus } from './item.entity.js';

/** How the pictures of a sequence are ordered (the upload set's `sort_method` vocabulary). */
export const SORT_METHODS = ['time_asc', 'time_desc', 'filename_asc', 'filename_desc'] as const;
export type SortMethod = (typeof SORT_METHODS)[number];

/**
 * The original file name of a picture, as the pipeline stores it in the item's properties
 * (`original_file:name`, as Panoramax publishes it; older spellings accepted).
 */
const FILE_NAME_SQL = `coalesce(properties->>'original_file:name', properties->>'file_name', properties->>'filename')`;

/** ORDER BY clauses per sort method: fixed SQL chosen from a closed list, never user text. */
const ORDER_SQL: Record<SortMethod, string> = {
  time_asc: `datetime ASC NULLS LAST, ${FILE_NAME_SQL} ASC NULLS LAST, id`,
  time_desc: `datetime DESC NULLS LAST, ${FILE_NAME_SQL} DESC NULLS LAST, id`,
  filename_asc: `${FILE_NAME_SQL} ASC NULLS LAST, datetime ASC NULLS LAST, id`,
  filename_desc: `${FILE_NAME_SQL} DESC NULLS LAST, datetime DESC NULLS LAST, id`,
};

/** Marks a `view:azimuth` the server derived from the path rather than one the camera or a person gave. */
export const HEADING_COMPUTED_PROPERTY = 'sightline:heading_computed';

/** Visibilities from the most to the least open. */
const visibilityRank = (column: string) => `(CASE ${column} WHEN 'anyone' THEN 0 WHEN 'logged-only' THEN 1 ELSE 2 END)`;

/**
 * The items a collection's aggregates (count, extent, line, temporal interval) are made of: the
 * ready ones that everyone who may see the collection may also see. A public sequence with one
 * owner-only picture shows anonymous callers neither that picture in its count nor its position
 * in its line or extent. (Its owner sees the picture itself, and these shared aggregates.)
 */
const AUDIENCE_ITEM_SQL = (item: string, collectionId: string) =>
  `${item}.status = 'ready' AND ${visibilityRank(`${item}.visibility`)} <= (SELECT ${visibilityRank('cv.visibility')} FROM collection cv WHERE cv.id = ${collectionId})`;

/** Memory for the sorts of a maintenance recompute (PostgreSQL's default is 4 MB). */
const RECOMPUTE_WORK_MEM = '128MB';

/** TypeORM answers an UPDATE with `[rows, rowCount]`. */
function updatedCount(result: unknown): number {
  return (result as [unknown[], number])[1];
}

export interface ItemAccessRow {
  id: string;
  collection_id: string;
  kind: string;
  status: string;
  owner_id: string | null;
  visibility: Visibility;
  collection_owner_id: string | null;
  collection_visibility: Visibility;
  updated_at: Date;
}

export interface FilePurgeRow {
  id: string;
  reason: string;
  item_ids: string[];
  item_prefixes: string[];
  prefixes: string[];
  attempts: number;
}

/** SQL over collections and items that TypeORM's query builder does not express well. */
@Injectable()
export class CatalogRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Recomputes a collection's counts, temporal extent and (unless `keepGeometry`) footprint
   * from its ready items its whole audience may see, in one statement.
   */
  async refreshExtent(collectionId: string, options: { keepGeometry?: boolean } = {}, manager: EntityManager = this.db.manager): Promise<void> {
    await this.lockForAggregates([collectionId], manager);
    await manager.query(
      `UPDATE collection c SET
         item_count = s.n,
         datetime_start = s.t0,
         datetime_end = s.t1,
         geom = CASE WHEN $2 THEN c.geom ELSE s.g END,
         updated_at = now()
       FROM (
         SELECT count(*)::int AS n, min(datetime) AS t0, max(datetime) AS t1,
                ST_Envelope(ST_Extent(geom))::geometry AS g_env,
                CASE WHEN count(geom) = 0 THEN NULL
                     WHEN count(geom) = 1 THEN ST_SetSRID(ST_Collect(geom), 4326)
                     ELSE ST_SetSRID(ST_Envelope(ST_Extent(geom))::geometry, 4326) END AS g
         FROM item i WHERE i.collection_id = $1 AND ${AUDIENCE_ITEM_SQL('i', '$1')}
       ) s
       WHERE c.id = $1`,
      [collectionId, options.keepGeometry === true],
    );
  }

  /**
   * Counts, temporal extent and geometry of collections from their ready items, by extent mode:
   * `items-line` gets the line through its point items in rank order (the box when fewer than
   * two), `items-bbox` the box of its items; `declared` keeps the extent its source declared
   * (a harvest may hold part of the remote items) and only gets its count.
   */
  async recomputeCollections(ids: string[], manager: EntityManager = this.db.manager): Promise<number> {
    if (!ids.length) return 0;
    await this.lockForAggregates(ids, manager);
    const result: unknown = await manager.query(
      `UPDATE collection c SET
         item_count = s.n,
         datetime_start = CASE WHEN c.extent_mode = 'declared' THEN c.datetime_start ELSE s.t0 END,
         datetime_end = CASE WHEN c.extent_mode = 'declared' THEN c.datetime_end ELSE s.t1 END,
         geom = CASE
           WHEN c.extent_mode = 'declared' THEN c.geom
           WHEN c.extent_mode = 'items-line' AND s.points > 1 THEN s.line
           ELSE s.env END,
         updated_at = now()
       FROM (
         SELECT ids.id, a.*
         FROM unnest($1::uuid[]) AS ids(id)
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS n, min(i.datetime) AS t0, max(i.datetime) AS t1,
                  count(*) FILTER (WHERE GeometryType(i.geom) = 'POINT') AS points,
                  ST_SetSRID(ST_MakeLine(i.geom ORDER BY i.rank NULLS LAST, i.datetime, i.id) FILTER (WHERE GeometryType(i.geom) = 'POINT'), 4326) AS line,
                  ST_SetSRID(ST_Extent(i.geom)::geometry, 4326) AS env
           FROM item i WHERE i.collection_id = ids.id AND ${AUDIENCE_ITEM_SQL('i', 'ids.id')}
         ) a
       ) s
       WHERE c.id = s.id`,
      [ids],
    );
    return updatedCount(result);
  }

  /**
   * recomputeCollections for a batch of a maintenance run, in a transaction of its own (the rows
   * stay locked until the aggregates are written) with the memory to sort a large collection's
   * points into its line without spilling to disk (a 300,000-picture sequence needs ~30 MB).
   */
  async recomputeCollectionsBatch(ids: string[]): Promise<number> {
    return this.db.transaction(async (manager) => {
      await manager.query(`SET LOCAL work_mem = '${RECOMPUTE_WORK_MEM}'`);
      return this.recomputeCollections(ids, manager);
    });
  }

  /** The oldest collection of a kind matching owner (null = none), title and a properties subset. */
  async findCollectionBy(
    where: { kind: string; ownerId?: string | null; title?: string; properties?: Record<string, unknown> },
    manager: EntityManager,
  ): Promise<Collection | null> {
    const qb = manager.getRepository(Collection).createQueryBuilder('c').where('c.kind = :kind', { kind: where.kind });
    if (where.ownerId === null) qb.andWhere('c.owner_id IS NULL');
    else if (where.ownerId !== undefined) qb.andWhere('c.owner_id = :ownerId', { ownerId: where.ownerId });
    if (where.title !== undefined) qb.andWhere('c.title = :title', { title: where.title });
    if (where.properties) qb.andWhere('c.properties @> CAST(:properties AS jsonb)', { properties: JSON.stringify(where.properties) });
    return qb.orderBy('c.created_at', 'ASC').addOrderBy('c.id', 'ASC').getOne();
  }

  async countCollections(): Promise<number> {
    const [row] = await this.db.query(`SELECT count(*)::int AS n FROM collection`);
    return row.n;
  }

  /** Collection ids in id order after `afterId` (keyset paging over the whole table). */
  async collectionIdsAfter(afterId: string | null, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM collection WHERE $1::uuid IS NULL OR id > $1::uuid ORDER BY id LIMIT $2`, [afterId, limit]);
    return rows.map((r) => r.id);
  }

  /** Gives the items of a collection ranks 1..n in the given order; returns how many moved. */
  async resortItems(collectionId: string, method: SortMethod, manager: EntityManager = this.db.manager): Promise<number> {
    const result: unknown = await manager.query(
      `UPDATE item i SET rank = o.r, updated_at = now()
       FROM (SELECT id, row_number() OVER (ORDER BY ${ORDER_SQL[method]})::int AS r FROM item WHERE collection_id = $1) o
       WHERE i.id = o.id AND i.rank IS DISTINCT FROM o.r`,
      [collectionId],
    );
    return updatedCount(result);
  }

  /** Renumbers ranks 1..n keeping their order (after an item left the collection). */
  async closeRankGaps(collectionId: string, manager: EntityManager = this.db.manager): Promise<void> {
    await manager.query(
      `UPDATE item i SET rank = o.r, updated_at = now()
       FROM (SELECT id, row_number() OVER (ORDER BY rank, id)::int AS r FROM item WHERE collection_id = $1 AND rank IS NOT NULL) o
       WHERE i.id = o.id AND i.rank <> o.r`,
      [collectionId],
    );
  }

  /**
   * Sets `view:azimuth` of the point items of an ordered collection from the direction of travel (towards
   * the next picture; from the previous one for the last) plus `relativeHeading`.
   * `onlyComputed`: leave alone the pictures whose heading came from the camera or a person.
   * A lone picture gets `relativeHeading` from north only when `headingForLonePicture`.
   * Returns how many pictures got a heading.
   */
  async recomputeHeadings(
    collectionId: string,
    options: { relativeHeading: number; onlyComputed: boolean; headingForLonePicture: boolean },
    manager: EntityManager = this.db.manager,
  ): Promise<number> {
    const result: unknown = await manager.query(
      `WITH ordered AS (
         SELECT id, geom, properties,
                lead(geom) OVER w AS next_geom, lag(geom) OVER w AS prev_geom, count(*) OVER () AS n
         FROM item
         WHERE collection_id = $1 AND GeometryType(geom) = 'POINT'
         WINDOW w AS (ORDER BY rank NULLS LAST, id)
       ), computed AS (
         SELECT id, CASE
             WHEN next_geom IS NOT NULL AND NOT ST_Equals(geom, next_geom) THEN degrees(ST_Azimuth(geom::geography, next_geom::geography))
             WHEN prev_geom IS NOT NULL AND NOT ST_Equals(prev_geom, geom) THEN degrees(ST_Azimuth(prev_geom::geography, geom::geography))
             WHEN n = 1 AND $4::boolean THEN 0
           END AS azimuth
         FROM ordered
         WHERE NOT $3::boolean
            OR jsonb_typeof(properties->'view:azimuth') IS DISTINCT FROM 'number'
            OR properties->>'${HEADING_COMPUTED_PROPERTY}' = 'true'
       )
       UPDATE item i SET
         properties = i.properties || jsonb_build_object(
           'view:azimuth', mod(round((c.azimuth + $2::double precision)::numeric, 1) + 720, 360),
           '${HEADING_COMPUTED_PROPERTY}', true),
         updated_at = now()
       FROM computed c
       WHERE i.id = c.id AND c.azimuth IS NOT NULL`,
      [collectionId, options.relativeHeading, options.onlyComputed, options.headingForLonePicture],
    );
    return updatedCount(result);
  }

  async setItemStatus(itemId: string, status: ItemStatus, manager: EntityManager = this.db.manager): Promise<void> {
    await manager.query(`UPDATE item SET status = $2, updated_at = now() WHERE id = $1`, [itemId, status]);
  }

  /** Sets and removes keys of an item's properties in one statement (other keys untouched). */
  async patchItemProperties(itemId: string, set: Record<string, unknown>, unset: string[], manager: EntityManager = this.db.manager): Promise<void> {
    await manager.query(`UPDATE item SET properties = (properties - $3::text[]) || $2::jsonb, updated_at = now() WHERE id = $1`, [itemId, JSON.stringify(set), unset]);
  }

  /** An item with what visibility checks need about it and its collection. */
  async itemAccess(itemId: string, manager: EntityManager = this.db.manager): Promise<ItemAccessRow | null> {
    const rows: ItemAccessRow[] = await manager.query(
      `SELECT i.id, i.collection_id, i.kind, i.status, i.owner_id, i.visibility, i.updated_at,
              c.owner_id AS collection_owner_id, c.visibility AS collection_visibility
       FROM item i JOIN collection c ON c.id = i.collection_id
       WHERE i.id = $1`,
      [itemId],
    );
    return rows[0] ?? null;
  }

  /** Ids and kinds of a collection's items (to clean up after them). */
  async itemsOfCollection(collectionId: string, manager: EntityManager = this.db.manager): Promise<{ id: string; kind: string }[]> {
    return manager.query(`SELECT id, kind FROM item WHERE collection_id = $1`, [collectionId]);
  }

  /**
   * Two writers refreshing one collection's aggregates (two datasets finishing at once) must not
   * both count from snapshots that miss the other's item, the last one winning with a stale
   * count and extent. Locking the rows first, in a statement of its own, makes the second wait
   * for the first to commit; its UPDATE then starts with a snapshot that sees the first's item.
   */
  private async lockForAggregates(ids: string[], manager: EntityManager): Promise<void> {
    await manager.query(`SELECT 1 FROM collection WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
  }

  /** Locks a collection row for the rest of the transaction (concurrent edits of one sequence queue up). */
  async lockCollection(collectionId: string, manager: EntityManager): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT id FROM collection WHERE id = $1 FOR UPDATE`, [collectionId]);
    return rows.length > 0;
  }

  async insertPurge(row: { reason: string; itemFolders: { itemId: string; prefix: string }[]; prefixes: string[] }, manager: EntityManager = this.db.manager): Promise<string> {
    const [inserted]: { id: string }[] = await manager.query(
      `INSERT INTO file_purge (reason, item_ids, item_prefixes, prefixes) VALUES ($1, $2::uuid[], $3::text[], $4::text[]) RETURNING id`,
      [row.reason, row.itemFolders.map((f) => f.itemId), row.itemFolders.map((f) => f.prefix), row.prefixes],
    );
    return inserted!.id;
  }

  /**
   * Runs `work` on the oldest pending purge (or the one given) inside a transaction that holds
   * its row lock, and deletes the row when `work` succeeds. Other workers skip locked rows.
   * Returns false when there was nothing to do.
   */
  async withNextPurge(purgeId: string | undefined, work: (row: FilePurgeRow) => Promise<void>): Promise<boolean> {
    let claimed: FilePurgeRow | undefined;
    try {
      return await this.db.transaction(async (manager) => {
        const rows: FilePurgeRow[] = await manager.query(
          `SELECT id, reason, item_ids, item_prefixes, prefixes, attempts FROM file_purge
           WHERE $1::uuid IS NULL OR id = $1::uuid
           ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [purgeId ?? null],
        );
        claimed = rows[0];
        if (!claimed) return false;
        await work(claimed);
        await manager.query(`DELETE FROM file_purge WHERE id = $1`, [claimed.id]);
        return true;
      });
    } catch (error) {
      if (claimed) await this.db.query(`UPDATE file_purge SET attempts = attempts + 1 WHERE id = $1`, [claimed.id]);
      throw error;
    }
  }

  /** Of these ids, those that are items again (a picture moved to another sequence keeps its id and files). */
  async existingItemIds(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM item WHERE id = ANY($1::uuid[])`, [ids]);
    return new Set(rows.map((r) => r.id));
  }

  /** Purges that should have been done by now: their job was lost or failed. */
  async countStalePurges(olderThanSeconds: number): Promise<number> {
    const [row] = await this.db.query(`SELECT count(*)::int AS n FROM file_purge WHERE created_at < now() - make_interval(secs => $1)`, [olderThanSeconds]);
    return row.n;
  }
}
