import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { JobQueueService } from '../queue/job-queue.service.js';
import { JobName } from '../queue/queue.constants.js';
import { ManagementCommandsRegistry, RegisteredCommand } from './management-commands.registry.js';
import { ExclusiveConflictError, ManagementJobFilter, ManagementJobRow, ManagementJobsRepository, OutputLine } from './management-jobs.repository.js';
import { ManagementStopChannel } from './management-stop.channel.js';

/** Lines of output shown with a job. */
export const OUTPUT_TAIL_LINES = 20;
/** The stall sweep runs at most this often when triggered by reads. */
const SWEEP_MIN_INTERVAL_MS = 1000;
const OUTPUT_PAGE = 1000;

export interface JobWithTail extends ManagementJobRow {
  outputTail: OutputLine[];
}

/** The rules of management jobs: creation, start, stop, stalls and retries. */
@Injectable()
export class ManagementJobsService {
  private readonly logger = new Logger(ManagementJobsService.name);
  private lastSweep = 0;
  private sweeping?: Promise<number>;

  constructor(
    private readonly registry: ManagementCommandsRegistry,
    private readonly repository: ManagementJobsRepository,
    private readonly queue: JobQueueService,
    private readonly stopChannel: ManagementStopChannel,
    private readonly config: AppConfig,
  ) {}

  listCommands(): RegisteredCommand[] {
    return this.registry.list();
  }

  getCommand(name: string): RegisteredCommand {
    const command = this.registry.get(name);
    if (!command) throw new NotFoundException({ message: `Unknown management command ${name}`, details: { known: this.registry.list().map((c) => c.name) } });
    return command;
  }

  /** Validated arguments (defaults filled in), or a 400 naming each bad field. */
  validatedArgs(name: string, args: unknown): Record<string, unknown> {
    const result = this.registry.validate(name, args);
    if (!result.ok) throw new BadRequestException({ message: result.message, details: result.details });
    return result.args;
  }

  conflict(error: ExclusiveConflictError): ConflictException {
    return new ConflictException({
      message: `${error.command} is exclusive: job ${error.activeJobId ?? '(unknown)'} is already queued or running`,
      details: { command: error.command, active_job_id: error.activeJobId },
    });
  }

  async create(name: string, rawArgs: unknown, autostart: boolean, userId: string | null): Promise<JobWithTail> {
    const command = this.getCommand(name);
    const args = this.validatedArgs(name, rawArgs);
    let job: ManagementJobRow;
    try {
      job = await this.repository.insert({ command: name, args, status: autostart ? 'queued' : 'created', exclusive: command.exclusive, source: 'api', userId });
    } catch (error) {
      if (error instanceof ExclusiveConflictError) throw this.conflict(error);
      throw error;
    }
    if (job.status === 'queued') await this.enqueue(job);
    return { ...job, outputTail: [] };
  }

  async start(id: string): Promise<JobWithTail> {
    let job: ManagementJobRow | null;
    try {
      job = await this.repository.queue(id);
    } catch (error) {
      if (error instanceof ExclusiveConflictError) throw this.conflict(error);
      throw error;
    }
    if (!job) {
      const current = await this.find(id);
      throw new ConflictException({ message: `Job ${id} is ${current.status}: only a created job can be started`, details: { status: current.status } });
    }
    await this.enqueue(job);
    return this.get(id);
  }

  /**
   * A job that has not started is cancelled at once; a running one is asked to stop (its
   * signal aborts) and ends `cancelled` when its handler returns.
   */
  async stop(id: string): Promise<JobWithTail> {
    const unstarted = await this.repository.cancelUnstarted(id);
    if (unstarted) {
      if (unstarted.attempt > 0) await this.queue.remove(JobName.ManagementRun, { jobId: id, attempt: unstarted.attempt }).catch(() => undefined);
      return this.get(id);
    }
    const running = await this.repository.requestStop(id);
    if (running) {
      await this.stopChannel.publish(id);
      return this.get(id);
    }
    const current = await this.find(id);
    throw new ConflictException({ message: `Job ${id} has already ended (${current.status})`, details: { status: current.status } });
  }

  async find(id: string): Promise<ManagementJobRow> {
    const job = await this.repository.findById(id);
    if (!job) throw new NotFoundException(`Management job ${id} not found`);
    return job;
  }

  async get(id: string): Promise<JobWithTail> {
    await this.sweepSoon();
    const job = await this.find(id);
    return { ...job, outputTail: await this.repository.outputTail(id, OUTPUT_TAIL_LINES) };
  }

  async list(filter: ManagementJobFilter, limit: number, offset: number): Promise<{ rows: ManagementJobRow[]; total: number }> {
    await this.sweepSoon();
    return this.repository.list(filter, limit, offset);
  }

  /**
   * The job's output lines after line `after` (all with -1), as they are at the time of the
   * call: `lines` is how many there are in all, `chunks` streams them in pages.
   */
  async output(id: string, after: number, timestamps: boolean): Promise<{ job: ManagementJobRow; chunks: AsyncIterable<string> }> {
    const job = await this.find(id);
    const end = job.outputLines;
    const repository = this.repository;
    async function* chunks(): AsyncGenerator<string> {
      let cursor = after;
      while (cursor < end - 1) {
        const page = await repository.outputPage(id, cursor, end, OUTPUT_PAGE);
        if (!page.length) return;
        yield page.map((l) => (timestamps ? `${new Date(l.at).toISOString()} ${l.line}\n` : `${l.line}\n`)).join('');
        cursor = page[page.length - 1]!.seq;
      }
    }
    return { job, chunks: chunks() };
  }

  /** Hands a queued run to the worker; if Redis refuses, the reconciler enqueues it later. */
  async enqueue(job: Pick<ManagementJobRow, 'id' | 'attempt'>): Promise<void> {
    try {
      await this.queue.add(JobName.ManagementRun, { jobId: job.id, attempt: job.attempt });
    } catch (error) {
      this.logger.warn({ jobId: job.id, err: (error as Error).message }, 'management job not enqueued; the reconciler will retry');
    }
  }

  /** Reads call the sweep so that a job whose worker died does not show `running` while no worker runs. */
  private async sweepSoon(): Promise<void> {
    if (Date.now() - this.lastSweep < SWEEP_MIN_INTERVAL_MS) return;
    this.lastSweep = Date.now();
    await this.sweepStalled().catch((error: Error) => this.logger.warn({ err: error.message }, 'stall sweep failed'));
  }

  /** Fails or re-queues every running job whose heartbeat is older than MANAGEMENT_STALL_SECONDS. */
  sweepStalled(): Promise<number> {
    this.sweeping ??= (async () => {
      let handled = 0;
      for (const job of await this.repository.stalled(this.config.MANAGEMENT_STALL_SECONDS)) {
        if (await this.handleStall(job, this.config.MANAGEMENT_STALL_SECONDS)) handled++;
      }
      return handled;
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /**
   * The process running `job` died or was shut down (`staleSeconds` null: known for sure).
   * Retryable commands started through the API run again while attempts remain; anything
   * else fails. Conditional on the run still being the same, so concurrent sweeps are safe.
   */
  async handleStall(job: ManagementJobRow, staleSeconds: number | null, reason?: string): Promise<'requeued' | 'failed' | null> {
    const command = this.registry.get(job.command);
    const why = reason ?? `stalled: no heartbeat from ${job.runner ?? 'its runner'} for more than ${staleSeconds ?? this.config.MANAGEMENT_STALL_SECONDS} s`;
    const maxAttempts = this.config.MANAGEMENT_MAX_ATTEMPTS;
    if (command?.retryable && job.source === 'api' && job.attempt < maxAttempts) {
      const requeued = await this.repository.requeue(job.id, job.attempt, staleSeconds ?? undefined);
      if (!requeued) return null;
      await this.repository
        .appendOutput(job.id, [{ at: new Date(), line: `[management] run ${job.attempt} ${why}; running again (run ${requeued.attempt} of at most ${maxAttempts})` }])
        .catch(() => undefined);
      this.logger.warn({ jobId: job.id, command: job.command, attempt: requeued.attempt }, `management job ${why}; re-queued`);
      await this.enqueue(requeued);
      return 'requeued';
    }
    const retries = command?.retryable && job.source === 'api' ? ` after ${job.attempt} runs` : '';
    const error = `${why.charAt(0).toUpperCase()}${why.slice(1)}${retries}`;
    const failed = await this.repository.failStalled(job.id, job.attempt, staleSeconds, error);
    if (!failed) return null;
    await this.repository.appendOutput(job.id, [{ at: new Date(), line: `[management] ${error}` }]).catch(() => undefined);
    this.logger.warn({ jobId: job.id, command: job.command }, `management job failed: ${error}`);
    return 'failed';
  }
}
