import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { JobQueueService } from '../queue/job-queue.service.js';

/** Prometheus metrics of this process: HTTP latency, queue depths, Node runtime. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(jobs: JobQueueService) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sightline_' });
    this.httpDuration = new Histogram({
      name: 'sightline_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    new Gauge({
      name: 'sightline_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        for (const c of await jobs.counts()) {
          for (const state of ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'paused'] as const) {
            this.set({ queue: c.queue, state }, c[state]);
          }
        }
      },
    });
  }
}
