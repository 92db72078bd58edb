import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { AuthUser } from '../auth/auth.types.js';
import { AppConfig, secretKey } from '../config/app-config.js';
import { CONFORMANCE_CLASSES, OPENAPI_MEDIA_TYPE, QUERYABLES_REL, STAC_VERSION } from './conformance.js';
import { CursorCodec, CursorError, type CursorPayload, fingerprint } from './cursor.js';
import { CatalogService } from '../catalog/catalog.service.js';
import {
  COLLECTION_QUERYABLES,
  ITEM_QUERYABLES,
  itemQueryablesWithSummaries,
  normalizeQueryableName,
  offeredQueryables,
  optionalQueryableKeys,
  type Queryable,
} from './queryables.js';
import { CatalogSearchService, type CollectionFilter, type ItemFilter, type MatchCount, type ResolvedSort, type SqlCondition } from '../catalog/catalog-search.service.js';
import { compileCql2 } from './cql2/cql2.compiler.js';
import { Cql2Error, type Cql2Node } from './cql2/cql2.types.js';
import { DEFAULT_COLLECTION_FIELDS, applyFields, applyItemFields, toStacItem, type StacItem } from './stac-item.dto.js';
import { toStacCollection } from './stac-collection.dto.js';
import { GEOJSON_TYPE, JSON_TYPE, SCHEMA_TYPE, type StacLink, StacLinks } from './stac-links.js';
import { badRequest, type SearchRequest, type SortSpec } from './search-request.js';

/** How the request was made, so that paging links repeat it. */
export interface RequestInfo {
  method: 'GET' | 'POST';
  /** The request URL on PUBLIC_URL. */
  url: URL;
  /** POST: the body as sent. */
  body?: Record<string, unknown>;
}

export interface ItemCollectionResponse {
  type: 'FeatureCollection';
  features: Array<Record<string, unknown>>;
  links: StacLink[];
  numberReturned: number;
  numberMatched: number;
  numberMatchedEstimated: boolean;
}

/** Landing page child links are capped; /collections lists everything with paging. */
const MAX_CHILD_LINKS = 1000;

const DEFAULT_SEARCH_SORT: SortSpec[] = [
  { field: 'datetime', direction: 'desc' },
  { field: 'id', direction: 'desc' },
];
/** Within a collection, items come in their sequence order. */
const DEFAULT_COLLECTION_ITEMS_SORT: SortSpec[] = [
  { field: 'sightline:rank', direction: 'asc' },
  { field: 'datetime', direction: 'asc' },
  { field: 'id', direction: 'asc' },
];
/**
 * Newest collections first; those created together (the sequences one upload set is cut into share
 * their creation time) in the order of their first capture, then by title.
 */
const DEFAULT_COLLECTIONS_SORT: SortSpec[] = [
  { field: 'created', direction: 'desc' },
  { field: 'start_datetime', direction: 'asc' },
  { field: 'title', direction: 'asc' },
  { field: 'id', direction: 'asc' },
];

const KIND_QUERYABLE = 'sightline:kind';

/** A CQL2 filter as the catalog's search takes it: compiled against `queryables` when the query is built (400 on a bad field). */
function compiledFilter(filter: Cql2Node | undefined, queryables: ReadonlyMap<string, Queryable>): SqlCondition | undefined {
  if (filter === undefined) return undefined;
  return (params) => {
    try {
      return compileCql2(filter, (name) => queryables.get(name), params);
    } catch (e) {
      if (e instanceof Cql2Error) throw new BadRequestException({ message: e.message, details: { parameter: 'filter' } });
      throw e;
    }
  };
}

@Injectable()
export class StacService {
  private readonly links: StacLinks;
  private readonly cursors: CursorCodec;

  constructor(
    config: AppConfig,
    private readonly repository: CatalogSearchService,
    private readonly catalog: CatalogService,
  ) {
    this.links = new StacLinks(config.PUBLIC_URL);
    this.cursors = new CursorCodec(secretKey(config));
  }

  // ---- landing page, conformance, queryables -------------------------------------------

  async landingPage(user: AuthUser | undefined) {
    const api = this.links.api;
    const children = await this.repository.childCollections(user, MAX_CHILD_LINKS);
    const links: StacLink[] = [
      { rel: 'self', href: this.links.root, type: JSON_TYPE, title: 'This document' },
      this.links.rootLink(),
      { rel: 'service-desc', href: `${api}/docs/openapi.json`, type: OPENAPI_MEDIA_TYPE, title: 'OpenAPI description' },
      { rel: 'service-doc', href: `${api}/docs`, type: 'text/html', title: 'API documentation (Swagger UI)' },
      { rel: 'conformance', href: `${api}/conformance`, type: JSON_TYPE, title: 'Conformance classes' },
      { rel: 'data', href: `${api}/collections`, type: JSON_TYPE, title: 'Collections' },
      { rel: 'search', href: `${api}/search`, type: GEOJSON_TYPE, method: 'GET', title: 'Item search' },
      { rel: 'search', href: `${api}/search`, type: GEOJSON_TYPE, method: 'POST', title: 'Item search' },
      { rel: QUERYABLES_REL, href: `${api}/queryables`, type: SCHEMA_TYPE, title: 'Queryables of item search' },
      ...children.map((c) => ({ rel: 'child', href: this.links.collection(c.id), type: JSON_TYPE, title: c.title })),
    ];
    return {
      type: 'Catalog' as const,
      stac_version: STAC_VERSION,
      id: 'sightline',
      title: 'Sightline',
      description: 'Geotagged pictures, sequences, raster datasets and harvested catalogs, published as STAC.',
      conformsTo: [...CONFORMANCE_CLASSES],
      links,
    };
  }

  conformance() {
    return { conformsTo: [...CONFORMANCE_CLASSES] };
  }

  /** `kinds`: the values of `sightline:kind`, as the catalog's sources declare them. */
  private queryablesDocument(id: string, title: string, queryables: ReadonlyMap<string, Queryable>, kinds: string[]) {
    return {
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      $id: id,
      type: 'object' as const,
      title,
      properties: Object.fromEntries([...queryables.values()].map((q) => [q.name, q.name === KIND_QUERYABLE && kinds.length ? { ...q.schema, enum: kinds } : q.schema])),
      additionalProperties: false,
    };
  }

  /** The queryables of what the caller may see: a field only private items carry stays unlisted for others. */
  async itemQueryables(user: AuthUser | undefined) {
    const present = await this.repository.presentPropertyKeys(optionalQueryableKeys(ITEM_QUERYABLES), null, user);
    return this.queryablesDocument(`${this.links.api}/queryables`, 'Queryables of item search', offeredQueryables(ITEM_QUERYABLES, present), this.catalog.itemKinds());
  }

  async collectionQueryables(collectionId: string, user: AuthUser | undefined) {
    const collection = await this.repository.findCollection(collectionId, user);
    if (!collection) throw new NotFoundException(`Collection ${collectionId} not found`);
    const all = itemQueryablesWithSummaries([collection.summaries]);
    const present = await this.repository.presentPropertyKeys(optionalQueryableKeys(all), [collectionId], user);
    return this.queryablesDocument(
      `${this.links.collection(collectionId)}/queryables`,
      `Queryables of the items of ${collection.title}`,
      offeredQueryables(all, present),
      this.catalog.itemKinds(),
    );
  }

  collectionSearchQueryables() {
    return this.queryablesDocument(`${this.links.api}/collections-queryables`, 'Queryables of collection search', COLLECTION_QUERYABLES, this.catalog.collectionKinds());
  }

  // ---- collections ---------------------------------------------------------------------

  async getCollection(id: string, user: AuthUser | undefined) {
    const row = await this.repository.findCollection(id, user);
    if (!row) throw new NotFoundException(`Collection ${id} not found`);
    return toStacCollection(row, this.links);
  }

  async searchCollections(req: SearchRequest, user: AuthUser | undefined, info: RequestInfo) {
    const sort = this.resolveSort(req.sortby ?? DEFAULT_COLLECTIONS_SORT, COLLECTION_QUERYABLES);
    const filter: CollectionFilter = { bbox: req.bbox, datetime: req.datetime, filter: compiledFilter(req.filter, COLLECTION_QUERYABLES), q: req.q };
    const print = fingerprint({ t: 'collections', bbox: req.bbox, datetime: req.datetime, filter: req.filter, q: req.q, sort: req.sortby ?? null });
    const cursor = this.readCursor(req.token, print, sort.length);
    const page = await this.repository.searchCollections(
      filter,
      sort,
      { limit: req.limit, cursor: cursor && { direction: cursor.d, values: cursor.k } },
      user,
      this.carried(cursor),
    );
    const count = page.count;
    const collections = page.rows.map((row) => {
      const c = toStacCollection(row, this.links);
      return req.fields ? applyFields(c, req.fields, DEFAULT_COLLECTION_FIELDS) : c;
    });
    const links: StacLink[] = [
      { rel: 'self', href: info.url.toString(), type: JSON_TYPE },
      this.links.rootLink(),
      { rel: 'parent', href: this.links.root, type: JSON_TYPE },
      { rel: QUERYABLES_REL, href: `${this.links.api}/collections-queryables`, type: SCHEMA_TYPE, title: 'Queryables of collection search' },
      ...this.pagingLinks(page.rows, page.hasMore, cursor, print, count, info, JSON_TYPE),
    ];
    return { collections, links, numberReturned: collections.length, numberMatched: count.count, numberMatchedEstimated: count.estimated };
  }

  // ---- items ---------------------------------------------------------------------------

  async getItem(collectionId: string, itemId: string, user: AuthUser | undefined): Promise<StacItem> {
    const row = await this.repository.findItem(collectionId, itemId, user);
    if (!row) throw new NotFoundException(`Item ${itemId} not found in collection ${collectionId}`);
    return toStacItem(row, this.links);
  }

  /** GET /collections/{id}/items: a search restricted to one collection, in sequence order by default. */
  async collectionItems(collectionId: string, req: SearchRequest, user: AuthUser | undefined, info: RequestInfo): Promise<ItemCollectionResponse> {
    const collection = await this.repository.findCollection(collectionId, user);
    if (!collection) throw new NotFoundException(`Collection ${collectionId} not found`);
    const queryables = itemQueryablesWithSummaries([collection.summaries]);
    const response = await this.runItemSearch({ ...req, collections: [collectionId] }, queryables, DEFAULT_COLLECTION_ITEMS_SORT, user, info);
    response.links.push(
      { rel: 'collection', href: this.links.collection(collectionId), type: JSON_TYPE },
      { rel: 'parent', href: this.links.collection(collectionId), type: JSON_TYPE },
    );
    return response;
  }

  /** GET and POST /search. */
  async search(req: SearchRequest, user: AuthUser | undefined, info: RequestInfo): Promise<ItemCollectionResponse> {
    let queryables: ReadonlyMap<string, Queryable> = ITEM_QUERYABLES;
    // Properties described by the summaries of the searched collections are queryable too.
    if ((req.filter !== undefined || req.sortby) && req.collections?.length) {
      queryables = itemQueryablesWithSummaries(await this.repository.collectionSummaries(req.collections, user));
    }
    return this.runItemSearch(req, queryables, DEFAULT_SEARCH_SORT, user, info);
  }

  private async runItemSearch(
    req: SearchRequest,
    queryables: ReadonlyMap<string, Queryable>,
    defaultSort: SortSpec[],
    user: AuthUser | undefined,
    info: RequestInfo,
  ): Promise<ItemCollectionResponse> {
    const sort = this.resolveSort(req.sortby ?? defaultSort, queryables);
    if (req.intersects) await this.repository.checkSearchArea(req.intersects);
    const filter: ItemFilter = {
      collectionIds: req.collections,
      ids: req.ids,
      bbox: req.bbox,
      intersects: req.intersects,
      datetime: req.datetime,
      filter: compiledFilter(req.filter, queryables),
      q: req.q,
    };
    const print = fingerprint({
      t: 'items',
      collections: req.collections ?? null,
      ids: req.ids ?? null,
      bbox: req.bbox ?? null,
      intersects: req.intersects ?? null,
      datetime: req.datetime ?? null,
      filter: req.filter ?? null,
      q: req.q ?? null,
      sort: req.sortby ?? defaultSort,
    });
    const cursor = this.readCursor(req.token, print, sort.length);
    const page = await this.repository.searchItems(filter, sort, { limit: req.limit, cursor: cursor && { direction: cursor.d, values: cursor.k } }, user, this.carried(cursor));
    const count = page.count;
    const features = page.rows.map((row) => {
      const item = toStacItem(row, this.links);
      return req.fields ? applyItemFields(item, req.fields) : item;
    });
    const links: StacLink[] = [
      { rel: 'self', href: info.url.toString(), type: GEOJSON_TYPE, ...(info.method === 'POST' ? { method: 'POST' as const, body: info.body } : {}) },
      this.links.rootLink(),
      ...this.pagingLinks(page.rows, page.hasMore, cursor, print, count, info, GEOJSON_TYPE),
    ];
    return { type: 'FeatureCollection', features, links, numberReturned: features.length, numberMatched: count.count, numberMatchedEstimated: count.estimated };
  }

  // ---- sorting and paging --------------------------------------------------------------

  /** numberMatched as counted with the first page, carried by the cursor to the next ones. */
  private carried(cursor: CursorPayload | undefined): MatchCount | undefined {
    return cursor ? { count: cursor.m ?? 0, estimated: !!cursor.e } : undefined;
  }

  private resolveSort(specs: SortSpec[], queryables: ReadonlyMap<string, Queryable>): ResolvedSort[] {
    const seen = new Set<string>();
    const resolved: ResolvedSort[] = [];
    for (const spec of specs) {
      const name = normalizeQueryableName(spec.field);
      const q = queryables.get(name);
      if (!q) throw badRequest('sortby', `unknown field '${spec.field}'; sortable: ${this.sortable(queryables).join(', ')}`);
      if (!q.sort) throw badRequest('sortby', `'${spec.field}' cannot be sorted on; sortable: ${this.sortable(queryables).join(', ')}`);
      if (seen.has(name)) continue;
      seen.add(name);
      resolved.push({ key: q.sort, direction: spec.direction });
    }
    // The identifier breaks ties, so that the order (and thus paging) is total.
    if (!seen.has('id')) resolved.push({ key: queryables.get('id')!.sort!, direction: resolved[resolved.length - 1]?.direction ?? 'asc' });
    return resolved;
  }

  private sortable(queryables: ReadonlyMap<string, Queryable>): string[] {
    return [...queryables.values()].filter((q) => q.sort).map((q) => q.name);
  }

  private readCursor(token: string | undefined, print: string, keys: number): CursorPayload | undefined {
    if (token === undefined || token === '') return undefined;
    try {
      const cursor = this.cursors.decode(token, print);
      if (cursor.k.length !== keys) throw new CursorError('token belongs to another search');
      return cursor;
    } catch (e) {
      if (e instanceof CursorError) throw new BadRequestException({ message: `token: ${e.message}`, details: { parameter: 'token' } });
      throw e;
    }
  }

  private pagingLinks(
    rows: Array<{ keys: Array<string | null> }>,
    hasMore: boolean,
    cursor: CursorPayload | undefined,
    print: string,
    count: MatchCount,
    info: RequestInfo,
    type: string,
  ): StacLink[] {
    if (rows.length === 0) return [];
    // Reading forward, more rows means a next page; a cursor means we came from a previous one. Backwards, the reverse.
    const backwards = cursor?.d === 'p';
    const hasNext = backwards ? true : hasMore;
    const hasPrev = backwards ? hasMore : !!cursor;
    const links: StacLink[] = [];
    const make = (rel: 'next' | 'prev', keys: Array<string | null>) => {
      const token = this.cursors.encode({ d: rel === 'next' ? 'n' : 'p', k: keys, h: print, m: count.count, e: count.estimated || undefined });
      if (info.method === 'POST') {
        links.push({ rel, href: info.url.toString(), type, method: 'POST', body: { ...(info.body ?? {}), token }, merge: false });
      } else {
        const url = new URL(info.url);
        url.searchParams.set('token', token);
        links.push({ rel, href: url.toString(), type, method: 'GET' });
      }
    };
    if (hasNext) make('next', rows[rows.length - 1].keys);
    if (hasPrev) make('prev', rows[0].keys);
    return links;
  }
}
