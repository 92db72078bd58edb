import { Injectable } from '@nestjs/common';
import {
  HarvesterTypeProvider,
  type HarvestContext,
  type HarvesterType,
  type HarvestOptions,
  type Listed,
  type ListingEnd,
  type LocalCollection,
  type RemoteResource,
} from '../../harvester-type.js';
import { RemoteError } from '../../remote-http.js';
import { capabilitiesUrl, DEFAULT_TYPE_NAMES, getCapabilities, getRecords, OUTPUT_SCHEMA_URI, type CswCapabilities, type CswOutputSchema } from './csw-client.js';
import type { Crs84Box, CswConstraints } from './csw-filter.js';
import { CswMappingError, summarizeRecord, toRemoteRecord } from './csw-records.js';

/** A harvester's CSW configuration, as its schema allows it. */
export interface CswConfig {
  output_schema?: CswOutputSchema;
  page_size: number;
  type_names?: string;
  constraint: Omit<CswConstraints, 'modified_since' | 'modifiedQueryable'>;
  subjects: string[];
}

const ALL_RECORDS = 'records';
const SUBJECT_PREFIX = 'subject:';
/** dateStamps are often dates: an incremental run asks a day more than the watermark. */
const INCREMENTAL_OVERLAP_MS = 24 * 3600 * 1000;

const DATE_TIME = { type: 'string', format: 'date-time' };

export const CSW_CONFIG_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    output_schema: {
      enum: ['dc', 'iso19139'],
      description: 'Record schema asked of GetRecords: Dublin Core (csw:Record) or ISO 19139 (gmd:MD_Metadata). Default: iso19139 when GetCapabilities lists it, else dc.',
    },
    page_size: { type: 'integer', minimum: 1, maximum: 100, default: 50, description: 'maxRecords of each GetRecords page' },
    type_names: {
      type: 'string',
      pattern: '^[A-Za-z_][\\w.-]*:[A-Za-z_][\\w.-]*( [A-Za-z_][\\w.-]*:[A-Za-z_][\\w.-]*)*$',
      description: 'typeNames of the query; default csw:Record (dc) or gmd:MD_Metadata (iso19139)',
    },
    constraint: {
      type: 'object',
      additionalProperties: false,
      description: 'Harvest only the records matching every constraint given (an AND-combined OGC FES 1.1 filter)',
      properties: {
        keywords: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 20, description: 'each must be among the subjects (dc:subject)' },
        anytext: { type: 'string', minLength: 1, maxLength: 200, description: 'free text anywhere in the record (csw:AnyText)' },
        bbox: {
          type: 'object',
          additionalProperties: false,
          required: ['minx', 'miny', 'maxx', 'maxy'],
          description: 'the record box intersects this CRS84 box',
          properties: {
            minx: { type: 'number', minimum: -180, maximum: 180 },
            miny: { type: 'number', minimum: -90, maximum: 90 },
            maxx: { type: 'number', minimum: -180, maximum: 180 },
            maxy: { type: 'number', minimum: -90, maximum: 90 },
          },
        },
        start_datetime: { ...DATE_TIME, description: 'the temporal extent begins at or after it (apiso:TempExtent_begin)' },
        end_datetime: { ...DATE_TIME, description: 'the temporal extent ends at or before it (apiso:TempExtent_end)' },
      },
    },
    subjects: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 200 },
      uniqueItems: true,
      maxItems: 100,
      description: 'One harvestable resource per subject (records whose dc:subject contains it), besides the resource of all records',
    },
  },
};

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim()) : [];
}

/** The configuration with its defaults; values of the wrong kind are ignored (the engine validates against the schema first). */
export function readCswConfig(raw: Record<string, unknown>): CswConfig {
  const pageSize = Number(raw.page_size);
  const constraint = (raw.constraint && typeof raw.constraint === 'object' ? raw.constraint : {}) as Record<string, unknown>;
  const bbox = constraint.bbox as Crs84Box | undefined;
  const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
  return {
    output_schema: raw.output_schema === 'dc' || raw.output_schema === 'iso19139' ? raw.output_schema : undefined,
    page_size: Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 100 ? pageSize : 50,
    type_names: text(raw.type_names),
    constraint: {
      keywords: stringList(constraint.keywords),
      anytext: text(constraint.anytext),
      bbox: bbox && ['minx', 'miny', 'maxx', 'maxy'].every((k) => typeof (bbox as unknown as Record<string, unknown>)[k] === 'number') ? bbox : undefined,
      start_datetime: text(constraint.start_datetime),
      end_datetime: text(constraint.end_datetime),
    },
    subjects: [...new Set(stringList(raw.subjects))],
  };
}

/** The record schema to ask: the configured one, else ISO 19139 when the server offers it. */
export function chooseSchema(config: CswConfig, capabilities: CswCapabilities): CswOutputSchema {
  if (config.output_schema) return config.output_schema;
  return capabilities.outputSchemas.includes(OUTPUT_SCHEMA_URI.iso19139) ? 'iso19139' : 'dc';
}

/**
 * OGC CSW 2.0.2 catalogues (pycsw, GeoNetwork, …): GetCapabilities to check, GetRecords pages
 * (POST, Dublin Core or ISO 19139) to harvest, GetRecordById addresses as each item's `via`.
 */
@Injectable()
@HarvesterTypeProvider()
export class CswHarvesterType implements HarvesterType {
  readonly id = 'csw';
  readonly title = 'OGC CSW 2.0.2 catalogue';
  readonly description =
    'A catalogue service (pycsw, GeoNetwork, INSPIRE geoportals…) read with GetRecords in Dublin Core or ISO 19139. ' +
    'Each record becomes an item: its box as geometry, its dates, subjects and rights as properties, its downloadable files as assets ' +
    'and its OGC services (WMS, WFS…) as links. Resources: all records, plus one per configured subject.';
  readonly configSchema = CSW_CONFIG_SCHEMA;

  async check(ctx: HarvestContext): Promise<{ available: boolean; message: string }> {
    let capabilities: CswCapabilities;
    try {
      capabilities = await getCapabilities(ctx.http, ctx.harvester.url, ctx.signal);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      return { available: false, message: (error as Error).message };
    }
    if (capabilities.versions.length && !capabilities.versions.includes('2.0.2')) {
      return { available: false, message: `${capabilities.title} is a CSW of version ${capabilities.versions.join(', ')}, not 2.0.2` };
    }
    if (!capabilities.operations.includes('GetRecords')) {
      return { available: false, message: `${capabilities.title} lists no GetRecords operation (it lists ${capabilities.operations.join(', ') || 'none'})` };
    }
    const schema = chooseSchema(readCswConfig(ctx.harvester.config), capabilities);
    const iso = capabilities.outputSchemas.includes(OUTPUT_SCHEMA_URI.iso19139);
    return {
      available: true,
      message:
        `${capabilities.title}: CSW ${capabilities.versions.join(', ') || '2.0.2'}; operations ${capabilities.operations.join(', ')}; ` +
        `ISO 19139 output ${iso ? 'offered' : 'not offered'}; records are read as ${schema === 'dc' ? 'Dublin Core' : 'ISO 19139'}` +
        (capabilities.queryables.includes('apiso:Modified')
          ? '; incremental harvests filter on apiso:Modified'
          : '; every harvest lists all records (no apiso:Modified queryable)'),
    };
  }

  async *discover(ctx: HarvestContext): AsyncIterable<RemoteResource> {
    const capabilities = await getCapabilities(ctx.http, ctx.harvester.url, ctx.signal);
    const config = readCswConfig(ctx.harvester.config);
    const description = { abstract: capabilities.abstract, keywords: capabilities.keywords, service: capabilities.title };
    yield { remoteId: ALL_RECORDS, title: `${capabilities.title}: all records`, type: 'csw-records', remoteUrl: capabilitiesUrl(ctx.harvester.url), description };
    for (const subject of config.subjects) {
      yield {
        remoteId: `${SUBJECT_PREFIX}${subject}`,
        title: `${capabilities.title}: ${subject}`,
        type: 'csw-records',
        remoteUrl: capabilitiesUrl(ctx.harvester.url),
        description: { ...description, subject },
      };
    }
  }

  collection(resource: RemoteResource): LocalCollection {
    const description = resource.description ?? {};
    const subject = typeof description.subject === 'string' ? description.subject : null;
    const abstract = typeof description.abstract === 'string' ? description.abstract : null;
    return {
      title: resource.title,
      description: subject ? `Records about ${JSON.stringify(subject)} in ${String(description.service ?? 'a CSW catalogue')}${abstract ? `. ${abstract}` : ''}` : abstract,
      keywords: subject ? [subject] : stringList(description.keywords),
      license: 'other',
    };
  }

  /** The configured constraints, plus the subject of a subject's resource. */
  private constraints(config: CswConfig, resource: RemoteResource): CswConstraints {
    const constraints: CswConstraints = { ...config.constraint, keywords: [...(config.constraint.keywords ?? [])] };
    if (resource.remoteId.startsWith(SUBJECT_PREFIX)) constraints.keywords!.push(resource.remoteId.slice(SUBJECT_PREFIX.length));
    else if (resource.remoteId !== ALL_RECORDS)
      throw new Error(`unknown CSW resource ${JSON.stringify(resource.remoteId)} (expected ${ALL_RECORDS} or ${SUBJECT_PREFIX}<subject>)`);
    return constraints;
  }

  async *harvest(ctx: HarvestContext, resource: RemoteResource, options: HarvestOptions): AsyncGenerator<Listed, ListingEnd> {
    const endpoint = ctx.harvester.url;
    const config = readCswConfig(ctx.harvester.config);
    const constraints = this.constraints(config, resource);

    const capabilities = await getCapabilities(ctx.http, endpoint, ctx.signal);
    const schema = chooseSchema(config, capabilities);
    const typeNames = config.type_names ?? DEFAULT_TYPE_NAMES[schema];
    const since = options.since && !options.full ? Date.parse(options.since) : NaN;
    const incremental = Number.isFinite(since) && capabilities.queryables.includes('apiso:Modified');
    if (incremental) constraints.modified_since = new Date(since - INCREMENTAL_OVERLAP_MS).toISOString();
    else if (options.since && !options.full) await ctx.log(`the CSW lists no apiso:Modified queryable: listing every record`);

    let watermark: string | null = null;
    let listed = 0;
    let matched = 0;
    const seen = new Set<string>();
    for (let start = 1, page = 0; ; page++) {
      const result = await getRecords(ctx.http, endpoint, { outputSchema: schema, typeNames, startPosition: start, maxRecords: config.page_size, constraints }, ctx.signal);
      if (page === 0) {
        matched = result.matched;
        await ctx.log(
          `GetRecords ${schema === 'dc' ? 'Dublin Core' : 'ISO 19139'} (${typeNames}): ${result.matched} records match${result.applied.length ? ` ${result.applied.join(' AND ')}` : ''}`,
        );
      }
      for (const [index, element] of result.records.entries()) {
        listed++;
        const summary = summarizeRecord(element);
        const remoteId = summary.identifier ?? `(record ${start + index} without an identifier)`;
        if (seen.has(remoteId)) {
          yield { failure: { remoteId, error: `the identifier ${JSON.stringify(remoteId)} is listed twice; only its first record is kept`, stage: 'map' } };
          continue;
        }
        seen.add(remoteId);
        try {
          const record = toRemoteRecord(summary, endpoint, schema);
          if (record.remoteUpdated && (!watermark || record.remoteUpdated > watermark)) watermark = record.remoteUpdated;
          yield { record };
        } catch (error) {
          if (!(error instanceof CswMappingError)) throw error;
          yield { failure: { remoteId, error: error.message, stage: 'map' } };
        }
      }
      const next = result.nextRecord;
      if (next === 0 || next > result.matched || result.records.length === 0) break;
      if (next <= start) throw new RemoteError(`the CSW at ${endpoint} answered nextRecord ${next} for a page starting at ${start}: the listing does not advance`, endpoint);
      start = next;
    }
    // A server that stops short of what it matched (a result cap) gives an incomplete listing.
    const complete = listed >= matched;
    if (!complete) await ctx.log(`the CSW listed ${listed} of the ${matched} records it matched: the listing is incomplete`, 'warn');
    return { exhaustive: !incremental && complete, watermark };
  }

  /** Every identifier of the resource from brief records: deletions are found after incremental runs. */
  async *listIds(ctx: HarvestContext, resource: RemoteResource): AsyncGenerator<string, { complete: boolean }> {
    const endpoint = ctx.harvester.url;
    const config = readCswConfig(ctx.harvester.config);
    const constraints = this.constraints(config, resource);
    const capabilities = await getCapabilities(ctx.http, endpoint, ctx.signal);
    const schema = chooseSchema(config, capabilities);
    const typeNames = config.type_names ?? DEFAULT_TYPE_NAMES[schema];
    let listed = 0;
    let matched: number;
    for (let start = 1; ;) {
      const page = await getRecords(ctx.http, endpoint, { outputSchema: schema, typeNames, startPosition: start, maxRecords: 100, constraints, elementSet: 'brief' }, ctx.signal);
      matched = page.matched;
      for (const element of page.records) {
        listed++;
        const id = summarizeRecord(element).identifier;
        if (id) yield id;
      }
      const next = page.nextRecord;
      if (next === 0 || next > page.matched || page.records.length === 0) break;
      if (next <= start) throw new RemoteError(`the CSW at ${endpoint} answered nextRecord ${next} for a page starting at ${start}: the listing does not advance`, endpoint);
      start = next;
    }
    return { complete: listed >= matched };
  }
}
