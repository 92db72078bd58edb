import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Item } from '../catalog/catalog.types.js';
import type { RasterInfo } from './raster/raster-info.js';

export type DatasetStatus = 'pending' | 'ready' | 'broken';
export type DatasetSource = 'upload' | 'path';

const bigintAsNumber = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * A registered raster (GeoTIFF / COG). Shares its id with the STAC item that publishes it
 * (owner, visibility, collection, footprint and STAC fields live there); this row keeps the
 * file, its hash and the processing state.
 */
@Entity('dataset')
@Index(['sha256'])
@Index(['filePath'])
@Index(['status', 'updatedAt'])
export class Dataset {
  @PrimaryColumn('uuid')
  id: string;

  // The catalog's item table, referenced by entity name (the catalog owns it).
  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'id' })
  item?: Item;

  /** `pending` until ingest has read the file, then `ready` or `broken` (see `error`). */
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: DatasetStatus;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** Bumped every time the file must be (re)read; part of the ingest job id and of cache keys. */
  @Column({ type: 'integer', default: 1 })
  revision: number;

  /** `upload`: the file is in storage at `storageKey`; `path`: it stays where it is, at `filePath`. */
  @Column({ type: 'varchar', length: 16 })
  source: DatasetSource;

  @Column({ type: 'text', nullable: true })
  storageKey: string | null;

  /** Canonical absolute path (symlinks resolved) under one of DATASET_ROOTS. */
  @Column({ type: 'text', nullable: true })
  filePath: string | null;

  /** The file's name as uploaded or found. */
  @Column({ type: 'text' })
  fileName: string;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  size: number | null;

  /** Hex SHA-256 of the file; null until ingest hashed a registered path. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  sha256: string | null;

  /** Modification time of the file when it was last read (resync compares it). */
  @Column({ type: 'timestamptz', nullable: true })
  fileModifiedAt: Date | null;

  /** Registered although a dataset with the same hash exists. */
  @Column({ type: 'boolean', default: false })
  allowDuplicate: boolean;

  /** `EPSG:<n>`, or null (user-defined or no CRS). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  crs: string | null;

  @Column({ type: 'integer', nullable: true })
  width: number | null;

  @Column({ type: 'integer', nullable: true })
  height: number | null;

  @Column({ type: 'integer', nullable: true })
  bandCount: number | null;

  @Column({ type: 'boolean', default: false })
  isCog: boolean;

  /** What ingest learnt about the raster (bands, levels, CRS, transform, statistics…). */
  @Column({ type: 'jsonb', nullable: true })
  raster: RasterInfo | null;

  @Column({ type: 'timestamptz', nullable: true })
  ingestedAt: Date | null;

  /** Duration of the last ingest, in milliseconds. */
  @Column({ type: 'integer', nullable: true })
  ingestMs: number | null;

  /**
   * Ingest runs started for this revision, counted in the database before the file is read: a
   * file that kills or wedges its worker (which Redis would forget with a flush) ends `broken`
   * after a few runs instead of looping.
   */
  @Column({ type: 'integer', default: 0 })
  ingestRuns: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
