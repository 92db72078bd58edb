import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { type Point, GeometryColumn } from '../database/geometry.js';
import type { Projection } from '../media/media.types.js';

/**
 * `pending` waits for (or between attempts of) processing, `processing` runs, `ready` and
 * `broken` are final; `rejected` (a capture duplicate, an undecodable file) and `deleting`
 * wait for their files to be removed, then the row goes.
 */
export type PictureStatus = 'pending' | 'processing' | 'ready' | 'broken' | 'rejected' | 'deleting';

const bigintAsNumber = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/**
 * A picture and its processing state, whatever brought it in (an upload set, a drone flight…).
 * Once cut into a sequence it is also an `item` of the catalog, with the same id; this row keeps
 * what the pipeline needs and the item what STAC publishes.
 */
@Entity('picture')
@Index(['sourceKind', 'sourceId', 'status'])
@Index(['status', 'updatedAt'])
@Index(['sequenceId', 'rank'])
// Duplicates are per owner: another person's identical file is not refused (nor revealed).
@Index(['ownerId', 'sha256'], { unique: true })
export class Picture {
  /** Chosen before the upload is stored, so the temporary original can carry it. */
  @PrimaryColumn('uuid')
  id: string;

  /** What brought the picture in (`upload-set`, `flight`…): its source hears how processing ends. */
  @Column({ type: 'varchar', length: 32 })
  sourceKind: string;

  /** The source's own id for the batch the picture came with (an upload set's id…), if any. */
  @Column({ type: 'uuid', nullable: true })
  sourceId: string | null;

  @Column({ type: 'uuid', nullable: true })
  ownerId: string | null;

  // Tables of other domains (users, the catalog's collections) are referenced by entity name.
  @ManyToOne('User', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'owner_id' })
  owner?: unknown;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: PictureStatus;

  @Column({ type: 'text' })
  fileName: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  size: number;

  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  /** The uploaded original under `tmp/` until `hd` is written (blurred when blurring is on). */
  @Column({ type: 'text', nullable: true })
  sourceKey: string | null;

  /** When the permanent `hd` file was written. */
  @Column({ type: 'timestamptz', nullable: true })
  hdStoredAt: Date | null;

  /** The uploader said the picture is already blurred. */
  @Column({ type: 'boolean', default: false })
  isBlurred: boolean;

  /** Our blur provider blurred `hd`. */
  @Column({ type: 'boolean', default: false })
  blurred: boolean;

  /** What the blur service said about its work (Panoramax multipart `metadata`). */
  @Column({ type: 'jsonb', nullable: true })
  blurMetadata: Record<string, unknown> | null;

  /** Upright dimensions. */
  @Column({ type: 'integer' })
  width: number;

  @Column({ type: 'integer' })
  height: number;

  @Column({ type: 'smallint', default: 1 })
  orientation: number;

  @Column({ type: 'varchar', length: 16, default: 'perspective' })
  projection: Projection;

  @Column({ type: 'timestamptz' })
  capturedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  gpsTime: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  cameraTime: Date | null;

  @GeometryColumn('Point')
  geom: Point;

  /** The heading the camera recorded (never a computed one: de-duplication relies on that). */
  @Column({ type: 'double precision', nullable: true })
  heading: number | null;

  /** Normalised EXIF/XMP (camera, focal length, pitch, roll, altitude, accuracy, time sources…). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  @Column({ type: 'uuid', nullable: true })
  sequenceId: string | null;

  @ManyToOne('Collection', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'sequence_id' })
  sequence?: unknown;

  @Column({ type: 'integer', nullable: true })
  rank: number | null;

  /** Rises on every reprocessing request; part of the job id. */
  @Column({ type: 'integer', default: 1 })
  processGeneration: number;

  /** Processing runs started (a killed run counts). */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  processingStartedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  processedAt: Date | null;

  /** How many runs brought the picture to `ready` (1 per processing generation). */
  @Column({ type: 'integer', default: 0 })
  readyCount: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
