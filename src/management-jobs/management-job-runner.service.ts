import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import os from 'node:os';
import { AppConfig } from '../config/app-config.js';
import { ManagementCommandContext, ManagementCommandsRegistry } from './management-commands.registry.js';
import { JobOutputWriter, JobProgressReporter, storedResult } from './management-job-output.js';
import { ManagementJobRow, ManagementJobsRepository } from './management-jobs.repository.js';
import { ManagementJobsService } from './management-jobs.service.js';
import { ManagementStopChannel } from './management-stop.channel.js';

export type RunStatus = 'succeeded' | 'failed' | 'cancelled' | 'requeued' | 'lost';

export interface RunOutcome {
  jobId: string;
  status: RunStatus;
  result: unknown;
  error: string | null;
}

export interface RunOptions {
  /** Aborting it is a stop request: the job ends `cancelled` (the CLI's Ctrl-C). */
  stopSignal?: AbortSignal;
  /** Aborting it means the process is going away: the run is re-queued (retryable) or failed. */
  shutdownSignal?: AbortSignal;
  /** Receives every output line as it is logged (the CLI prints them). */
  echo?: (line: string) => void;
}

/** Thrown by `runInProcess` for arguments the command's schema refuses. */
export class InvalidArgumentsError extends Error {
  constructor(
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

class StopRequested extends Error {
  constructor() {
    super('stop requested');
    this.name = 'AbortError';
  }
}

/** `worker:host:pid` — who runs a job, as recorded on it. */
export function runnerName(kind: 'worker' | 'cli'): string {
  return `${kind}:${os.hostname()}:${process.pid}`;
}

/** On shutdown, running jobs get this long to finish before their signal aborts. */
const SHUTDOWN_GRACE_MS = 5000;

/**
 * Runs a command's handler for a claimed job: captures output and progress, keeps the
 * heartbeat, turns stop requests into the handler's AbortSignal and records the outcome.
 * The same code runs jobs in the worker and in the CLI process.
 */
@Injectable()
export class ManagementJobRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ManagementJobRunner.name);
  private readonly active = new Map<string, { shutdown: AbortController; done: Promise<unknown> }>();
  private closing = false;

  constructor(
    private readonly registry: ManagementCommandsRegistry,
    private readonly repository: ManagementJobsRepository,
    private readonly jobs: ManagementJobsService,
    private readonly stopChannel: ManagementStopChannel,
    private readonly config: AppConfig,
  ) {}

  private get heartbeatMs(): number {
    return Math.min(1000, (this.config.MANAGEMENT_STALL_SECONDS * 1000) / 3);
  }

  /**
   * Runs before the database connection closes (TypeORM closes it in onApplicationShutdown, while
   * the queue worker is still draining): running jobs get a short grace, then their signal
   * aborts and they are re-queued or failed while their outcome can still be recorded.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (!this.active.size) return;
    const all = Promise.allSettled([...this.active.values()].map((a) => a.done));
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SHUTDOWN_GRACE_MS).unref());
    if ((await Promise.race([all, grace])) === 'timeout') {
      this.logger.warn(`${this.active.size} management jobs still running at shutdown: interrupting them`);
      for (const a of this.active.values()) a.shutdown.abort(new Error('process shutting down'));
      await all;
    }
  }

  /** The worker's side: run `attempt` of a job if it is still due. Null when there was nothing to run. */
  async runQueued(jobId: string, attempt: number, options: RunOptions = {}): Promise<RunOutcome | null> {
    // Shutting down: leave the job queued; the reconciler hands it to a worker again.
    if (this.closing) return null;
    const job = await this.repository.claim(jobId, attempt, runnerName('worker'));
    if (job) return this.execute(job, options);
    const current = await this.repository.findById(jobId);
    if (current?.status === 'running' && current.attempt === attempt) {
      // BullMQ hands out a run again when its worker stopped renewing the lock (it died):
      // treat it as a stall, unless the heartbeat says the first runner is alive after all.
      await this.jobs.handleStall(current, this.config.MANAGEMENT_STALL_SECONDS);
    }
    return null;
  }

  /** The CLI's side: record a job for `name` and run it in this process at once. */
  async runInProcess(name: string, rawArgs: unknown, options: RunOptions = {}): Promise<RunOutcome> {
    const command = this.registry.get(name);
    if (!command) throw new InvalidArgumentsError(`Unknown management command ${name}`, { known: this.registry.list().map((c) => c.name) });
    const validation = this.registry.validate(name, rawArgs);
    if (!validation.ok) throw new InvalidArgumentsError(validation.message, validation.details);
    const job = await this.repository.insert({
      command: name,
      args: validation.args,
      status: 'running',
      exclusive: command.exclusive,
      source: 'cli',
      userId: null,
      runner: runnerName('cli'),
    });
    return this.execute(job, options);
  }

  async execute(job: ManagementJobRow, options: RunOptions = {}): Promise<RunOutcome> {
    const shutdown = new AbortController();
    const done = this.run(job, { ...options, shutdownSignal: AbortSignal.any([shutdown.signal, ...(options.shutdownSignal ? [options.shutdownSignal] : [])]) });
    const key = `${job.id}/${job.attempt}`;
    this.active.set(key, { shutdown, done });
    try {
      return await done;
    } finally {
      this.active.delete(key);
    }
  }

  private async run(job: ManagementJobRow, options: RunOptions): Promise<RunOutcome> {
    const stop = new AbortController();
    const lost = new AbortController();
    const signal = AbortSignal.any([stop.signal, lost.signal, ...[options.stopSignal, options.shutdownSignal].filter((s): s is AbortSignal => !!s)]);
    const stopRequested = () => stop.signal.aborted || options.stopSignal?.aborted === true;
    const output = new JobOutputWriter(this.repository, job.id, job.outputLines, options.echo);
    const progress = new JobProgressReporter((value) => this.repository.setProgress(job.id, job.attempt, value));
    const unsubscribe = this.stopChannel.subscribe(job.id, () => stop.abort(new StopRequested()));
    if (job.stopRequestedAt) stop.abort(new StopRequested());

    let beating = true;
    let timer: NodeJS.Timeout | undefined;
    const beat = async () => {
      try {
        const state = await this.repository.heartbeat(job.id, job.attempt, null);
        if (!state) lost.abort(new Error('this run was taken over (stalled) or ended elsewhere'));
        else if (state.stopRequested) stop.abort(new StopRequested());
      } catch (error) {
        this.logger.warn({ jobId: job.id, err: (error as Error).message }, 'management job heartbeat failed');
      }
      if (beating) timer = setTimeout(() => void beat(), this.heartbeatMs).unref();
    };
    timer = setTimeout(() => void beat(), this.heartbeatMs).unref();

    let status: RunStatus;
    let result: unknown = null;
    let error: string | null = null;
    try {
      const command = this.registry.get(job.command);
      if (!command) throw new Error(`Unknown management command ${job.command} (not registered in this process)`);
      // The schema may have changed since the job was created (a retry after a deploy).
      const validation = this.registry.validate(job.command, job.args);
      if (!validation.ok) throw new Error(`Invalid arguments: ${validation.message}`);
      const context: ManagementCommandContext = {
        log: (line) => output.log(line),
        progress: (percent) => progress.report(percent),
        signal,
        userId: job.userId,
      };
      result = storedResult(await command.handler(validation.args, context));
      status = lost.signal.aborted ? 'lost' : stopRequested() ? 'cancelled' : options.shutdownSignal?.aborted ? 'requeued' : 'succeeded';
    } catch (thrown) {
      status = lost.signal.aborted ? 'lost' : stopRequested() ? 'cancelled' : options.shutdownSignal?.aborted ? 'requeued' : 'failed';
      if (status === 'failed') {
        error = (thrown as Error)?.message ?? String(thrown);
        this.logger.warn({ jobId: job.id, command: job.command, err: error }, 'management job failed');
        await output.log(`Error: ${error}`).catch(() => undefined);
      }
    } finally {
      beating = false;
      clearTimeout(timer);
      unsubscribe();
    }
    if (status === 'cancelled') {
      error = 'Stopped on request';
      await output.note(`stopped on request at ${progress.current ?? 0} %`).catch(() => undefined);
    }
    await output.close();
    const finalProgress = await progress.close();

    if (status === 'lost') return { jobId: job.id, status, result, error: 'the run was taken over' };
    if (status === 'requeued') {
      // The process is shutting down mid-run: the same rule as a stall, without waiting for it.
      const handled = await this.jobs.handleStall(job, null, 'was interrupted: its process shut down');
      const current = await this.repository.findById(job.id);
      return { jobId: job.id, status: handled === 'requeued' ? 'requeued' : 'failed', result: null, error: current?.error ?? null };
    }
    const recorded = await this.repository.finish(job.id, job.attempt, {
      status,
      progress: status === 'succeeded' ? 100 : finalProgress,
      result,
      error,
    });
    if (!recorded) return { jobId: job.id, status: 'lost', result, error: 'the run was taken over' };
    return { jobId: job.id, status, result, error };
  }
}
