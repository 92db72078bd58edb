/*
 * The registry of management commands: the allow-list of what an admin may run as a job.
 *
 * A domain declares its commands in code, from a provider of its own module, in `onModuleInit`
 * (ManagementJobsModule is global, so no import of the module is needed):
 *
 *   @Injectable()
 *   export class DatasetsCommands implements OnModuleInit {
 *     constructor(private readonly commands: ManagementCommandsRegistry, private readonly datasets: DatasetsService) {}
 *
 *     onModuleInit(): void {
 *       this.commands.register({
 *         name: 'datasets.rehash',                       // `<domain>.<verb>`, unique
 *         description: 'Recompute the SHA-256 of every dataset file',
 *         argsSchema: {                                  // JSON schema of an object, checked with ajv
 *           type: 'object',
 *           properties: { collection: { type: 'string', format: 'uuid' } },
 *         },                                             // additionalProperties is false unless the schema says otherwise
 *         exclusive: true,                               // at most one job of this command queued or running
 *         retryable: true,                               // safe to run again from the start if its worker dies
 *         handler: async (args, ctx) => {
 *           await ctx.log('rehashing…');                 // captured line by line in management_job_output
 *           await ctx.progress(50);                      // 0–100
 *           if (ctx.signal.aborted) return { done: 10 }; // stop requested: return what was finished
 *           return { done: 20 };                         // stored as the job's result (JSON)
 *         },
 *       });
 *     }
 *   }
 *
 * The handler runs in the worker (or in the CLI process for `npm run cli -- run <name>`), never
 * in the API. It receives the validated arguments (schema defaults filled in) and a context:
 * `log(line)`, `progress(percent)`, `signal` (aborted when an admin stops the job or the worker
 * shuts down: check it between units of work and return early with a partial result, or let
 * `signal.throwIfAborted()` throw) and `userId` (the admin who created the job; null from the
 * CLI). A thrown error fails the job with its message. Handlers must be idempotent: a retryable
 * command is run again from the start after a stall.
 */
import { Injectable } from '@nestjs/common';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FieldProblem } from '../common/validation.js';

/** A JSON schema (draft-07 as ajv reads it); a command's arguments schema is an object schema. */
export type JSONSchema = SchemaObject;

export interface ManagementCommandContext {
  /** Appends a line to the job's output (newlines split it into several lines). */
  log(line: string): Promise<void>;
  /** Reports progress, 0–100. */
  progress(percent: number): Promise<void>;
  /** Aborted when the job is stopped (or its process shuts down). */
  signal: AbortSignal;
  /** The admin who created the job; null when run from the CLI. */
  userId: string | null;
}

export interface ManagementCommand {
  name: string;
  description: string;
  argsSchema: JSONSchema;
  /** No two jobs of this command queued or running at once. */
  exclusive?: boolean;
  /** Safe to run again from the start when its worker died mid-run. */
  retryable?: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handler: (args: any, ctx: ManagementCommandContext) => Promise<unknown>;
}

export interface RegisteredCommand extends ManagementCommand {
  exclusive: boolean;
  retryable: boolean;
}

export type ArgsValidation = { ok: true; args: Record<string, unknown> } | { ok: false; message: string; details: FieldProblem[] };

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

// ajv-formats is CommonJS; its default export arrives as the module object or the function.
const addFormats = ((addFormatsPlugin as unknown as { default?: unknown }).default ?? addFormatsPlugin) as (ajv: Ajv) => Ajv;

/** Where a failing argument is, as the API names it: `args.steps`, `args.items[2].id`. */
function fieldOf(error: ErrorObject): string {
  let path = 'args';
  for (const part of error.instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty) return `${path}.${params.missingProperty}`;
  if (error.keyword === 'additionalProperties' && params.additionalProperty) return `${path}.${params.additionalProperty}`;
  return path;
}

function problemOf(error: ErrorObject, field: string): string {
  switch (error.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `${field} is not a known argument`;
    case 'enum':
      return `${field} must be one of ${((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}

/** The allow-list of management commands, filled by the domains at start (see the top of this file). */
@Injectable()
export class ManagementCommandsRegistry {
  private readonly ajv = addFormats(new Ajv({ allErrors: true, useDefaults: true, strict: true, coerceTypes: false }));
  private readonly commands = new Map<string, RegisteredCommand & { validate: ValidateFunction }>();

  register(command: ManagementCommand): void {
    if (!NAME.test(command.name)) throw new Error(`Management command name "${command.name}" must look like domain.verb (lower case)`);
    if (this.commands.has(command.name)) throw new Error(`Management command ${command.name} is registered twice`);
    const schema = command.argsSchema;
    if (!schema || schema.type !== 'object') throw new Error(`Management command ${command.name}: argsSchema must be an object schema`);
    const argsSchema: JSONSchema = { ...schema, additionalProperties: schema.additionalProperties ?? false, properties: schema.properties ?? {} };
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(argsSchema);
    } catch (error) {
      throw new Error(`Management command ${command.name}: invalid argsSchema: ${(error as Error).message}`, { cause: error });
    }
    this.commands.set(command.name, {
      ...command,
      argsSchema,
      exclusive: command.exclusive ?? false,
      retryable: command.retryable ?? false,
      validate,
    });
  }

  get(name: string): RegisteredCommand | undefined {
    return this.commands.get(name);
  }

  /** Every command, by name. */
  list(): RegisteredCommand[] {
    return [...this.commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Checks arguments against the command's schema; the result carries them with defaults filled in. */
  validate(name: string, args: unknown): ArgsValidation {
    const command = this.commands.get(name);
    if (!command) return { ok: false, message: `Unknown management command ${name}`, details: [] };
    const copy = structuredClone(args ?? {}) as Record<string, unknown>;
    if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) {
      return { ok: false, message: 'args must be an object', details: [{ field: 'args', problems: ['args must be an object'] }] };
    }
    if (command.validate(copy)) return { ok: true, args: copy };
    const byField = new Map<string, string[]>();
    for (const error of command.validate.errors ?? []) {
      const field = fieldOf(error);
      const list = byField.get(field) ?? [];
      const problem = problemOf(error, field);
      if (!list.includes(problem)) list.push(problem);
      byField.set(field, list);
    }
    const details = [...byField.entries()].map(([field, problems]) => ({ field, problems }));
    return { ok: false, message: details.map((d) => d.problems.join('; ')).join('; '), details };
  }
}
