import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { GeometryColumn, type Polygon } from '../database/geometry.js';

export type DroneMediaKind = 'photo' | 'video' | 'other';
export type DroneMediaStatus = 'received' | 'processing' | 'ready' | 'rejected';

/** A file a pilot app sent (a photo, a video…), deduplicated by its fingerprint within a workspace. */
@Entity('drone_media')
@Index(['workspaceId', 'fingerprint'], { unique: true })
@Index(['workspaceId', 'tinyFingerprint'])
export class DroneMedia {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  workspaceId: string;

  @ManyToOne('DroneWorkspace', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id' })
  workspace?: unknown;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  flightId: string | null;

  @ManyToOne('DroneFlight', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'flight_id' })
  flight?: unknown;

  /** The sender's fingerprint of the file (DJI: an MD5 of the file). */
  @Column({ type: 'varchar', length: 128 })
  fingerprint: string;

  /** DJI's short fingerprint (`tinny_fingerprint`), used to ask which files exist. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  tinyFingerprint: string | null;

  @Column({ type: 'text' })
  name: string;

  /** The sender's folder or object path, as given. */
  @Column({ type: 'text', nullable: true })
  path: string | null;

  @Column({ type: 'varchar', length: 8 })
  kind: DroneMediaKind;

  @Column({ type: 'varchar', length: 16 })
  status: DroneMediaStatus;

  @Column({ type: 'text', nullable: true })
  statusMessage: string | null;

  /** Where Sightline keeps the file (for photos, until the picture pipeline takes it). */
  @Column({ type: 'text', nullable: true })
  storageKey: string | null;

  @Column({ type: 'bigint', nullable: true })
  size: string | null;

  @Column({ type: 'char', length: 64, nullable: true })
  sha256: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  deviceSn: string | null;

  /** The picture a photo became (and so its STAC item's id). */
  @Index()
  @Column({ type: 'uuid', nullable: true })
  pictureId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  capturedAt: Date | null;

  /** The camera and gimbal at the shot (DJI's XMP), normalised. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** What the photo sees on flat ground at the take-off height. */
  @GeometryColumn('Polygon', { nullable: true })
  groundCoverage: Polygon | null;

  @Column({ type: 'boolean', nullable: true })
  coverageTruncated: boolean | null;

  @Column({ type: 'uuid', nullable: true })
  uploadedBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
