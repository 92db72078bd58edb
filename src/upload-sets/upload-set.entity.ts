import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Visibility } from '../auth/visibility.js';
import type { SortMethod } from '../pictures/sequence-dispatch.js';

/** `open` takes files; `completed` is dispatched into sequences; `deleting` is being removed. */
export type UploadSetStatus = 'open' | 'completed' | 'deleting';

/**
 * A group of files sent in one upload, with the parameters that cut it into sequences.
 * Dispatch and finalisation are tracked by counters, so a request (completion, new parameters)
 * and its fulfilment are both visible in the row and the reconciler can resume either.
 */
@Entity('upload_set')
@Index(['ownerId', 'createdAt'])
@Index(['status'])
export class UploadSet {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  ownerId: string;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner?: unknown;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'integer', nullable: true })
  estimatedNbFiles: number | null;

  @Column({ type: 'varchar', length: 16, default: 'time-asc' })
  sortMethod: SortMethod;

  @Column({ type: 'boolean', default: false })
  noSplit: boolean;

  /** Metres; null when `noSplit`. */
  @Column({ type: 'double precision', nullable: true })
  splitDistance: number | null;

  /** Seconds; null when `noSplit`. */
  @Column({ type: 'double precision', nullable: true })
  splitTime: number | null;

  @Column({ type: 'boolean', default: false })
  noDeduplication: boolean;

  /** Metres; null when `noDeduplication`. */
  @Column({ type: 'double precision', nullable: true })
  duplicateDistance: number | null;

  /** Degrees; null when `noDeduplication`. */
  @Column({ type: 'double precision', nullable: true })
  duplicateRotation: number | null;

  /** Camera direction relative to the path (0 = forward, 90 = right), for computed headings. */
  @Column({ type: 'double precision', default: 0 })
  relativeHeading: number;

  @Column({ type: 'varchar', length: 16, default: Visibility.Anyone })
  visibility: Visibility;

  /** License of its sequences (SPDX identifier, `other`, `proprietary`); null: the instance's CONTENT_LICENSE. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  license: string | null;

  /** Free metadata of the uploading client. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16, default: 'open' })
  status: UploadSetStatus;

  @Column({ type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  /** Dispatch requests so far; dispatch is done when `dispatchedGeneration` catches up. */
  @Column({ type: 'integer', default: 0 })
  dispatchGeneration: number;

  @Column({ type: 'integer', default: 0 })
  dispatchedGeneration: number;

  @Column({ type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null;

  /** Finalisation requests (each dispatch, each reprocessing); done when `finalizedRound` catches up. */
  @Column({ type: 'integer', default: 0 })
  finalizeRound: number;

  @Column({ type: 'integer', default: 0 })
  finalizedRound: number;

  @Column({ type: 'timestamptz', nullable: true })
  finalizedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  userAgent: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
