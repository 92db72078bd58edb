import type { Listed, RemoteLink } from '../../harvester-type.js';
import { absoluteHref } from '../common/absolute-href.js';
import { checkedGeometry } from '../common/geometry-check.js';

/** Links the local catalog replaces with its own. */
const STRUCTURAL_RELS = new Set(['self', 'root', 'parent', 'collection', 'item', 'items', 'child']);

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function dateProblem(properties: Record<string, unknown>): string | null {
  const valid = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  const { datetime, start_datetime: start, end_datetime: end } = properties;
  if (datetime !== null && datetime !== undefined) return valid(datetime) ? null : `properties.datetime ${JSON.stringify(datetime)} is not a date-time`;
  if (start === undefined || end === undefined) return 'properties.datetime is null (or absent) and start_datetime / end_datetime are not both given';
  if (!valid(start) || !valid(end)) return 'properties.start_datetime / end_datetime are not date-times';
  return null;
}

/**
 * A STAC item read from a static catalog as a remote record: its properties and extensions kept,
 * asset and link hrefs made absolute against the item file's address, structural links left out.
 * What is not a valid item (no id, bad geometry, no datetime) is a failure.
 */
export function stacItemRecord(doc: unknown, url: string, lastModified: string | null): Listed {
  if (!isObject(doc)) return { failure: { remoteId: url, error: `${url} is not a JSON object`, stage: 'parse' } };
  const id = typeof doc.id === 'string' && doc.id.trim() ? doc.id : null;
  if (!id) return { failure: { remoteId: url, error: 'the item has no id', stage: 'map' } };
  const fail = (error: string): Listed => ({ failure: { remoteId: id, error, stage: 'map' } });
  if (doc.type !== 'Feature') return fail(`not a STAC item: type is ${JSON.stringify(doc.type)}, not "Feature"`);
  if (!isObject(doc.properties)) return fail('the item has no properties object');
  let geometry = null;
  if (doc.geometry !== null) {
    const checked = checkedGeometry(doc.geometry);
    if ('error' in checked) return fail(`invalid geometry: ${checked.error}`);
    geometry = checked.geometry;
  }
  const problem = dateProblem(doc.properties);
  if (problem) return fail(problem);

  const assets: Record<string, Record<string, unknown>> = {};
  if (doc.assets !== undefined && !isObject(doc.assets)) return fail('assets is not an object');
  for (const [key, raw] of Object.entries((doc.assets as Record<string, unknown> | undefined) ?? {})) {
    if (!isObject(raw)) return fail(`asset ${key} is not an object`);
    const href = absoluteHref(raw.href, url);
    if (!href) return fail(`asset ${key} has no usable href`);
    assets[key] = { ...raw, href };
  }
  const links: RemoteLink[] = [];
  for (const raw of Array.isArray(doc.links) ? doc.links : []) {
    if (!isObject(raw) || typeof raw.rel !== 'string' || STRUCTURAL_RELS.has(raw.rel)) continue;
    const href = absoluteHref(raw.href, url);
    if (!href) continue;
    links.push({
      rel: raw.rel,
      href,
      ...(typeof raw.type === 'string' ? { type: raw.type } : {}),
      ...(typeof raw.title === 'string' ? { title: raw.title } : {}),
    });
  }
  const extensions = Array.isArray(doc.stac_extensions) ? doc.stac_extensions.filter((e): e is string => typeof e === 'string') : [];
  const updated = typeof doc.properties.updated === 'string' ? doc.properties.updated : null;
  const modified = lastModified && !Number.isNaN(Date.parse(lastModified)) ? new Date(lastModified).toISOString() : null;
  return {
    record: {
      remoteId: id,
      remoteUrl: url,
      remoteUpdated: updated ?? modified,
      geometry,
      properties: { ...doc.properties },
      assets,
      links,
      ...(extensions.length ? { stac_extensions: extensions } : {}),
    },
  };
}
