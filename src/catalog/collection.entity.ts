import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Visibility } from '../auth/visibility.js';
import { type Geometry, GeometryColumn } from '../database/geometry.js';

/** Kinds are declared by the sources that create them (`sequence`, `dataset`, …): free text here. */
export type CollectionKind = string;

/**
 * How a collection's spatial and temporal extent is derived: from its items as the line through
 * them in rank order (a sequence of pictures), from its items as their bounding box, or as its
 * source declared it (a harvested record: its local items may be a partial copy).
 */
export const EXTENT_MODES = ['items-line', 'items-bbox', 'declared'] as const;
export type ExtentMode = (typeof EXTENT_MODES)[number];

export type CollectionStatus = 'ready' | 'preparing' | 'broken' | 'deleting';

/** A STAC collection: a sequence of pictures, a set of datasets, a harvested remote collection… */
@Entity('collection')
// Free-text index of the STAC collection search (hand-written migration 1763800003000).
@Index('ix_collection_search_text', { synchronize: false })
// Covering index of published collections for the STAC visibility join (same migration).
@Index('ix_collection_published', { synchronize: false })
@Index(['kind', 'createdAt'])
@Index(['ownerId'])
export class Collection {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 16 })
  kind: CollectionKind;

  @Column({ type: 'uuid', nullable: true })
  ownerId: string | null;

  // The users table is the auth domain's: referenced by entity name, not imported.
  @ManyToOne('User', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'owner_id' })
  owner?: unknown;

  @Column({ type: 'varchar', length: 16, default: Visibility.Anyone })
  visibility: Visibility;

  /** `ready`, or `preparing` / `broken` / `deleting` while the pipeline or a delete works on it. */
  @Column({ type: 'varchar', length: 16, default: 'ready' })
  status: CollectionStatus;

  /** How the extent is derived (set at creation by the source; see ExtentMode). */
  @Column({ type: 'varchar', length: 16, default: 'items-bbox' })
  extentMode: ExtentMode;

  /**
   * Its items form an ordered series (by rank): STAC items get `prev` / `next` links and the
   * collection the thumbnail of its first item.
   */
  @Column({ type: 'boolean', default: false })
  ordered: boolean;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** SPDX identifier, or `other` / `proprietary`. */
  @Column({ type: 'varchar', length: 64, default: 'proprietary' })
  license: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  keywords: string[];

  /** STAC providers objects. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  providers: unknown[];

  /** Spatial footprint of the items (a sequence's path, a union of footprints…); bbox derives from it. */
  @Index({ spatial: true })
  @GeometryColumn('Geometry', { nullable: true })
  geom: Geometry | null;

  @Column({ type: 'timestamptz', nullable: true })
  datetimeStart: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  datetimeEnd: Date | null;

  /** STAC summaries. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  summaries: Record<string, unknown>;

  /** Kind-specific fields (a sequence's relative heading and sort order, a harvested record's source…). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  properties: Record<string, unknown>;

  @Column({ type: 'integer', default: 0 })
  itemCount: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
