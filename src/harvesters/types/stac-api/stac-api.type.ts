import { Injectable } from '@nestjs/common';
import type { Geometry } from '../../../database/geometry.js';
import { bboxGeometry } from '../common/geometry-check.js';
import {
  HarvesterTypeProvider,
  type HarvestContext,
  type HarvesterType,
  type HarvestOptions,
  type Listed,
  type ListingEnd,
  type LocalCollection,
  type RemoteLink,
  type RemoteResource,
} from '../../harvester-type.js';
import { RemoteError } from '../../remote-http.js';

/** The settings of a remote STAC API harvester. */
export interface StacApiConfig {
  page_size: number;
  id_page_size: number;
  overlap_seconds: number;
  collections?: string[];
  filter?: Record<string, unknown>;
}

interface StacLink extends RemoteLink {
  method?: string;
  body?: Record<string, unknown>;
  merge?: boolean;
}

interface Landing {
  url: string;
  links: StacLink[];
  conformsTo: string[];
  title?: string;
  stac_version?: string;
}

interface Capabilities {
  search: string | null;
  filter: boolean;
  sort: boolean;
  fields: boolean;
  updatedQueryable: boolean;
}

interface Page {
  features?: unknown[];
  collections?: unknown[];
  links?: StacLink[];
}

/** Pages followed at most per listing (a remote that pages forever stops here, incomplete). */
const MAX_PAGES = 100_000;

const COLLECTION_FIELDS_LOCAL = new Set([
  'id',
  'type',
  'links',
  'stac_version',
  'stac_extensions',
  'extent',
  'title',
  'description',
  'keywords',
  'license',
  'providers',
  'summaries',
  'assets',
]);

function conforms(landing: Landing, suffix: string): boolean {
  return landing.conformsTo.some((c) => c.endsWith(suffix));
}

function linkOf(links: StacLink[] | undefined, rel: string): StacLink | undefined {
  return (links ?? []).find((l) => l && l.rel === rel && typeof l.href === 'string');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** A remote STAC API: collections are the harvestable resources, items are harvested through item search. */
@Injectable()
@HarvesterTypeProvider()
export class StacApiHarvesterType implements HarvesterType {
  readonly id = 'stac-api';
  readonly title = 'Remote STAC API';
  readonly description =
    'A STAC API (another Sightline, Earth Search, Planetary Computer, pgstac…). Its collections are the harvestable resources; ' +
    'items come through POST /search, incrementally on `updated` when the remote supports filter and sort and lists `updated` in its ' +
    'queryables (else every item is listed and compared by content hash). Deleted items are found by listing ids (fields extension).';
  readonly configSchema = {
    type: 'object',
    additionalProperties: false,
    properties: {
      page_size: { type: 'integer', minimum: 1, maximum: 10000, default: 250, description: 'Items per search page' },
      id_page_size: { type: 'integer', minimum: 1, maximum: 10000, default: 2000, description: 'Ids per page when listing ids to find deletions' },
      overlap_seconds: { type: 'integer', minimum: 0, maximum: 604800, default: 300, description: 'Incremental runs ask for items updated since the watermark minus this' },
      collections: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 10000, description: 'Only offer these remote collections (default: all)' },
      filter: { type: 'object', description: 'A CQL2-JSON filter added to every item search (needs the remote filter extension)' },
    },
  };

  /** What a session learnt of the remote (landing page, capabilities): read once per session, not per resource. */
  private readonly remotes = new WeakMap<HarvestContext, Promise<{ landing: Landing; caps: Capabilities }>>();

  private remote(ctx: HarvestContext): Promise<{ landing: Landing; caps: Capabilities }> {
    let known = this.remotes.get(ctx);
    if (!known) {
      known = this.landing(ctx).then(async (landing) => ({ landing, caps: await this.capabilities(ctx, landing) }));
      // A failed read is not remembered: the next resource asks again.
      known.catch(() => this.remotes.delete(ctx));
      this.remotes.set(ctx, known);
    }
    return known;
  }

  private async landing(ctx: HarvestContext): Promise<Landing> {
    const { data, url } = await ctx.http.json<Record<string, unknown>>(ctx.harvester.url, { signal: ctx.signal });
    if (!isObject(data) || (!Array.isArray(data.links) && !Array.isArray(data.conformsTo))) {
      throw new RemoteError(`${url} is not a STAC API landing page (no links, no conformsTo)`, url);
    }
    return {
      url,
      links: Array.isArray(data.links) ? (data.links as StacLink[]) : [],
      conformsTo: Array.isArray(data.conformsTo) ? (data.conformsTo as unknown[]).filter((c): c is string => typeof c === 'string') : [],
      title: typeof data.title === 'string' ? data.title : undefined,
      stac_version: typeof data.stac_version === 'string' ? data.stac_version : undefined,
    };
  }

  private resolve(href: string, base: string): string {
    return new URL(href, base).toString();
  }

  private async capabilities(ctx: HarvestContext, landing: Landing): Promise<Capabilities> {
    // Landing pages may also link an OpenSearch description as `search`: take the STAC one.
    const searchLinks = landing.links.filter((l) => l && l.rel === 'search' && typeof l.href === 'string' && !/opensearch/i.test(`${l.type ?? ''} ${l.href}`));
    const searchLink = searchLinks.find((l) => String(l.method ?? '').toUpperCase() === 'POST') ?? searchLinks.find((l) => !l.type || /json/.test(l.type));
    const search = conforms(landing, '/item-search') || searchLink ? this.resolve(searchLink?.href ?? 'search', landing.url.endsWith('/') ? landing.url : `${landing.url}/`) : null;
    const filter = conforms(landing, 'item-search#filter');
    const sort = conforms(landing, 'item-search#sort');
    const fields = conforms(landing, 'item-search#fields');
    let updatedQueryable = false;
    if (filter) {
      const link = linkOf(landing.links, 'http://www.opengis.net/def/rel/ogc/1.0/queryables');
      try {
        const { data } = await ctx.http.json<{ properties?: Record<string, unknown> }>(
          this.resolve(link?.href ?? 'queryables', landing.url.endsWith('/') ? landing.url : `${landing.url}/`),
          { signal: ctx.signal },
        );
        updatedQueryable = isObject(data?.properties) && 'updated' in data.properties;
      } catch (error) {
        ctx.signal.throwIfAborted();
        await ctx.log(`queryables not readable (${(error as Error).message}); items are listed in full`, 'warn');
      }
    }
    return { search, filter, sort, fields, updatedQueryable };
  }

  private config(ctx: HarvestContext): StacApiConfig {
    return { page_size: 250, id_page_size: 2000, overlap_seconds: 300, ...(ctx.harvester.config as Partial<StacApiConfig>) };
  }

  async check(ctx: HarvestContext): Promise<{ available: boolean; message: string }> {
    const { landing, caps } = await this.remote(ctx);
    const features = [caps.search && 'item search', caps.filter && 'filter', caps.sort && 'sort', caps.fields && 'fields', caps.updatedQueryable && 'updated queryable'].filter(
      Boolean,
    );
    return {
      available: true,
      message: `STAC API ${JSON.stringify(landing.title ?? landing.url)} (STAC ${landing.stac_version ?? '?'}; ${features.length ? features.join(', ') : 'no item search'})`,
    };
  }

  /** Follows `next` links (GET, or POST with a body, merged when the link says so) page by page. */
  private async *pages(ctx: HarvestContext, first: { url: string; method: 'GET' | 'POST'; body?: Record<string, unknown> }): AsyncGenerator<Page> {
    let request: { url: string; method: 'GET' | 'POST'; body?: Record<string, unknown> } | null = first;
    const seen = new Set<string>();
    for (let n = 0; request; n++) {
      if (n >= MAX_PAGES) throw new RemoteError(`more than ${MAX_PAGES} pages; listing stopped`, request.url);
      const key = `${request.method} ${request.url} ${JSON.stringify(request.body ?? null)}`;
      if (seen.has(key)) throw new RemoteError(`the remote's next link repeats an earlier page (${request.url}); listing stopped`, request.url);
      seen.add(key);
      const answer: { data: Page; url: string } = await ctx.http.json<Page>(request.url, { method: request.method, body: request.body, signal: ctx.signal });
      const { data, url } = answer;
      if (!isObject(data)) throw new RemoteError(`${url} did not answer a JSON object`, url);
      yield data;
      const next = linkOf((data as Page).links, 'next');
      if (!next) return;
      const method = String(next.method ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET';
      const body: Record<string, unknown> | undefined = method === 'POST' ? (next.merge ? { ...request.body, ...next.body } : (next.body ?? request.body)) : undefined;
      request = { url: this.resolve(next.href, url), method, body };
    }
  }

  async *discover(ctx: HarvestContext): AsyncIterable<RemoteResource> {
    const landing = await this.landing(ctx);
    const only = this.config(ctx).collections;
    const link = linkOf(landing.links, 'data');
    const start = this.resolve(link?.href ?? 'collections', landing.url.endsWith('/') ? landing.url : `${landing.url}/`);
    for await (const page of this.pages(ctx, { url: start, method: 'GET' })) {
      if (!Array.isArray(page.collections)) throw new RemoteError(`${start} did not list collections`, start);
      for (const raw of page.collections) {
        if (!isObject(raw) || typeof raw.id !== 'string' || !raw.id) continue;
        if (only && !only.includes(raw.id)) continue;
        const self = linkOf(raw.links as StacLink[] | undefined, 'self');
        const { links: _links, ...description } = raw;
        void _links;
        yield {
          remoteId: raw.id,
          title: typeof raw.title === 'string' && raw.title ? raw.title : raw.id,
          type: 'stac-collection',
          remoteUrl: self ? this.resolve(self.href, start) : `${start.replace(/\/$/, '')}/${encodeURIComponent(raw.id)}`,
          description,
        };
      }
    }
  }

  collection(resource: RemoteResource): LocalCollection {
    const d = resource.description ?? {};
    const extent = isObject(d.extent) ? d.extent : {};
    const spatial = isObject(extent.spatial) && Array.isArray(extent.spatial.bbox) ? (extent.spatial.bbox as unknown[])[0] : null;
    const geometry = bboxGeometry(spatial);
    const interval = isObject(extent.temporal) && Array.isArray(extent.temporal.interval) ? (extent.temporal.interval as unknown[])[0] : null;
    const time = (value: unknown) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value) : null);
    const properties = Object.fromEntries(Object.entries(d).filter(([key]) => !COLLECTION_FIELDS_LOCAL.has(key)));
    return {
      title: typeof d.title === 'string' && d.title ? d.title : resource.title,
      description: typeof d.description === 'string' ? d.description : null,
      keywords: Array.isArray(d.keywords) ? d.keywords.filter((k): k is string => typeof k === 'string') : [],
      license: typeof d.license === 'string' ? d.license : 'other',
      providers: Array.isArray(d.providers) ? d.providers : [],
      geometry,
      datetimeStart: Array.isArray(interval) ? time(interval[0]) : null,
      datetimeEnd: Array.isArray(interval) ? time(interval[1]) : null,
      summaries: isObject(d.summaries) ? d.summaries : {},
      properties,
    };
  }

  async *harvest(ctx: HarvestContext, resource: RemoteResource, options: HarvestOptions): AsyncGenerator<Listed, ListingEnd> {
    const config = this.config(ctx);
    const { landing, caps } = await this.remote(ctx);
    const incremental = !options.full && !!options.since && !!caps.search && caps.filter && caps.sort && caps.updatedQueryable;
    if (!options.full && options.since && !incremental) await ctx.log(`${resource.remoteId}: the remote cannot filter and sort on updated; every item is listed and compared`);
    const filters: Record<string, unknown>[] = [];
    if (config.filter) filters.push(config.filter);
    if (incremental) {
      const from = new Date(Date.parse(options.since!) - config.overlap_seconds * 1000).toISOString();
      filters.push({ op: '>=', args: [{ property: 'updated' }, { timestamp: from }] });
    }
    let first: { url: string; method: 'GET' | 'POST'; body?: Record<string, unknown> };
    if (caps.search) {
      const body: Record<string, unknown> = { collections: [resource.remoteId], limit: config.page_size };
      if (caps.sort && caps.updatedQueryable) {
        body.sortby = [
          { field: 'properties.updated', direction: 'asc' },
          { field: 'id', direction: 'asc' },
        ];
      }
      if (filters.length) {
        body.filter = filters.length === 1 ? filters[0] : { op: 'and', args: filters };
        body['filter-lang'] = 'cql2-json';
      }
      first = { url: caps.search, method: 'POST', body };
    } else {
      if (config.filter) await ctx.log('the remote has no item search: the configured filter is not applied', 'warn');
      const base = resource.remoteUrl ?? `${landing.url.replace(/\/$/, '')}/collections/${encodeURIComponent(resource.remoteId)}`;
      first = { url: `${base.replace(/\/$/, '')}/items?limit=${config.page_size}`, method: 'GET' };
    }
    let watermark: string | null = options.since;
    for await (const page of this.pages(ctx, first)) {
      if (!Array.isArray(page.features)) throw new RemoteError(`${first.url} did not answer a FeatureCollection`, first.url);
      for (const raw of page.features) {
        const listed = this.map(raw, resource, landing);
        if ('record' in listed) {
          const updated = listed.record.remoteUpdated;
          if (updated && (!watermark || Date.parse(updated) > Date.parse(watermark))) watermark = updated;
        }
        yield listed;
      }
    }
    // A filtered listing (configured filter or watermark) does not show every remote item.
    return { exhaustive: !incremental && !config.filter, watermark };
  }

  private map(raw: unknown, resource: RemoteResource, landing: Landing): Listed {
    if (!isObject(raw)) return { failure: { remoteId: '(no id)', error: 'a listed feature is not a JSON object', stage: 'parse' } };
    if (typeof raw.id !== 'string' || !raw.id) return { failure: { remoteId: '(no id)', error: 'a listed feature has no string id', stage: 'parse' } };
    if (!isObject(raw.properties)) return { failure: { remoteId: raw.id, error: 'the feature has no properties object', stage: 'parse' } };
    // A remote that ignores the `collections` parameter must not mix other collections' items in.
    if (typeof raw.collection === 'string' && raw.collection !== resource.remoteId) {
      return { failure: { remoteId: raw.id, error: `listed for collection ${resource.remoteId} but belongs to ${raw.collection}`, stage: 'parse' } };
    }
    const links = Array.isArray(raw.links) ? (raw.links as StacLink[]).filter((l) => isObject(l) && typeof l.rel === 'string' && typeof l.href === 'string') : [];
    const self = linkOf(links, 'self');
    const remoteUrl = self
      ? new URL(self.href, landing.url).toString()
      : `${(resource.remoteUrl ?? `${landing.url.replace(/\/$/, '')}/collections/${encodeURIComponent(resource.remoteId)}`).replace(/\/$/, '')}/items/${encodeURIComponent(raw.id)}`;
    const properties = raw.properties;
    return {
      record: {
        remoteId: raw.id,
        remoteUrl,
        remoteUpdated: typeof properties.updated === 'string' ? properties.updated : null,
        geometry: (raw.geometry ?? null) as Geometry | null,
        properties,
        assets: isObject(raw.assets) ? (raw.assets as Record<string, Record<string, unknown>>) : {},
        links: links.map(({ rel, href, type, title }) => ({ rel, href, ...(type ? { type } : {}), ...(title ? { title } : {}) })),
        stac_extensions: Array.isArray(raw.stac_extensions) ? raw.stac_extensions.filter((e): e is string => typeof e === 'string') : [],
      },
    };
  }

  async *listIds(ctx: HarvestContext, resource: RemoteResource): AsyncGenerator<string, { complete: boolean }> {
    const config = this.config(ctx);
    const { caps } = await this.remote(ctx);
    if (!caps.search) return { complete: false };
    const body: Record<string, unknown> = { collections: [resource.remoteId], limit: config.id_page_size };
    if (caps.fields) body.fields = { include: ['id'], exclude: ['geometry', 'bbox', 'properties', 'assets', 'links'] };
    if (config.filter) {
      body.filter = config.filter;
      body['filter-lang'] = 'cql2-json';
    }
    for await (const page of this.pages(ctx, { url: caps.search, method: 'POST', body })) {
      if (!Array.isArray(page.features)) throw new RemoteError(`${caps.search} did not answer a FeatureCollection`, caps.search);
      for (const raw of page.features) if (isObject(raw) && typeof raw.id === 'string' && raw.id) yield raw.id;
    }
    return { complete: true };
  }
}
