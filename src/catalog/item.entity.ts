import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Visibility } from '../auth/visibility.js';
import { type Geometry, GeometryColumn } from '../database/geometry.js';
import { Collection } from './collection.entity.js';

/** Kinds are declared by the sources that create them (`picture`, `dataset`, …): free text here. */
export type ItemKind = string;

export type ItemStatus = 'ready' | 'pending' | 'broken';

/** A link a source stores with its item (rendered absolute; `href` may be relative to the API root). */
export interface StoredLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
}

/**
 * A STAC item. What STAC search needs lives here (geometry, datetime, properties, assets);
 * domain tables (picture, dataset…) share its id and keep their own processing state.
 */
@Entity('item')
// Free-text index of the STAC search (hand-written migration 1763800003000).
@Index('ix_item_search_text', { synchronize: false })
@Index(['collectionId', 'rank'])
@Index(['datetime', 'id'])
@Index(['ownerId'])
export class Item {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  collectionId: string;

  @ManyToOne(() => Collection, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'collection_id' })
  collection?: Collection;

  @Column({ type: 'varchar', length: 16 })
  kind: ItemKind;

  @Column({ type: 'uuid', nullable: true })
  ownerId: string | null;

  @Column({ type: 'varchar', length: 16, default: Visibility.Anyone })
  visibility: Visibility;

  /** Only `ready` items are published; `pending` / `broken` ones are visible to their owner's tools. */
  @Column({ type: 'varchar', length: 16, default: 'ready' })
  status: ItemStatus;

  @Column({ type: 'timestamptz', nullable: true })
  datetime: Date | null;

  @Index({ spatial: true })
  @GeometryColumn('Geometry', { nullable: true })
  geom: Geometry | null;

  /** Position within its collection (a picture's place in its sequence). */
  @Column({ type: 'integer', nullable: true })
  rank: number | null;

  /** STAC properties other than datetime (extension fields included). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  properties: Record<string, unknown>;

  /**
   * STAC assets; `href` values are storage keys or paths relative to the API root and are
   * made absolute when served.
   */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  assets: Record<string, Record<string, unknown>>;

  /** Links the source gives the item besides those every item gets (self, parent, collection…). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  links: StoredLink[];

  /** STAC extension schema URLs the source declares (those recognised from field prefixes are added when served). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  stacExtensions: string[];

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
