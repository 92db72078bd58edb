import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** SQL over collections and items that TypeORM's query builder does not express well. */
@Injectable()
export class CollectionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Recomputes a collection's counts, temporal extent and (unless `keepGeometry`) footprint
   * from its ready items, in one statement.
   */
  async refreshExtent(collectionId: string, options: { keepGeometry?: boolean } = {}, manager: EntityManager = this.db.manager): Promise<void> {
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
         FROM item WHERE collection_id = $1 AND status = 'ready'
       ) s
       WHERE c.id = $1`,
      [collectionId, options.keepGeometry === true],
    );
  }
}
