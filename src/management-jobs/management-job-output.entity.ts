import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ManagementJob } from './management-job.entity.js';

/** A line a management job logged, numbered from 0 within its job. */
@Entity('management_job_output')
export class ManagementJobOutput {
  @PrimaryColumn({ type: 'uuid' })
  jobId: string;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

  @ManyToOne(() => ManagementJob, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id' })
  job?: ManagementJob;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ type: 'text' })
  line: string;
}
