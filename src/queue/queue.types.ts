import type { JobName, JobPayloads, JobSchedule } from './queue.constants.js';

/** What a handler receives besides its payload. */
export interface JobContext {
  jobId: string;
  attempt: number;
  /** Aborted when the worker shuts down; long handlers should stop at a safe point. */
  signal: AbortSignal;
  progress(value: number | object): Promise<void>;
  log(line: string): Promise<void>;
}

export type JobHandler<N extends JobName = JobName> = (payload: JobPayloads[N], context: JobContext) => Promise<unknown>;

/**
 * A domain's answer to "what work does the database say is unfinished?". The worker calls it
 * at start and every RECONCILE_INTERVAL_SECONDS, so a flushed Redis or a killed worker loses
 * nothing. Both methods must be idempotent (deterministic job ids make re-adding a no-op).
 */
export interface JobReconciler {
  /** Job schedulers the domain wants to exist; re-created when missing. */
  schedules?(): JobSchedule[];
  /** Re-enqueues pending work; returns how many jobs it (re)added. */
  reconcile?(): Promise<number>;
}
