import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { HarvestableResource } from './harvestable-resource.entity.js';

/**
 * One remote record and the local item it became. Shares its id with that item; matched to the
 * remote by (resource, remote id) so a renamed record stays the same item.
 */
@Entity('harvested_record')
@Index(['resourceId', 'remoteId'], { unique: true })
@Index(['harvesterId', 'missingRuns'])
export class HarvestedRecord {
  /** The local item's id. */
  @PrimaryColumn('uuid')
  id: string;

  // The catalog's item table, referenced by entity name (the catalog owns it).
  @ManyToOne('Item', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'id' })
  item?: unknown;

  @Column({ type: 'uuid' })
  harvesterId: string;

  @Column({ type: 'uuid' })
  resourceId: string;

  @ManyToOne(() => HarvestableResource, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'resource_id' })
  resource?: HarvestableResource;

  @Column({ type: 'text' })
  remoteId: string;

  /** SHA-256 of the record's canonical JSON: an unchanged record is not rewritten. */
  @Column({ type: 'varchar', length: 64 })
  contentHash: string;

  @Column({ type: 'text', nullable: true })
  remoteUpdated: string | null;

  /** Consecutive complete listings it was absent from. */
  @Column({ type: 'integer', default: 0 })
  missingRuns: number;

  /** Hidden by the deletion policy `hide` (the item is visible to its owner only). */
  @Column({ type: 'boolean', default: false })
  hidden: boolean;

  @Column({ type: 'uuid', nullable: true })
  lastSessionId: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * The validators (ETag, Last-Modified) a remote file was last fetched with, for conditional GETs,
 * with the remote id of the record it holds and, for small index files, what the type keeps of it.
 */
@Entity('harvest_validator')
export class HarvestValidator {
  @PrimaryColumn('uuid')
  harvesterId: string;

  @PrimaryColumn('text')
  url: string;

  @ManyToOne('Harvester', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'harvester_id' })
  harvester?: unknown;

  @Column({ type: 'text', nullable: true })
  etag: string | null;

  @Column({ type: 'text', nullable: true })
  lastModified: string | null;

  @Column({ type: 'text', nullable: true })
  remoteId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  data: unknown;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
