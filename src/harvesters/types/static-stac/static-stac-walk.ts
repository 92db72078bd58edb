import type { HarvestContext } from '../../harvester-type.js';
import { RemoteError } from '../../remote-http.js';
import { absoluteHref, withoutFragment } from '../common/absolute-href.js';

/** A catalog or collection file of a static catalog, as the walk needs it. */
export interface IndexFile {
  url: string;
  kind: 'catalog' | 'collection';
  id: string;
  title: string | null;
  /** The file's JSON with only its descriptive links (a collection's description). */
  doc: Record<string, unknown>;
  /** Absolute addresses of its `child` and `item` links, in order. */
  children: string[];
  items: string[];
}

/** What a catalog or collection file's validators keep (`data`): enough to walk it after a 304. */
type IndexData = Omit<IndexFile, 'url'>;

const STRUCTURAL_RELS = new Set(['self', 'root', 'parent', 'collection', 'items', 'search']);

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function isIndexData(value: unknown): value is IndexData {
  return isObject(value) && (value.kind === 'catalog' || value.kind === 'collection') && Array.isArray(value.children) && Array.isArray(value.items) && isObject(value.doc);
}

/** A catalog or collection document read at `url`, or an error saying why it is not one. */
export function indexFile(data: unknown, url: string): IndexFile {
  if (!isObject(data)) throw new RemoteError(`${url} is not a STAC catalog or collection: not a JSON object`, url);
  const type = data.type;
  const kind =
    type === 'Collection' ? 'collection' : type === 'Catalog' ? 'catalog' : type === undefined && isObject(data.extent) ? 'collection' : type === undefined ? 'catalog' : null;
  if (!kind) throw new RemoteError(`${url} is not a STAC catalog or collection: type is ${JSON.stringify(type)}`, url);
  if (typeof data.id !== 'string' || !data.id.trim()) throw new RemoteError(`${url} is a STAC ${kind} without an id`, url);
  if (!Array.isArray(data.links)) throw new RemoteError(`${url} is a STAC ${kind} without links`, url);
  const children: string[] = [];
  const items: string[] = [];
  // Links other than the structure (license, about, describedby…) describe the collection: kept, absolute.
  const kept: Record<string, unknown>[] = [];
  for (const link of data.links) {
    if (!isObject(link) || typeof link.rel !== 'string') continue;
    const href = absoluteHref(link.href, url);
    if (!href) continue;
    if (link.rel === 'child' || link.rel === 'item') (link.rel === 'child' ? children : items).push(withoutFragment(href));
    else if (!STRUCTURAL_RELS.has(link.rel)) kept.push({ ...link, href });
  }
  const { links: _links, ...rest } = data;
  const doc = kept.length ? { ...rest, links: kept } : rest;
  return { url, kind, id: data.id, title: typeof data.title === 'string' ? data.title : null, doc, children, items };
}

/**
 * Reads a catalog or collection file; with `conditional`, a conditional GET with the validators
 * kept from the last read, whose `data` (the file's links and description) stands in for the
 * file when the remote answers 304.
 */
export async function readIndex(ctx: HarvestContext, url: string, conditional: boolean): Promise<IndexFile> {
  const stored = conditional ? await ctx.validators.get(url) : null;
  const usable = stored && isIndexData(stored.data) ? stored : null;
  let answer = await ctx.http.json(url, { signal: ctx.signal, etag: usable?.etag, lastModified: usable?.lastModified });
  if (answer.status === 304) {
    if (usable) return { url, ...(usable.data as IndexData) };
    answer = await ctx.http.json(url, { signal: ctx.signal });
  }
  const file = indexFile(answer.data, url);
  if (answer.etag || answer.lastModified) {
    const { url: _url, ...data } = file;
    await ctx.validators.set(url, { etag: answer.etag, lastModified: answer.lastModified, remoteId: file.id, data });
  }
  return file;
}

export interface WalkOptions {
  /** Deepest level of links followed below the start file (the start file is level 0). */
  maxDepth: number;
  conditional: boolean;
  /** Whether to go into a child file (its items and children); the start file is always entered. */
  enter(file: IndexFile): boolean;
  /** A child file that cannot be read: throw it (discovery) or note it and go on (harvest). */
  onError(url: string, error: unknown): Promise<void>;
}

export interface WalkState {
  /** Some file was not read (an error, the depth limit): the walk did not see everything. */
  incomplete: boolean;
  visited: Set<string>;
}

/**
 * Walks a static catalog depth-first from `start` along `child` links, each file once (loops and
 * files linked twice are not read again), at most `maxDepth` levels deep.
 */
export async function* walkIndex(ctx: HarvestContext, start: string, options: WalkOptions, state: WalkState): AsyncGenerator<IndexFile & { depth: number }> {
  const root = withoutFragment(start);
  state.visited.add(root);
  const first = await readIndex(ctx, root, options.conditional);
  yield* descend(ctx, first, 0, options, state);
}

async function* descend(ctx: HarvestContext, file: IndexFile, depth: number, options: WalkOptions, state: WalkState): AsyncGenerator<IndexFile & { depth: number }> {
  yield { ...file, depth };
  for (const child of file.children) {
    if (state.visited.has(child)) continue;
    state.visited.add(child);
    if (depth + 1 > options.maxDepth) {
      state.incomplete = true;
      await ctx.log(`${child} is deeper than max_depth ${options.maxDepth}: not read`, 'warn');
      continue;
    }
    let next: IndexFile;
    try {
      next = await readIndex(ctx, child, options.conditional);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      state.incomplete = true;
      await options.onError(child, error);
      continue;
    }
    if (options.enter(next)) yield* descend(ctx, next, depth + 1, options, state);
  }
}
