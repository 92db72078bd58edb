import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { UploadSet } from './upload-set.entity.js';

export type RejectionReason = 'file_duplicate' | 'invalid_file' | 'invalid_metadata' | 'capture_duplicate' | 'other_error';
export type RejectionSeverity = 'error' | 'warning' | 'info';

const bigintAsNumber = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/** A file received in an upload set: the picture it became, or why it was rejected. */
@Entity('upload_file')
@Index(['uploadSetId', 'fileName'], { unique: true })
@Index(['pictureId'])
export class UploadFile {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  uploadSetId: string;

  @ManyToOne(() => UploadSet, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'upload_set_id' })
  uploadSet?: UploadSet;

  @Column({ type: 'text' })
  fileName: string;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  size: number | null;

  /** Hex SHA-256 of the bytes received. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  sha256: string | null;

  @Column({ type: 'uuid', nullable: true })
  pictureId: string | null;

  @ManyToOne('Picture', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'picture_id' })
  picture?: unknown;

  @Column({ type: 'varchar', length: 32, nullable: true })
  rejectionReason: RejectionReason | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  rejectionSeverity: RejectionSeverity | null;

  @Column({ type: 'text', nullable: true })
  rejectionMessage: string | null;

  @Column({ type: 'jsonb', nullable: true })
  rejectionDetails: Record<string, unknown> | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
