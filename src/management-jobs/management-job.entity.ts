import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

export const MANAGEMENT_JOB_STATUSES = ['created', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type ManagementJobStatus = (typeof MANAGEMENT_JOB_STATUSES)[number];

/** Who ran the job: the worker (created through the API) or a CLI process. */
export type ManagementJobSource = 'api' | 'cli';

/**
 * One run of a management command: `created → queued → running → succeeded | failed | cancelled`.
 * The row is the truth about the job; the BullMQ job only carries its id and attempt number.
 */
@Entity('management_job')
@Index(['createdAt', 'id'])
@Index(['command', 'createdAt'])
@Index(['status'])
@Index(['userId'])
// Exclusive commands: the database refuses a second queued or running job of the same command.
@Index('ux_management_job_exclusive_active', ['command'], { unique: true, where: `"exclusive" AND "status" IN ('queued', 'running')` })
export class ManagementJob {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 128 })
  command: string;

  /** The validated arguments, schema defaults filled in. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  args: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16, default: 'created' })
  status: ManagementJobStatus;

  /** Copied from the command when the job is created (the exclusivity index reads it). */
  @Column({ type: 'boolean', default: false })
  exclusive: boolean;

  @Column({ type: 'varchar', length: 8, default: 'api' })
  source: ManagementJobSource;

  @Column({ type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne('User', { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'user_id' })
  user?: unknown;

  /** 0–100. */
  @Column({ type: 'real', default: 0 })
  progress: number;

  @Column({ type: 'jsonb', nullable: true })
  result: unknown;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** Runs so far (the current run's number while queued or running). */
  @Column({ type: 'integer', default: 0 })
  attempt: number;

  /** The process running the job (`worker:host:pid` or `cli:host:pid`). */
  @Column({ type: 'text', nullable: true })
  runner: string | null;

  /** Lines in management_job_output; the next line's number. */
  @Column({ type: 'integer', default: 0 })
  outputLines: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  queuedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  /** Refreshed every second by the process running the job; an old one means the process died. */
  @Column({ type: 'timestamptz', nullable: true })
  heartbeatAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  stopRequestedAt: Date | null;
}
