import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ModuleRef } from '@nestjs/core';
import type { JobsOptions, JobState, Queue } from 'bullmq';
import { AppConfig } from '../config/app-config.js';
import { JobName, JobPayloads, JOBS, JobSchedule, QueueName } from './queue.constants.js';
import { currentJob } from './job-context.js';
import { redisOptions } from './redis-connection.js';

export interface QueueCounts {
  queue: QueueName;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  prioritized: number;
  paused: number;
}

/** Where a job with a deterministic id stands in its queue; `missing` when the queue has no such job. */
export type QueuedJobState = JobState | 'unknown' | 'missing';

export interface QueuedJob {
  state: QueuedJobState;
  /** Why its last attempt failed, when it did. */
  failedReason: string | null;
}

export interface WorkerHeartbeat {
  /** Epoch milliseconds of the beat. */
  at: number;
  host: string;
  pid: number;
  queues: string[];
  running: number;
}

export interface FailedJobSummary {
  id: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  finishedOn: string | null;
  data: unknown;
}

/** The one place jobs are produced: attempts, backoff, retention and ids are set here. */
@Injectable()
export class JobQueueService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JobQueueService.name);
  private queues = new Map<QueueName, Queue>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    for (const name of Object.values(QueueName)) {
      this.queues.set(name, this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
    }
  }

  private queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`Unknown queue ${name}`);
    return queue;
  }

  /** Options every job gets; a deterministic id when the job defines one. */
  jobOptions<N extends JobName>(name: N, payload: JobPayloads[N], extra: JobsOptions = {}): JobsOptions {
    const def = JOBS[name];
    return {
      attempts: def.attempts ?? this.config.JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.config.JOB_BACKOFF_MS },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
      jobId: def.id?.(payload),
      ...extra,
    };
  }

  /** A job may add only the follow-ups its definition declares (see JobDefinition.followUps). */
  private checkFollowUp(name: JobName): void {
    const parent = currentJob();
    if (!parent) return;
    const declared = JOBS[parent].followUps;
    if (declared === 'any' || declared?.includes(name)) return;
    const message = `job ${parent} added ${name}, which is not among its declared follow-ups (src/queue/queue.constants.ts)`;
    if (this.config.NODE_ENV === 'production') this.logger.error(message);
    else throw new Error(message);
  }

  async add<N extends JobName>(name: N, payload: JobPayloads[N], extra: JobsOptions = {}): Promise<string | undefined> {
    this.checkFollowUp(name);
    const job = await this.queue(JOBS[name].queue).add(name, payload, this.jobOptions(name, payload, extra));
    return job.id;
  }

  /** Adds many jobs of one name, in chunks, grouped by queue. */
  async addBulk<N extends JobName>(name: N, payloads: JobPayloads[N][], extra: JobsOptions = {}): Promise<number> {
    if (payloads.length) this.checkFollowUp(name);
    const queue = this.queue(JOBS[name].queue);
    for (let i = 0; i < payloads.length; i += 500) {
      const chunk = payloads.slice(i, i + 500);
      await queue.addBulk(chunk.map((data) => ({ name, data, opts: this.jobOptions(name, data, extra) })));
    }
    return payloads.length;
  }

  /** Removes a queued (not running) job by its deterministic id, e.g. when its subject is deleted. */
  async remove<N extends JobName>(name: N, payload: JobPayloads[N]): Promise<void> {
    const id = JOBS[name].id?.(payload);
    if (!id) return;
    const job = await this.queue(JOBS[name].queue).getJob(id);
    if (job && !(await job.isActive())) await job.remove().catch(() => undefined);
  }

  /** The queued job of this payload (found by its deterministic id), as reconcilers check it. */
  async find<N extends JobName>(name: N, payload: JobPayloads[N]): Promise<QueuedJob> {
    const job = await this.queue(JOBS[name].queue).getJob(this.deterministicId(name, payload));
    if (!job) return { state: 'missing', failedReason: null };
    return { state: await job.getState(), failedReason: job.failedReason || null };
  }

  /**
   * Removes the job of this payload if it has ended (completed or failed): an ended job keeps
   * its id, so adding the same work again would be a no-op. Answers the state it was in.
   */
  async removeIfEnded<N extends JobName>(name: N, payload: JobPayloads[N]): Promise<QueuedJobState> {
    const job = await this.queue(JOBS[name].queue).getJob(this.deterministicId(name, payload));
    if (!job) return 'missing';
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') await job.remove().catch(() => undefined);
    return state;
  }

  private deterministicId<N extends JobName>(name: N, payload: JobPayloads[N]): string {
    const id = JOBS[name].id?.(payload);
    if (!id) throw new Error(`Job ${name} has no deterministic id: it cannot be looked up`);
    return id;
  }

  /** Creates or updates a job scheduler (idempotent). */
  async upsertSchedule(schedule: JobSchedule): Promise<void> {
    const queue = this.queue(JOBS[schedule.name].queue);
    await queue.upsertJobScheduler(schedule.id, schedule.every ? { every: schedule.every } : { pattern: schedule.pattern, tz: 'UTC' }, {
      name: schedule.name,
      data: schedule.payload,
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    });
  }

  async schedules(queueName: QueueName): Promise<{ id: string; name: string; next?: number; pattern?: string | null; every?: number | null }[]> {
    const list = await this.queue(queueName).getJobSchedulers(0, -1, true);
    return list.map((s) => ({ id: s.key, name: s.name, next: s.next, pattern: s.pattern ?? null, every: s.every ?? null }));
  }

  private heartbeatRedis: Redis | undefined;

  /** A small connection of its own for heartbeats (BullMQ's clients are its business). */
  private async heartbeatClient(): Promise<Redis> {
    this.heartbeatRedis ??= new Redis({ ...redisOptions(this.config.REDIS_URL), maxRetriesPerRequest: 1, lazyConnect: true });
    return this.heartbeatRedis;
  }

  /** After beforeApplicationShutdown, where a stopping worker removes its heartbeat. */
  async onApplicationShutdown(): Promise<void> {
    await this.heartbeatRedis?.quit().catch(() => this.heartbeatRedis?.disconnect());
  }

  private get heartbeatKey(): string {
    return `${this.config.QUEUE_PREFIX}:worker-heartbeats`;
  }

  /** A worker process says it is alive (every few seconds while it runs). */
  async heartbeat(workerId: string, beat: WorkerHeartbeat): Promise<void> {
    await (await this.heartbeatClient()).hset(this.heartbeatKey, workerId, JSON.stringify(beat));
  }

  /** A worker that stops cleanly leaves the list (it is not missing: it is gone). */
  async forgetHeartbeat(workerId: string): Promise<void> {
    await (await this.heartbeatClient()).hdel(this.heartbeatKey, workerId);
  }

  /** The last heartbeat of every worker process; entries silent for a day are dropped. */
  async heartbeats(): Promise<(WorkerHeartbeat & { id: string })[]> {
    const client = await this.heartbeatClient();
    const all = await client.hgetall(this.heartbeatKey);
    const out: (WorkerHeartbeat & { id: string })[] = [];
    for (const [id, text] of Object.entries(all)) {
      let beat: WorkerHeartbeat | null;
      try {
        beat = JSON.parse(text) as WorkerHeartbeat;
      } catch {
        beat = null;
      }
      if (!beat || Date.now() - beat.at > 24 * 3600 * 1000) await client.hdel(this.heartbeatKey, id);
      else out.push({ id, ...beat });
    }
    return out;
  }

  async counts(): Promise<QueueCounts[]> {
    return Promise.all(
      [...this.queues.entries()].map(async ([queue, q]) => {
        const c = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'paused' as never);
        return {
          queue,
          waiting: c.waiting ?? 0,
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
          completed: c.completed ?? 0,
          prioritized: c.prioritized ?? 0,
          paused: c.paused ?? 0,
        };
      }),
    );
  }

  async failures(queueName: QueueName, limit = 20): Promise<FailedJobSummary[]> {
    const jobs = await this.queue(queueName).getFailed(0, Math.max(0, limit - 1));
    return jobs.map((j) => ({
      id: String(j.id),
      name: j.name,
      failedReason: j.failedReason,
      attemptsMade: j.attemptsMade,
      finishedOn: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
      data: j.data,
    }));
  }
}
