// Writes the OpenAPI document, keys sorted, to openapi.json (--write) or checks it is current (--check).
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { API_PREFIX, DJI_ROUTE_PREFIXES } from './http-app.js';
import { configOrExit } from './bootstrap.js';
import { buildOpenApiDocument, sortKeys } from './openapi-document.js';

async function main(): Promise<void> {
  configOrExit();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot('cli'), { logger: ['error'], bodyParser: false, preview: true });
  // As the served app (http-app.ts): DJI's routes at the root paths pilot apps call.
  app.setGlobalPrefix(API_PREFIX, { exclude: DJI_ROUTE_PREFIXES.map((prefix) => `${prefix}/{*path}`) });
  const text = JSON.stringify(sortKeys(buildOpenApiDocument(app)), null, 2) + '\n';
  await app.close();
  const file = new URL('../../openapi.json', import.meta.url);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      process.stderr.write('openapi.json is stale: run `npm run openapi` and commit the result\n');
      process.exit(1);
    }
    process.stdout.write('openapi.json is current\n');
    return;
  }
  writeFileSync(file, text);
  process.stdout.write(`wrote openapi.json\n`);
}

void main();
