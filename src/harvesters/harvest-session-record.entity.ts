import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { HarvestSession } from './harvest-session.entity.js';

export type RecordAction = 'created' | 'updated' | 'unchanged' | 'deleted' | 'hidden' | 'failed' | 'skipped';

/** What a session did with one remote record. */
@Entity('harvest_session_record')
@Index(['sessionId', 'id'])
@Index(['sessionId', 'action'])
export class HarvestSessionRecord {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => HarvestSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: HarvestSession;

  @Column({ type: 'uuid', nullable: true })
  resourceId: string | null;

  @Column({ type: 'text' })
  remoteId: string;

  @Column({ type: 'varchar', length: 12 })
  action: RecordAction;

  /** The local item. */
  @Column({ type: 'uuid', nullable: true })
  itemId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  contentHash: string | null;

  @Column({ type: 'text', nullable: true })
  remoteUpdated: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** Where it failed: `fetch`, `parse`, `map`, `store`, `assets`. */
  @Column({ type: 'varchar', length: 12, nullable: true })
  stage: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;
}

/** A line of a session's log; its id is the cursor. */
@Entity('harvest_session_log')
@Index(['sessionId', 'id'])
export class HarvestSessionLog {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => HarvestSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: HarvestSession;

  @Column({ type: 'varchar', length: 8, default: 'info' })
  level: 'info' | 'warn' | 'error';

  @Column({ type: 'text' })
  message: string;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;
}
