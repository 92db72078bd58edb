import 'reflect-metadata';
import type { INestApplication, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../src/app.module.js';
import { configureHttpApp } from '../../src/http-app.js';
import { requireTestEnv } from './env.js';
import { freePort } from './net.js';

export interface TestApi {
  app: INestApplication;
  /** http://127.0.0.1:PORT — requests go over real HTTP. */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
  /** fetch relative to the base URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Boots the real API in this process, on a free port, against the run's database and Redis.
 * `env` overrides configuration for this instance; `extraModules` adds test-only routes.
 */
export async function startApi(options: { env?: Record<string, string>; extraModules?: Type[] } = {}): Promise<TestApi> {
  requireTestEnv();
  const port = await freePort();
  const env = { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, WORKER_HEALTH_PORT: '0', ...options.env };
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    @Module({ imports: [AppModule.forRoot('api'), ...(options.extraModules ?? [])] })
    class TestRootModule {}
    const app = await NestFactory.create<NestExpressApplication>(TestRootModule, { bodyParser: false, bufferLogs: true });
    configureHttpApp(app);
    await app.listen(port, '127.0.0.1');
    const baseUrl = `http://127.0.0.1:${port}`;
    return {
      app,
      baseUrl,
      port,
      close: () => app.close(),
      fetch: (path, init) => fetch(new URL(path, baseUrl), init),
    };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
