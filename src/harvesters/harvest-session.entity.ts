import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Harvester } from './harvester.entity.js';

export const SESSION_TYPES = ['check', 'discover', 'harvest', 'clear'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];
export type SessionTrigger = 'schedule' | 'person' | 'api';
export const SESSION_STATUSES = ['queued', 'running', 'cancelling', 'cancelled', 'succeeded', 'partially_failed', 'failed', 'timed_out'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const ACTIVE_SESSION_STATUSES: readonly SessionStatus[] = ['queued', 'running', 'cancelling'];

/** Progress counters of a session. */
export interface SessionCounters {
  total: number;
  done: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
  skipped: number;
}

export const EMPTY_COUNTERS: SessionCounters = { total: 0, done: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, skipped: 0 };

/** One run of an action on a harvester; at most one is active per harvester. */
@Entity('harvest_session')
// At most one active session per harvester (hand-written partial unique index, same migration).
@Index('ux_harvest_session_active', { synchronize: false })
@Index(['harvesterId', 'createdAt'])
@Index(['status', 'heartbeatAt'])
export class HarvestSession {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  harvesterId: string;

  @ManyToOne(() => Harvester, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'harvester_id' })
  harvester?: Harvester;

  @Column({ type: 'varchar', length: 12 })
  type: SessionType;

  @Column({ type: 'varchar', length: 12 })
  trigger: SessionTrigger;

  @Column({ type: 'uuid', nullable: true })
  requestedBy: string | null;

  @Column({ type: 'varchar', length: 20, default: 'queued' })
  status: SessionStatus;

  /** Reports what it would do without changing anything. */
  @Column({ type: 'boolean', default: false })
  dryRun: boolean;

  /** The action's arguments (resource ids, full, delete_local). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  options: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  counters: SessionCounters;

  /** Action-specific outcome (availability, discovered resources, a dry run's plan…). */
  @Column({ type: 'jsonb', nullable: true })
  result: Record<string, unknown> | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** `worker:host:pid` running it. */
  @Column({ type: 'text', nullable: true })
  runner: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  heartbeatAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  cancelRequestedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
