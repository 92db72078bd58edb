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
import { bboxGeometry } from '../common/geometry-check.js';
import { stacItemRecord } from './stac-item-record.js';
import { readIndex, walkIndex, type IndexFile, type WalkState } from './static-stac-walk.js';

export interface StaticStacConfig {
  max_depth: number;
  catalog_items: boolean;
  concurrency: number;
}

export function staticStacConfig(raw: Record<string, unknown>): StaticStacConfig {
  const depth = Number(raw.max_depth ?? 8);
  const concurrency = Number(raw.concurrency ?? 4);
  return {
    max_depth: Number.isInteger(depth) ? Math.min(32, Math.max(0, depth)) : 8,
    catalog_items: raw.catalog_items !== false,
    concurrency: Number.isInteger(concurrency) ? Math.min(16, Math.max(1, concurrency)) : 4,
  };
}

const COLLECTION = 'stac-collection';
const CATALOG_ITEMS = 'stac-catalog-items';

// Collection fields that LocalCollection has a place for; the others go to its properties.
const DESCRIBED = new Set(['type', 'id', 'stac_version', 'title', 'description', 'keywords', 'license', 'providers', 'extent', 'summaries']);

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function date(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** Items taken from a file, with their fetch running a few at a time (results kept in order). */
async function* window<T, R>(inputs: T[], size: number, fn: (input: T) => Promise<R>): AsyncGenerator<R> {
  const running: Promise<R>[] = [];
  let next = 0;
  while (next < inputs.length || running.length) {
    while (running.length < size && next < inputs.length) {
      const pending = fn(inputs[next++]);
      // Awaited in turn below; a rejection of one left behind (the listing stopped) is not unhandled.
      pending.catch(() => undefined);
      running.push(pending);
    }
    yield await running.shift()!;
  }
}

type ItemResult = { url: string; listed: Listed; fetchFailed?: boolean };

@Injectable()
@HarvesterTypeProvider()
export class StaticStacHarvesterType implements HarvesterType {
  readonly id = 'stac-static';
  readonly title = 'Static STAC catalog';
  readonly description =
    'A STAC catalog published as files (catalog.json or collection.json, then child and item links), walked from its root with conditional GETs: files the remote says have not changed are not read again.';
  readonly configSchema: Record<string, unknown> = {
    type: 'object',
    additionalProperties: false,
    properties: {
      max_depth: { type: 'integer', minimum: 0, maximum: 32, default: 8, description: 'Levels of `child` links followed below the root file.' },
      catalog_items: {
        type: 'boolean',
        default: true,
        description: 'Offer the items linked from catalogs (not from a collection) as one more harvestable resource.',
      },
      concurrency: { type: 'integer', minimum: 1, maximum: 16, default: 4, description: 'Item files requested at once (the per-host limits still apply).' },
    },
  };

  async check(ctx: HarvestContext): Promise<{ available: boolean; message: string }> {
    try {
      const root = await readIndex(ctx, ctx.harvester.url, false);
      return {
        available: true,
        message: `STAC ${root.kind} ${JSON.stringify(root.title ?? root.id)}: ${root.children.length} child link(s), ${root.items.length} item link(s)`,
      };
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      return { available: false, message: (error as Error).message };
    }
  }

  async *discover(ctx: HarvestContext): AsyncIterable<RemoteResource> {
    const config = staticStacConfig(ctx.harvester.config);
    const state: WalkState = { incomplete: false, visited: new Set() };
    const collections = new Map<string, string>();
    // Catalog files outside any collection that link items: their items form one more resource.
    const underCollection = new Set<string>();
    let root: IndexFile | null = null;
    let catalogItems = 0;
    const walk = walkIndex(
      ctx,
      ctx.harvester.url,
      {
        maxDepth: config.max_depth,
        conditional: true,
        enter: () => true,
        onError: async (_url, error) => {
          // Discovery must be complete, else resources would be counted missing.
          throw error;
        },
      },
      state,
    );
    for await (const file of walk) {
      root ??= file;
      const inCollection = file.kind === 'collection' || underCollection.has(file.url);
      if (inCollection) for (const child of file.children) underCollection.add(child);
      if (file.kind === 'catalog' && !inCollection) catalogItems += file.items.length;
      if (file.kind !== 'collection') continue;
      const known = collections.get(file.id);
      if (known) {
        await ctx.log(`collection ${file.id} at ${file.url} has the id of the collection at ${known}: left out`, 'warn');
        continue;
      }
      collections.set(file.id, file.url);
      yield { remoteId: file.id, title: file.title ?? file.id, type: COLLECTION, remoteUrl: file.url, description: file.doc };
    }
    if (root && config.catalog_items && catalogItems > 0) {
      yield {
        remoteId: `catalog-items:${root.id}`,
        title: `Items of ${root.title ?? root.id} outside collections (${catalogItems})`,
        type: CATALOG_ITEMS,
        remoteUrl: root.url,
        description: root.doc,
      };
    }
  }

  collection(resource: RemoteResource): LocalCollection {
    const doc = resource.description ?? {};
    const extent = isObject(doc.extent) ? doc.extent : {};
    const spatial = isObject(extent.spatial) && Array.isArray(extent.spatial.bbox) ? extent.spatial.bbox : [];
    const temporal = isObject(extent.temporal) && Array.isArray(extent.temporal.interval) ? extent.temporal.interval : [];
    const interval = Array.isArray(temporal[0]) ? (temporal[0] as unknown[]) : [];
    const properties = Object.fromEntries(Object.entries(doc).filter(([key]) => !DESCRIBED.has(key)));
    const license = typeof doc.license === 'string' ? doc.license : undefined;
    return {
      title: resource.type === CATALOG_ITEMS ? resource.title : typeof doc.title === 'string' ? doc.title : resource.title,
      description: typeof doc.description === 'string' ? doc.description : null,
      keywords: Array.isArray(doc.keywords) ? doc.keywords.filter((k): k is string => typeof k === 'string') : undefined,
      // STAC 1.0's `various` is STAC 1.1's `other`.
      license: license === 'various' ? 'other' : license,
      providers: Array.isArray(doc.providers) ? doc.providers : undefined,
      geometry: bboxGeometry(spatial[0]),
      datetimeStart: date(interval[0]),
      datetimeEnd: date(interval[1]),
      summaries: isObject(doc.summaries) ? doc.summaries : undefined,
      properties,
    };
  }

  async *harvest(ctx: HarvestContext, resource: RemoteResource, options: HarvestOptions): AsyncGenerator<Listed, ListingEnd> {
    const config = staticStacConfig(ctx.harvester.config);
    const conditional = !options.full;
    const start = resource.type === CATALOG_ITEMS ? ctx.harvester.url : resource.remoteUrl;
    if (!start) throw new Error(`resource ${resource.remoteId} has no address`);
    const state: WalkState = { incomplete: false, visited: new Set() };
    // A collection's items include those of catalogs below it; collections below it are resources of their own.
    const walk = walkIndex(
      ctx,
      start,
      {
        maxDepth: config.max_depth,
        conditional,
        enter: (file) => file.kind === 'catalog',
        onError: async (url, error) => ctx.log(`${url} could not be read: ${(error as Error).message}; the listing is incomplete`, 'error'),
      },
      state,
    );
    const itemUrls = new Set<string>();
    const ids = new Map<string, string>();
    let first = true;
    for await (const file of walk) {
      if (first && resource.type === CATALOG_ITEMS && file.kind !== 'catalog') break;
      first = false;
      const fresh = file.items.filter((url) => !itemUrls.has(url));
      for (const url of fresh) itemUrls.add(url);
      for await (const result of window(fresh, config.concurrency, (url) => this.item(ctx, url, conditional))) {
        if (result.fetchFailed) state.incomplete = true;
        const listed = result.listed;
        const id = 'record' in listed ? listed.record.remoteId : 'unchanged' in listed ? listed.unchanged.remoteId : null;
        if (id !== null) {
          const other = ids.get(id);
          if (other) {
            yield { failure: { remoteId: result.url, error: `the item id ${id} is already used by ${other}`, stage: 'map' } };
            continue;
          }
          ids.set(id, result.url);
        }
        yield listed;
      }
    }
    return { exhaustive: !state.incomplete };
  }

  /** One item file: a conditional GET with its stored validators; 304 → unchanged. */
  private async item(ctx: HarvestContext, url: string, conditional: boolean): Promise<ItemResult> {
    const stored = conditional ? await ctx.validators.get(url) : null;
    const usable = stored?.remoteId ? stored : null;
    try {
      let answer = await ctx.http.json(url, { signal: ctx.signal, etag: usable?.etag, lastModified: usable?.lastModified });
      if (answer.status === 304) {
        if (usable?.remoteId) return { url, listed: { unchanged: { remoteId: usable.remoteId } } };
        answer = await ctx.http.json(url, { signal: ctx.signal });
      }
      const listed = stacItemRecord(answer.data, url, answer.lastModified);
      if ('record' in listed && (answer.etag || answer.lastModified)) {
        await ctx.validators.set(url, { etag: answer.etag, lastModified: answer.lastModified, remoteId: listed.record.remoteId });
      } else if (!('record' in listed) && usable) {
        // A file that no longer maps is read again next time.
        await ctx.validators.set(url, { etag: null, lastModified: null, remoteId: usable.remoteId });
      }
      return { url, listed };
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      const remoteId = stored?.remoteId ?? url;
      // A file that answered, but not with JSON (an HTML page, garbage), was read: it is a bad record.
      if (error instanceof RemoteError && error.status !== undefined && error.status >= 200 && error.status < 300) {
        return { url, listed: { failure: { remoteId, error: error.message, stage: 'parse' } } };
      }
      return { url, fetchFailed: true, listed: { failure: { remoteId, error: (error as Error).message, stage: 'fetch' } } };
    }
  }
}
