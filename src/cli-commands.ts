import type { INestApplicationContext } from '@nestjs/common';
import { AUTH_CLI_COMMANDS } from './auth/auth.cli.js';
import { MANAGEMENT_CLI_COMMANDS } from './management-jobs/management-jobs.cli.js';
import { JobQueueService } from './queue/job-queue.service.js';

export interface CliCommand {
  path: string[];
  usage: string;
  description: string;
  /** Returns the exit code. */
  run(app: INestApplicationContext, args: string[]): Promise<number>;
}

/** Parses `--name value` and `--flag` arguments. */
export function parseFlags(args: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) continue;
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[a.slice(2)] = next;
      i++;
    } else out[a.slice(2)] = true;
  }
  return out;
}

/** Every CLI command; domains append theirs here. */
export const CLI_COMMANDS: CliCommand[] = [
  {
    path: ['queues'],
    usage: '',
    description: 'Print the depth of every queue',
    async run(app) {
      process.stdout.write(JSON.stringify(await app.get(JobQueueService).counts(), null, 2) + '\n');
      return 0;
    },
  },
  ...AUTH_CLI_COMMANDS,
  ...MANAGEMENT_CLI_COMMANDS,
];
