import type { CliCommand } from '../cli-commands.js';
import { parseFlags } from '../cli-commands.js';
import { ManagementCommandsRegistry } from './management-commands.registry.js';
import { InvalidArgumentsError, ManagementJobRunner } from './management-job-runner.service.js';
import { ExclusiveConflictError } from './management-jobs.repository.js';

// Exit codes (sysexits.h where one fits).
const EX_OK = 0;
const EX_FAILED = 1;
const EX_USAGE = 64;
const EX_TEMPFAIL = 75;
const EX_CANCELLED = 130;

function printCommands(registry: ManagementCommandsRegistry): void {
  const lines = registry.list().map((c) => `  ${c.name}${c.exclusive ? ' (exclusive)' : ''}\n      ${c.description}`);
  process.stdout.write(`Management commands:\n${lines.join('\n')}\n\nUsage: npm run cli -- run <command> [--args '{"name": value}'] [--schema]\n`);
}

/**
 * `npm run cli -- run <command> --args '{...}'`: runs a management command in this process,
 * recorded as a job (source `cli`) like one run by a worker. Output lines go to stderr as they
 * are logged, the result (JSON) to stdout. Ctrl-C stops the command cooperatively.
 */
export const MANAGEMENT_CLI_COMMANDS: CliCommand[] = [
  {
    path: ['run'],
    usage: "<command> [--args '{...}'] [--schema]",
    description: 'Run a management command here, recorded as a job (without a command: list them)',
    async run(app, argv) {
      const registry = app.get(ManagementCommandsRegistry);
      const [name, ...rest] = argv;
      if (!name || name.startsWith('--')) {
        printCommands(registry);
        return name ? EX_USAGE : EX_OK;
      }
      const flags = parseFlags(rest);
      const command = registry.get(name);
      if (!command) {
        process.stderr.write(`Unknown management command ${name}\n\n`);
        printCommands(registry);
        return EX_USAGE;
      }
      if (flags.schema) {
        process.stdout.write(JSON.stringify(command.argsSchema, null, 2) + '\n');
        return EX_OK;
      }
      let args: unknown = {};
      if (flags.args !== undefined) {
        if (flags.args === true) {
          process.stderr.write('--args needs a JSON object\n');
          return EX_USAGE;
        }
        try {
          args = JSON.parse(flags.args);
        } catch (error) {
          process.stderr.write(`--args is not JSON: ${(error as Error).message}\n`);
          return EX_USAGE;
        }
      }

      const stop = new AbortController();
      let signals = 0;
      const onSignal = () => {
        if (++signals > 1) process.exit(EX_CANCELLED);
        process.stderr.write('stopping (again to quit at once)…\n');
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const outcome = await app.get(ManagementJobRunner).runInProcess(name, args, {
          stopSignal: stop.signal,
          echo: (line) => process.stderr.write(`${line}\n`),
        });
        process.stderr.write(`management job ${outcome.jobId} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}\n`);
        if (outcome.result !== null && outcome.result !== undefined) process.stdout.write(JSON.stringify(outcome.result, null, 2) + '\n');
        return outcome.status === 'succeeded' ? EX_OK : outcome.status === 'cancelled' ? EX_CANCELLED : EX_FAILED;
      } catch (error) {
        if (error instanceof InvalidArgumentsError) {
          process.stderr.write(`${error.message}\n`);
          return EX_USAGE;
        }
        if (error instanceof ExclusiveConflictError) {
          process.stderr.write(`${error.message}\n`);
          return EX_TEMPFAIL;
        }
        throw error;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  },
];
