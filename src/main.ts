import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { configOrExit, exitOnSignals } from './bootstrap.js';
import { installLastResortGuard } from './common/last-resort.js';
import { configureHttpApp } from './http-app.js';

async function main(): Promise<void> {
  const config = configOrExit();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot('api'), {
    bufferLogs: true,
    bodyParser: false,
  });
  configureHttpApp(app);
  const logger = app.get(Logger);
  installLastResortGuard({ name: 'api', log: (entry, message) => logger.error(entry, message) });
  // Stop accepting and let requests in flight finish before the database and Redis close.
  exitOnSignals(async () => {
    const server = app.getHttpServer() as import('node:http').Server;
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    const timer = setTimeout(() => server.closeAllConnections(), 25_000);
    await drained;
    clearTimeout(timer);
    await app.close();
  }, 'api');
  try {
    await app.listen(config.PORT, '0.0.0.0');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'is in use (is another API running?)' : `cannot be opened (${(error as Error).message})`;
    process.stderr.write(`api: port ${config.PORT} ${why}. Set PORT to a free port.\n`);
    process.exit(1);
  }
  const url = new URL(config.PUBLIC_URL).origin;
  process.stdout.write(`Sightline API listening on port ${config.PORT}\n  API:     ${url}/api\n  Swagger: ${url}/api/docs\n  STAC:    ${url}/api/\n`);
}

void main();
