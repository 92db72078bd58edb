import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Visibility } from '../auth/visibility.js';

/** What happens to local copies of records that disappeared remotely. */
export const DELETION_POLICIES = ['delete', 'hide', 'keep'] as const;
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];

/**
 * Remote assets are linked to (their hrefs stay remote), or GeoTIFF / COG assets are also copied
 * into Sightline's datasets (up to DATASET_MAX_BYTES each).
 */
export const ASSET_MODES = ['link', 'copy'] as const;
export type AssetMode = (typeof ASSET_MODES)[number];

export type Availability = 'unknown' | 'available' | 'unavailable';

/** How often each action runs on its own (minutes; null = never), and the random spread around it. */
export interface HarvesterSchedule {
  check_every_minutes?: number | null;
  discover_every_minutes?: number | null;
  harvest_every_minutes?: number | null;
  /** ± percent of the period added at random, so harvesters of one host do not fire together. */
  jitter_percent?: number;
  /**
   * After incremental harvests, list every remote id at most this often (hours; 0 = every run) to
   * find records deleted remotely. Default 24.
   */
  list_ids_every_hours?: number;
}

/** A remote catalog Sightline harvests: its type, address, settings and schedule. */
@Entity('harvester')
@Index(['name'], { unique: true })
export class Harvester {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** One of the registered harvester types (GET /api/harvester-types). */
  @Column({ type: 'varchar', length: 32 })
  type: string;

  @Column({ type: 'text' })
  url: string;

  /** Type-specific settings, validated by the type's published JSON schema. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  config: Record<string, unknown>;

  /** Owner of what the harvester creates (its collections and items). */
  @Column({ type: 'uuid', nullable: true })
  ownerId: string | null;

  // The users table is the auth domain's: referenced by entity name, not imported.
  @ManyToOne('User', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'owner_id' })
  owner?: unknown;

  /** Visibility of what it creates. */
  @Column({ type: 'varchar', length: 16, default: Visibility.Anyone })
  visibility: Visibility;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  schedule: HarvesterSchedule;

  @Column({ type: 'varchar', length: 8, default: 'delete' })
  deletionPolicy: DeletionPolicy;

  /** Consecutive complete runs a record must be missing before the policy applies. */
  @Column({ type: 'integer', default: 2 })
  deletionGraceRuns: number;

  /** A run never deletes (or hides) more than this share of the harvester's records. */
  @Column({ type: 'integer', default: 20 })
  massDeleteMaxPercent: number;

  @Column({ type: 'varchar', length: 8, default: 'link' })
  assetMode: AssetMode;

  /** Scheduled runs stop (enabled = false) after this many consecutive failed sessions. */
  @Column({ type: 'integer', default: 5 })
  disableAfterFailures: number;

  @Column({ type: 'integer', default: 0 })
  consecutiveFailures: number;

  /** Why scheduled runs stopped on their own (null when they did not). */
  @Column({ type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ type: 'varchar', length: 12, default: 'unknown' })
  availability: Availability;

  @Column({ type: 'text', nullable: true })
  availabilityMessage: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastCheckedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastDiscoveredAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastHarvestedAt: Date | null;

  /** When each scheduled action is next due (null = not scheduled). */
  @Column({ type: 'timestamptz', nullable: true })
  nextCheckAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  nextDiscoverAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  nextHarvestAt: Date | null;

  @Column({ type: 'uuid', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
