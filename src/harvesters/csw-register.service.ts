import { HttpException, Injectable, OnModuleInit } from '@nestjs/common';
import path from 'node:path';
import { UsersService } from '../auth/users.service.js';
import { VISIBILITIES, type Visibility } from '../auth/visibility.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { ManagementCommandsRegistry } from '../management-jobs/management-commands.registry.js';
import { RemoteError, RemoteHttp } from './remote-http.js';
import { getRecordById, type CswOutputSchema } from './types/csw/csw-client.js';
import { guessType, summarizeRecord, type CswReference } from './types/csw/csw-records.js';

export const REGISTER_GEOTIFFS_COMMAND = 'csw.register-geotiffs';

interface RegisterArgs {
  endpoint: string;
  identifiers: string[];
  output_schema: CswOutputSchema;
  collection?: string;
  visibility?: Visibility;
  max_files_per_record: number;
}

interface Registered {
  identifier: string;
  url?: string;
  dataset_id?: string;
  existing_id?: string;
  error?: string;
}

/** A reference of a record that is a GeoTIFF file (by its scheme, protocol or extension). */
export function isGeoTiff(reference: CswReference): boolean {
  return /image\/tiff/.test(guessType(reference) ?? '');
}

/**
 * met.no's "register discovered GeoTIFFs": the GeoTIFFs CSW records link to become datasets of
 * Sightline (downloaded, hashed and read like an upload), as a management job
 * (`csw.register-geotiffs`), owned by the admin who asked.
 */
@Injectable()
export class CswRegisterService implements OnModuleInit {
  constructor(
    private readonly commands: ManagementCommandsRegistry,
    private readonly http: RemoteHttp,
    private readonly datasets: DatasetsService,
    private readonly users: UsersService,
  ) {}

  onModuleInit(): void {
    this.commands.register({
      name: REGISTER_GEOTIFFS_COMMAND,
      description:
        'Register as datasets the GeoTIFFs that CSW records link to (found by GetRecordById): each file is downloaded ' +
        'into storage (up to DATASET_MAX_BYTES), hashed and read like an upload. Content registered already is reported, not copied again.',
      argsSchema: {
        type: 'object',
        required: ['endpoint', 'identifiers'],
        properties: {
          endpoint: { type: 'string', format: 'uri', pattern: '^https?://', description: 'The CSW endpoint' },
          identifiers: {
            type: 'array',
            items: { type: 'string', minLength: 1, maxLength: 2000 },
            minItems: 1,
            maxItems: 100,
            description: 'Record identifiers (as /api/csw/search gives them)',
          },
          output_schema: { type: 'string', enum: ['dc', 'iso19139'], default: 'dc' },
          collection: {
            type: 'string',
            format: 'uuid',
            description: 'A dataset collection (id, or a name: created when missing) to add them to; default: the user’s Datasets collection',
          },
          visibility: { type: 'string', enum: VISIBILITIES },
          max_files_per_record: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
        },
      },
      exclusive: false,
      // Registered content is found by its hash: running again reports it as registered already.
      retryable: true,
      handler: (args, ctx) => this.register(args as RegisterArgs, ctx),
    });
  }

  private async register(
    args: RegisterArgs,
    ctx: { log(line: string): void | Promise<void>; progress(percent: number): void | Promise<void>; signal: AbortSignal; userId: string | null },
  ) {
    const owner = ctx.userId ? await this.users.findById(ctx.userId) : null;
    if (!owner) throw new Error('run it as a user (through the API): the datasets need an owner');
    const user = { id: owner.id, name: owner.name, role: owner.role, via: 'api-token' as const };
    this.http.checkUrl(args.endpoint);
    const results: Registered[] = [];
    for (const [index, identifier] of args.identifiers.entries()) {
      ctx.signal.throwIfAborted();
      await ctx.progress(Math.floor((index / args.identifiers.length) * 100));
      let references: CswReference[];
      try {
        const element = await getRecordById(this.http, args.endpoint, identifier, args.output_schema, ctx.signal);
        if (!element) {
          results.push({ identifier, error: 'no such record' });
          await ctx.log(`${identifier}: no such record`);
          continue;
        }
        references = summarizeRecord(element).references.filter(isGeoTiff).slice(0, args.max_files_per_record);
      } catch (error) {
        ctx.signal.throwIfAborted();
        results.push({ identifier, error: (error as Error).message });
        await ctx.log(`${identifier}: ${(error as Error).message}`);
        continue;
      }
      if (!references.length) {
        results.push({ identifier, error: 'the record links no GeoTIFF' });
        await ctx.log(`${identifier}: the record links no GeoTIFF`);
        continue;
      }
      for (const reference of references) {
        ctx.signal.throwIfAborted();
        results.push(await this.registerOne(user, identifier, reference, args, ctx));
      }
    }
    await ctx.progress(100);
    return { registered: results.filter((r) => r.dataset_id).length, already: results.filter((r) => r.existing_id).length, failed: results.filter((r) => r.error).length, results };
  }

  private async registerOne(
    user: { id: string; name: string; role: 'user' | 'admin'; via: 'api-token' },
    identifier: string,
    reference: CswReference,
    args: RegisterArgs,
    ctx: { log(line: string): void | Promise<void>; signal: AbortSignal },
  ): Promise<Registered> {
    const url = reference.url;
    try {
      const download = await this.http.download(url, ctx.signal);
      const name = decodeURIComponent(path.basename(new URL(download.url).pathname)) || 'dataset.tif';
      const dataset = await this.datasets.registerStream(user, download.stream, name, {
        title: reference.name || reference.description || name,
        description: `Registered from CSW record ${identifier} of ${args.endpoint}`,
        collection: args.collection,
        visibility: args.visibility,
      });
      await ctx.log(`${identifier}: ${url} → dataset ${dataset.id}`);
      return { identifier, url, dataset_id: dataset.id };
    } catch (error) {
      ctx.signal.throwIfAborted();
      const details = error instanceof HttpException ? (error.getResponse() as { details?: { existing_id?: string } }).details : undefined;
      if (details?.existing_id) {
        await ctx.log(`${identifier}: ${url} is registered already as dataset ${details.existing_id}`);
        return { identifier, url, existing_id: details.existing_id };
      }
      const message = error instanceof RemoteError || error instanceof HttpException ? error.message : (error as Error).message;
      await ctx.log(`${identifier}: ${url} not registered: ${message}`);
      return { identifier, url, error: message };
    }
  }
}
