import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Harvester } from './harvester.entity.js';

export type ResourceStatus = 'available' | 'missing' | 'harvested' | 'failed';

/** One remote unit a person can select for harvesting: a remote STAC collection, a GeoNode resource, a CSW record set. */
@Entity('harvestable_resource')
@Index(['harvesterId', 'remoteId'], { unique: true })
export class HarvestableResource {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  harvesterId: string;

  @ManyToOne(() => Harvester, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'harvester_id' })
  harvester?: Harvester;

  /** The remote's own identifier: records are matched by it, never by title. */
  @Column({ type: 'text' })
  remoteId: string;

  @Column({ type: 'text' })
  title: string;

  /** The remote kind (`stac-collection`, `dataset`, `map`, `csw-records`…). */
  @Column({ type: 'varchar', length: 32 })
  type: string;

  @Column({ type: 'text', nullable: true })
  remoteUrl: string | null;

  @Column({ type: 'boolean', default: false })
  selected: boolean;

  @Column({ type: 'varchar', length: 12, default: 'available' })
  status: ResourceStatus;

  /** What the remote said of it when last discovered (used to describe the local collection). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  description: Record<string, unknown>;

  @Column({ type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  missingSince: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastHarvestedAt: Date | null;

  /** Counters and error of the last harvest of this resource. */
  @Column({ type: 'jsonb', nullable: true })
  lastResult: Record<string, unknown> | null;

  /** The local collection its records go to (created by the first harvest). */
  @Column({ type: 'uuid', nullable: true })
  collectionId: string | null;

  /** Remote `updated` time up to which records are known (saved only after a successful run). */
  @Column({ type: 'text', nullable: true })
  watermark: string | null;

  /** When the remote ids were last listed in full (deletions are found then). */
  @Column({ type: 'timestamptz', nullable: true })
  lastFullListingAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
