import 'reflect-metadata';
import http from 'node:http';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { configOrExit, exitOnSignals } from './bootstrap.js';
import { installLastResortGuard } from './common/last-resort.js';
import { HealthService } from './health/health.service.js';
import { metricsAccess } from './health/metrics-access.js';
import { MetricsService } from './health/metrics.service.js';

/** The BullMQ worker process: job handlers, schedules, the reconciler, and a health port. */
async function main(): Promise<void> {
  const config = configOrExit();
  const app = await NestFactory.createApplicationContext(AppModule.forRoot('worker'), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  const logger = app.get(Logger);
  installLastResortGuard({ name: 'worker', log: (entry, message) => logger.error(entry, message) });
  await app.init();
  let healthServer: http.Server | undefined;
  exitOnSignals(async () => {
    healthServer?.close();
    await app.close();
  }, 'worker');

  if (config.WORKER_HEALTH_PORT > 0) {
    const health = app.get(HealthService);
    const metrics = app.get(MetricsService);
    const server = (healthServer = http.createServer((req, res) => {
      const send = (status: number, body: unknown, type = 'application/json') => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/api/health') return send(200, { status: 'ok', process: 'worker' });
      if (path === '/api/health/ready') {
        health.ready().then(
          (result) => send(200, result),
          (error: { getResponse?: () => unknown }) => send(503, { statusCode: 503, error: 'Service Unavailable', message: 'Not ready', details: error.getResponse?.() }),
        );
        return;
      }
      if (path === '/api/metrics') {
        const access = metricsAccess(config, req.headers.authorization);
        if (!access.allowed) return send(access.status, { statusCode: access.status, error: access.status === 401 ? 'Unauthorized' : 'Not Found', message: access.message });
        metrics.registry.metrics().then(
          (text) => send(200, text, 'text/plain; version=0.0.4'),
          () => send(500, 'metrics failed', 'text/plain'),
        );
        return;
      }
      send(404, { statusCode: 404, error: 'Not Found', message: 'The worker serves only /api/health, /api/health/ready and /api/metrics' });
    }));
    server.on('error', (error: NodeJS.ErrnoException) => {
      // The worker's jobs matter more than its health port: a second worker on this host goes on without one.
      const why = error.code === 'EADDRINUSE' ? 'is in use (another worker on this host?)' : `cannot be opened (${error.message})`;
      process.stderr.write(`worker: health port ${config.WORKER_HEALTH_PORT} ${why}; working on without a health port. Set WORKER_HEALTH_PORT to a free port, or 0.\n`);
    });
    server.listen(config.WORKER_HEALTH_PORT, '0.0.0.0');
  }
  process.stdout.write(`Sightline worker started (health on port ${config.WORKER_HEALTH_PORT})\n`);
}

void main();
