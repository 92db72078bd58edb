// Administrative commands: `npm run cli -- <command> [args]`.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { configOrExit } from './bootstrap.js';
import { CLI_COMMANDS } from './cli-commands.js';

async function main(): Promise<void> {
  configOrExit();
  const [group, ...rest] = process.argv.slice(2);
  const candidates = CLI_COMMANDS.filter((c) => c.path[0] === group);
  const command = candidates.find((c) => c.path.every((p, i) => (i === 0 ? p === group : p === rest[i - 1])));
  if (!command) {
    process.stdout.write(`Usage: npm run cli -- <command>\n\n${CLI_COMMANDS.map((c) => `  ${c.path.join(' ')} ${c.usage}\n      ${c.description}`).join('\n')}\n`);
    process.exit(group && group !== 'help' ? 64 : 0);
  }
  const args = rest.slice(command.path.length - 1);
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(AppModule.forRoot('cli'), { logger: ['error', 'warn'] });
    const code = await command.run(app, args);
    await app.close();
    process.exit(code);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await app?.close().catch(() => undefined);
    process.exit(1);
  }
}

void main();
