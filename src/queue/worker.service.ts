import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { AppConfig, pictureConcurrency } from '../config/app-config.js';
import { hostname } from 'node:os';
import { JobQueueService } from './job-queue.service.js';
import { runAsJob } from './job-context.js';
import { JobRegistryService } from './job-registry.service.js';
import { PROCESS_ROLE, type ProcessRole } from './process-role.js';
import { JobName, QueueName } from './queue.constants.js';
import { redisOptions } from './redis-connection.js';

const SHUTDOWN_GRACE_MS = 20_000;
/** How often a worker says it is alive; readiness calls one silent for 3 beats stale. */
export const HEARTBEAT_INTERVAL_MS = 5_000;

/** Runs the BullMQ consumers; only in the worker process. */
@Injectable()
export class WorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerService.name);
  private workers: Worker[] = [];
  private readonly running = new Map<string, AbortController>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastBeat: Promise<void> = Promise.resolve();
  private readonly workerId = `${hostname()}:${process.pid}`;

  constructor(
    @Inject(PROCESS_ROLE) private readonly role: ProcessRole,
    private readonly config: AppConfig,
    private readonly registry: JobRegistryService,
    private readonly jobs: JobQueueService,
  ) {}

  /** Tells readiness (of every API replica) that this worker lives; a blocked or dead one stops beating. */
  private startHeartbeat(queues: string[]): void {
    const beat = () => {
      this.lastBeat = this.jobs
        .heartbeat(this.workerId, { at: Date.now(), host: hostname(), pid: process.pid, queues, running: this.running.size })
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'heartbeat not recorded'));
    };
    beat();
    this.heartbeatTimer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
  }

  onApplicationBootstrap(): void {
    if (this.role !== 'worker') return;
    const handlers = this.registry.handlerMap();
    const wanted = this.config.WORKER_QUEUES.length ? this.config.WORKER_QUEUES : Object.values(QueueName);
    for (const queueName of wanted) {
      if (!Object.values(QueueName).includes(queueName as QueueName)) {
        throw new Error(`WORKER_QUEUES names an unknown queue: ${queueName}`);
      }
      const concurrency = queueName === QueueName.Pictures ? pictureConcurrency(this.config) : this.config.WORKER_CONCURRENCY_DEFAULT;
      const worker = new Worker(
        queueName,
        async (job: Job) => {
          const handler = handlers.get(job.name as JobName);
          if (!handler) throw new UnrecoverableError(`No handler for job ${job.name}`);
          const controller = new AbortController();
          this.running.set(`${queueName}/${job.id}`, controller);
          try {
            return await runAsJob(job.name as JobName, () =>
              handler(job.data, {
                jobId: String(job.id),
                attempt: job.attemptsMade + 1,
                signal: controller.signal,
                progress: (value) => job.updateProgress(value),
                log: async (line) => {
                  await job.log(line);
                },
              }),
            );
          } finally {
            this.running.delete(`${queueName}/${job.id}`);
          }
        },
        {
          connection: redisOptions(this.config.REDIS_URL),
          prefix: this.config.QUEUE_PREFIX,
          concurrency,
          // A killed worker's jobs go back to the queue once their lock lapses: keep that short.
          // Locks are renewed every lockDuration / 2 while a job runs, so long jobs are safe as
          // long as they do not block the event loop for that long.
          lockDuration: 15_000,
          maxStalledCount: 1,
          stalledInterval: 5_000,
        },
      );
      worker.on('failed', (job, error) => this.logger.warn({ queue: queueName, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: error.message }, 'job failed'));
      worker.on('error', (error) => this.logger.error({ queue: queueName, err: error.message }, 'worker error'));
      this.workers.push(worker);
    }
    this.logger.log(`consuming ${wanted.join(', ')}`);
    this.startHeartbeat(wanted);
  }

  /**
   * Lets running jobs finish; past the grace period, aborts them and releases them to the queue.
   * Runs before any module closes its connections, so handlers can still record their work.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.heartbeatTimer) {
      clearInterval(this.heartbeatTimer);
      // A beat still on its way would write the entry back after it is removed.
      await this.lastBeat;
      await this.jobs.forgetHeartbeat(this.workerId).catch((error: Error) => this.logger.warn({ err: error.message }, 'heartbeat not removed'));
    }
    if (!this.workers.length) return;
    const graceful = Promise.all(this.workers.map((w) => w.close()));
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SHUTDOWN_GRACE_MS).unref());
    if ((await Promise.race([graceful, timer])) === 'timeout') {
      this.logger.warn(`${this.running.size} jobs still running after ${SHUTDOWN_GRACE_MS} ms: aborting them`);
      for (const controller of this.running.values()) controller.abort(new Error('worker shutting down'));
      await Promise.all(this.workers.map((w) => w.close(true)));
    }
    this.workers = [];
  }
}
