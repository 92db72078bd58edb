import { Injectable, OnModuleInit } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokensService } from '../auth/tokens.service.js';
import { ManagementCommandContext, ManagementCommandsRegistry } from './management-commands.registry.js';
import { ManagementJobsRepository } from './management-jobs.repository.js';

/**
 * Logs `step i/n` and reports progress after each of `steps` waits of `totalMs / steps`; stops
 * between steps when the signal aborts. Returns how many steps were finished.
 */
async function steppedWait(totalMs: number, steps: number, ctx: ManagementCommandContext): Promise<number> {
  let done = 0;
  for (let i = 1; i <= steps; i++) {
    if (totalMs > 0) {
      try {
        await sleep(totalMs / steps, undefined, { signal: ctx.signal });
      } catch {
        break; // aborted
      }
    }
    if (ctx.signal.aborted) break;
    done = i;
    await ctx.log(`step ${i}/${steps}`);
    await ctx.progress((i / steps) * 100);
  }
  return done;
}

/**
 * The management commands of the job system itself (`system.*`, `management.*`) and those of
 * domains that do not register their own yet (`tokens.purge-expired`, for auth).
 */
@Injectable()
export class SystemCommands implements OnModuleInit {
  constructor(
    private readonly commands: ManagementCommandsRegistry,
    private readonly tokens: TokensService,
    private readonly jobs: ManagementJobsRepository,
  ) {}

  onModuleInit(): void {
    this.commands.register({
      name: 'system.ping',
      description:
        'Echoes its arguments: checks that jobs run end to end (for monitoring). With delay_ms and steps it runs for a while, ' +
        'logging and reporting progress at each step, and can be stopped. Safe to retry.',
      argsSchema: {
        type: 'object',
        properties: {
          message: { type: 'string', maxLength: 10000, description: 'Echoed back in the output and the result' },
          delay_ms: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 0, description: 'Total time to take, spread over the steps' },
          steps: { type: 'integer', minimum: 1, maximum: 10_000, default: 1, description: 'Steps to log and report progress for' },
          fail_with: { type: 'string', minLength: 1, maxLength: 1000, description: 'End the job failed with this error message after the steps' },
        },
      },
      retryable: true,
      handler: async (args: { message?: string; delay_ms: number; steps: number; fail_with?: string }, ctx) => {
        await ctx.log(`ping ${JSON.stringify(args)}`);
        const done = await steppedWait(args.delay_ms, args.steps, ctx);
        if (args.fail_with && !ctx.signal.aborted) throw new Error(args.fail_with);
        if (!ctx.signal.aborted) await ctx.log(`pong${args.message !== undefined ? ` ${args.message}` : ''}`);
        return { pong: !ctx.signal.aborted, echo: args, steps_done: done, steps: args.steps };
      },
    });

    this.commands.register({
      name: 'system.sleep',
      description:
        'Waits, logging and reporting progress at each step: a long job to check on a deployment that stop, ' +
        'stall detection and exclusivity behave. Exclusive, and not retried when its worker dies.',
      argsSchema: {
        type: 'object',
        properties: {
          duration_ms: { type: 'integer', minimum: 1, maximum: 3_600_000, default: 10_000 },
          steps: { type: 'integer', minimum: 1, maximum: 10_000, default: 10 },
        },
      },
      exclusive: true,
      retryable: false,
      handler: async (args: { duration_ms: number; steps: number }, ctx) => {
        const done = await steppedWait(args.duration_ms, args.steps, ctx);
        return { steps_done: done, steps: args.steps };
      },
    });

    this.commands.register({
      name: 'management.purge-finished',
      description: 'Deletes management jobs (and their output) that ended more than older_than_days ago.',
      argsSchema: {
        type: 'object',
        properties: {
          older_than_days: { type: 'integer', minimum: 1, maximum: 36_500, default: 90 },
          dry_run: { type: 'boolean', default: false, description: 'Only count what would be deleted' },
        },
      },
      exclusive: true,
      retryable: true,
      handler: async (args: { older_than_days: number; dry_run: boolean }, ctx) => {
        const counts = await this.jobs.purgeFinished(args.older_than_days, args.dry_run);
        await ctx.log(`${args.dry_run ? 'would delete' : 'deleted'} ${counts.jobs} jobs and ${counts.lines} lines of output`);
        await ctx.progress(100);
        return { ...counts, dry_run: args.dry_run };
      },
    });

    this.commands.register({
      name: 'tokens.purge-expired',
      description: 'Deletes expired API tokens, and unclaimed ones (the command-line token flow) older than unclaimed_max_age_seconds.',
      argsSchema: {
        type: 'object',
        properties: {
          unclaimed_max_age_seconds: { type: 'integer', minimum: 60, maximum: 31_536_000, default: 86_400 },
          dry_run: { type: 'boolean', default: false, description: 'Only count what would be deleted' },
        },
      },
      exclusive: true,
      retryable: true,
      handler: async (args: { unclaimed_max_age_seconds: number; dry_run: boolean }, ctx) => {
        const counts = await this.tokens.purgeExpired({ unclaimedMaxAgeSeconds: args.unclaimed_max_age_seconds, dryRun: args.dry_run });
        await ctx.log(`${args.dry_run ? 'would delete' : 'deleted'} ${counts.expired} expired and ${counts.unclaimed} stale unclaimed tokens`);
        await ctx.progress(100);
        return { ...counts, dry_run: args.dry_run };
      },
    });
  }
}
