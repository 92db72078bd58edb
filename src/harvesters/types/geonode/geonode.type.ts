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
import { RemoteError, type RemoteJson } from '../../remote-http.js';
import { geonodeRecord, type GeoNodeSource } from './geonode-record.js';

type ApiVersion = 3 | 4;

/** A kind of GeoNode resource a harvester can select: where it is listed and under which key. */
interface ResourceKind {
  /** The harvestable resource's remote id (`datasets`, `layers`…). */
  id: string;
  version: ApiVersion;
  /** GeoNode's `resource_type`. */
  resourceType: string;
  title: string;
  /** The list route under `api/v2/` and the key of its array. */
  listPath: string;
  listKey: string;
  /** The detail route under `api/v2/` (`{pk}/` appended). */
  detailPath: string;
}

// GeoNode 4 lists every kind through /api/v2/resources filtered by resource_type (lighter pages than
// /api/v2/datasets, which adds attributes and styles); GeoNode 3 has a route per kind.
const KINDS: ResourceKind[] = [
  { id: 'datasets', version: 4, resourceType: 'dataset', title: 'Datasets', listPath: 'resources/', listKey: 'resources', detailPath: 'resources' },
  { id: 'maps', version: 4, resourceType: 'map', title: 'Maps', listPath: 'resources/', listKey: 'resources', detailPath: 'resources' },
  { id: 'documents', version: 4, resourceType: 'document', title: 'Documents', listPath: 'resources/', listKey: 'resources', detailPath: 'resources' },
  { id: 'geostories', version: 4, resourceType: 'geostory', title: 'GeoStories', listPath: 'resources/', listKey: 'resources', detailPath: 'resources' },
  { id: 'dashboards', version: 4, resourceType: 'dashboard', title: 'Dashboards', listPath: 'resources/', listKey: 'resources', detailPath: 'resources' },
  { id: 'layers', version: 3, resourceType: 'layer', title: 'Layers', listPath: 'layers/', listKey: 'layers', detailPath: 'layers' },
  { id: 'maps', version: 3, resourceType: 'map', title: 'Maps', listPath: 'maps/', listKey: 'maps', detailPath: 'maps' },
  { id: 'documents', version: 3, resourceType: 'document', title: 'Documents', listPath: 'documents/', listKey: 'documents', detailPath: 'documents' },
];

/** Pages followed at most per listing (a remote whose next links never end stops here, incomplete). */
const MAX_PAGES = 100_000;

const DEFAULT_KINDS: Record<ApiVersion, string[]> = { 4: ['datasets', 'maps'], 3: ['layers', 'maps'] };

export interface GeoNodeConfig {
  api_version: 'auto' | '3' | '4';
  resource_types?: string[];
  page_size: number;
  keyword?: string;
  category?: string;
}

/** The configuration with its defaults, whatever was stored (the engine validates against the schema). */
export function geonodeConfig(raw: Record<string, unknown>): GeoNodeConfig {
  const version = String(raw.api_version ?? 'auto');
  const size = Number(raw.page_size ?? 50);
  return {
    api_version: version === '3' || version === '4' ? version : 'auto',
    resource_types: Array.isArray(raw.resource_types) ? raw.resource_types.map(String) : undefined,
    page_size: Number.isInteger(size) ? Math.min(100, Math.max(1, size)) : 50,
    keyword: typeof raw.keyword === 'string' && raw.keyword.trim() ? raw.keyword.trim() : undefined,
    category: typeof raw.category === 'string' && raw.category.trim() ? raw.category.trim() : undefined,
  };
}

/** The GeoNode's base address from the harvester's URL (its home page or any `/api/v2/…` address). */
export function geonodeBase(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  u.pathname = u.pathname.replace(/\/api\/v2(\/.*)?$/, '/');
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.toString();
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function rethrowAbort(ctx: HarvestContext, error: unknown): void {
  if (ctx.signal.aborted) throw error;
}

@Injectable()
@HarvesterTypeProvider()
export class GeoNodeHarvesterType implements HarvesterType {
  readonly id = 'geonode';
  readonly title = 'GeoNode (API v2)';
  readonly description =
    "A GeoNode's datasets, maps and documents through its API v2: GeoNode 4 (/api/v2/resources) and GeoNode 3 (/api/v2/layers, /api/v2/maps), with footprints, dates, keywords, thumbnails and download and OGC service links.";
  readonly configSchema: Record<string, unknown> = {
    type: 'object',
    additionalProperties: false,
    properties: {
      api_version: {
        type: 'string',
        enum: ['auto', '3', '4'],
        default: 'auto',
        description: 'GeoNode major version; `auto` asks /api/v2/ (a `datasets` route means GeoNode 4, a `layers` route GeoNode 3).',
      },
      resource_types: {
        type: 'array',
        items: { type: 'string', enum: [...new Set(KINDS.map((k) => k.id))] },
        uniqueItems: true,
        minItems: 1,
        description:
          'Kinds offered by discovery. GeoNode 4: datasets, maps, documents, geostories, dashboards; GeoNode 3: layers, maps, documents. Default: datasets and maps (4), layers and maps (3).',
      },
      page_size: { type: 'integer', minimum: 1, maximum: 100, default: 50, description: 'Resources asked per page.' },
      keyword: { type: 'string', minLength: 1, maxLength: 200, description: 'Only resources with this keyword (`filter{keywords.name}`).' },
      category: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'Only resources of this topic category identifier (`filter{category.identifier}`), e.g. `environment`.',
      },
    },
  };

  async check(ctx: HarvestContext): Promise<{ available: boolean; message: string }> {
    try {
      const config = geonodeConfig(ctx.harvester.config);
      const version = await this.version(ctx);
      const base = geonodeBase(ctx.harvester.url);
      // The first kind's list answers as a GeoNode list: the API is usable, not only its root.
      const kind = KINDS.find((k) => k.id === DEFAULT_KINDS[version][0] && k.version === version)!;
      const total = await this.count(ctx, base, kind, config);
      return { available: true, message: `GeoNode ${version} at ${base}: ${total ?? 'an unknown number of'} ${kind.id}` };
    } catch (error) {
      rethrowAbort(ctx, error);
      return { available: false, message: (error as Error).message };
    }
  }

  async *discover(ctx: HarvestContext): AsyncIterable<RemoteResource> {
    const config = geonodeConfig(ctx.harvester.config);
    const version = await this.version(ctx);
    const base = geonodeBase(ctx.harvester.url);
    const wanted = config.resource_types ?? DEFAULT_KINDS[version];
    for (const id of wanted) {
      const kind = KINDS.find((k) => k.id === id && k.version === version);
      if (!kind) {
        await ctx.log(`${id} is not a kind of resource of GeoNode ${version}: left out`, 'warn');
        continue;
      }
      let total: number | null;
      try {
        total = await this.count(ctx, base, kind, config);
      } catch (error) {
        // A route this GeoNode does not have (documents on a trimmed install): the kind is absent.
        if (error instanceof RemoteError && error.status === 404) {
          await ctx.log(`${error.url} answers 404: no ${kind.id} on this GeoNode`, 'warn');
          continue;
        }
        throw error;
      }
      yield {
        remoteId: kind.id,
        title: total === null ? kind.title : `${kind.title} (${total})`,
        type: kind.resourceType,
        remoteUrl: this.listUrl(base, kind, config),
        description: { api_version: version, base, resource_type: kind.resourceType, total },
      };
    }
  }

  collection(resource: RemoteResource): LocalCollection {
    const base = typeof resource.description?.base === 'string' ? resource.description.base : resource.remoteUrl ? geonodeBase(resource.remoteUrl) : null;
    const host = base ? new URL(base).host : 'unknown host';
    const version = resource.description?.api_version;
    return {
      title: `GeoNode ${host}: ${resource.remoteId}`,
      description: `The ${resource.remoteId} of the GeoNode at ${base ?? host}, harvested through its API v2.`,
      keywords: ['geonode', resource.type],
      // Each record carries its own license; the collection gathers several.
      license: 'other',
      providers: [{ name: host, ...(base ? { url: base } : {}), roles: ['host', 'licensor'] }],
      properties: { 'geonode:resource_type': resource.type, ...(version ? { 'geonode:api_version': version } : {}) },
    };
  }

  async *harvest(ctx: HarvestContext, resource: RemoteResource, _options: HarvestOptions): AsyncGenerator<Listed, ListingEnd> {
    const config = geonodeConfig(ctx.harvester.config);
    const described = resource.description?.api_version;
    const version: ApiVersion = described === 3 || described === 4 ? described : await this.version(ctx);
    const kind = KINDS.find((k) => k.id === resource.remoteId && k.version === version);
    if (!kind) throw new Error(`${resource.remoteId} is not a kind of resource of GeoNode ${version}`);
    const base = geonodeBase(ctx.harvester.url);
    const seen = new Set<string>();
    const pages = new Set<string>();
    let url: string | null = this.listUrl(base, kind, config, 1);
    for (let number = 1; url; number++) {
      if (pages.has(url)) throw new Error(`page ${number} of ${kind.id} links back to ${url}, already read: the listing cannot be completed`);
      if (number > MAX_PAGES) throw new Error(`${kind.id} has more than ${MAX_PAGES} pages: the listing stops, incomplete`);
      pages.add(url);
      // A page that fails throws: the listing is incomplete, and nothing may be counted missing.
      const page: RemoteJson = await ctx.http.json(url, { signal: ctx.signal });
      const data: unknown = page.data;
      if (!isObject(data) || !Array.isArray(data[kind.listKey])) {
        throw new RemoteError(`page ${number} of ${kind.id} (${page.url}) is not a GeoNode list: no ${kind.listKey} array`, page.url, page.status);
      }
      const source: GeoNodeSource = { base, pageUrl: page.url, apiVersion: version, endpoint: kind.detailPath };
      const listed = data[kind.listKey] as unknown[];
      for (let i = 0; i < listed.length; i++) {
        const item = listed[i];
        // GeoNode 4's /resources is filtered by type; a stray kind is not this resource's.
        if (kind.listPath === 'resources/' && isObject(item) && typeof item.resource_type === 'string' && item.resource_type !== kind.resourceType) continue;
        const result = geonodeRecord(item, source, `page ${number}, resource ${i + 1}`);
        const id = 'record' in result ? result.record.remoteId : 'failure' in result ? result.failure.remoteId : result.unchanged.remoteId;
        // Pages shift when resources are added while listing: a resource seen twice is given once.
        if (seen.has(id)) continue;
        seen.add(id);
        yield result;
      }
      const links: Record<string, unknown> = isObject(data.links) ? data.links : {};
      const next: unknown = links.next ?? data.next;
      url = typeof next === 'string' && next ? new URL(next, page.url).toString() : null;
    }
    return { exhaustive: true };
  }

  /** GeoNode's `total` of a kind (one resource asked); throws when the list does not answer as one. */
  private async count(ctx: HarvestContext, base: string, kind: ResourceKind, config: GeoNodeConfig): Promise<number | null> {
    const url = this.listUrl(base, kind, config, 1, 1);
    const page = await ctx.http.json(url, { signal: ctx.signal });
    const data = page.data;
    if (!isObject(data) || !Array.isArray(data[kind.listKey])) throw new RemoteError(`${page.url} is not a GeoNode list of ${kind.listKey}`, page.url, page.status);
    return typeof data.total === 'number' ? data.total : null;
  }

  /** A list route's address with paging and the configured filters. */
  private listUrl(base: string, kind: ResourceKind, config: GeoNodeConfig, page?: number, pageSize = config.page_size): string {
    const url = new URL(`api/v2/${kind.listPath}`, base);
    if (page !== undefined) {
      url.searchParams.set('page', String(page));
      url.searchParams.set('page_size', String(pageSize));
    }
    if (kind.listPath === 'resources/') url.searchParams.set('filter{resource_type}', kind.resourceType);
    // GeoNode 4 may leave the links (downloads, OGC services) out of list pages unless asked.
    if (kind.version === 4 && page !== undefined) url.searchParams.set('include[]', 'links');
    if (config.keyword) url.searchParams.set('filter{keywords.name}', config.keyword);
    if (config.category) url.searchParams.set('filter{category.identifier}', config.category);
    return url.toString();
  }

  /** The configured API version, or the one /api/v2/ (else /api/v2/resources/) shows. */
  private async version(ctx: HarvestContext): Promise<ApiVersion> {
    const config = geonodeConfig(ctx.harvester.config);
    if (config.api_version !== 'auto') return Number(config.api_version) as ApiVersion;
    const base = geonodeBase(ctx.harvester.url);
    const rootUrl = new URL('api/v2/', base).toString();
    try {
      const root = await ctx.http.json(rootUrl, { signal: ctx.signal });
      if (isObject(root.data)) {
        if ('datasets' in root.data) return 4;
        if ('layers' in root.data) return 3;
      }
    } catch (error) {
      rethrowAbort(ctx, error);
      // Some deployments answer only the list routes: the probe below decides.
    }
    const probe = await ctx.http.json(new URL('api/v2/resources/?page_size=1', base).toString(), { signal: ctx.signal });
    const first = isObject(probe.data) && Array.isArray(probe.data.resources) ? (probe.data.resources[0] as Record<string, unknown> | undefined) : undefined;
    if (first?.resource_type === 'dataset') return 4;
    if (first?.resource_type === 'layer') return 3;
    throw new RemoteError(
      `${rootUrl} does not look like a GeoNode API v2 (no datasets or layers route, no dataset or layer in /api/v2/resources/); set api_version if it is one`,
      probe.url,
      probe.status,
    );
  }
}
