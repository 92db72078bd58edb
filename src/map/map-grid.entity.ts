import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * Web Mercator tile level of the grid cells: a cell is the tile (x, y) of this zoom. Tiles of
 * lower zooms add cells up (see MapRepository.gridTile). Changing it needs a migration of the
 * SQL functions map_grid_x / map_grid_y.
 */
export const GRID_ZOOM = 9;

/** Number of publicly visible pictures per grid cell, for the `grid` layer of low-zoom tiles. */
@Entity('map_grid')
export class MapGridCell {
  @PrimaryColumn({ type: 'integer' })
  x: number;

  @PrimaryColumn({ type: 'integer' })
  y: number;

  @Column({ type: 'integer' })
  count: number;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * Cells whose count may be stale: appended by triggers on `item` and `collection` (never
 * updated, so concurrent writers never wait on each other), consumed by `map.refresh-grid`.
 */
@Entity('map_grid_dirty')
export class MapGridDirtyCell {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'integer' })
  x: number;

  @Column({ type: 'integer' })
  y: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
