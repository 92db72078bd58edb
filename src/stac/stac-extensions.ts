/**
 * STAC extensions recognised from field prefixes. Each extension's schema forbids fields with
 * its prefix that it does not define, so a stray `pers:pitch` would make a whole item invalid:
 * such fields are served under the `sightline:` prefix instead (`pers:pitch` → `sightline:pitch`).
 */

interface ExtensionDef {
  prefix: string;
  /** Schema URL, possibly chosen by the fields present (projection v1 `proj:epsg` vs v2 `proj:code`). */
  url: (keys: Set<string>) => string;
  fields: (keys: Set<string>) => ReadonlySet<string>;
}

const fixed = (names: string[]) => {
  const set = new Set(names);
  return () => set;
};

const PROJ_COMMON = ['proj:wkt2', 'proj:projjson', 'proj:geometry', 'proj:bbox', 'proj:centroid', 'proj:shape', 'proj:transform'];
const PROJ_V1 = new Set(['proj:epsg', ...PROJ_COMMON]);
const PROJ_V2 = new Set(['proj:code', ...PROJ_COMMON]);
const PROJ_V1_2 = new Set(['proj:epsg', 'proj:code', ...PROJ_COMMON]);

const EXTENSIONS: ExtensionDef[] = [
  {
    prefix: 'view',
    url: () => 'https://stac-extensions.github.io/view/v1.0.0/schema.json',
    fields: fixed(['view:off_nadir', 'view:incidence_angle', 'view:azimuth', 'view:sun_azimuth', 'view:sun_elevation']),
  },
  {
    prefix: 'pers',
    url: () => 'https://stac-extensions.github.io/perspective-imagery/v1.0.0/schema.json',
    fields: fixed(['pers:perspective_center', 'pers:crs', 'pers:vertical_crs', 'pers:rotation_matrix', 'pers:omega', 'pers:phi', 'pers:kappa', 'pers:interior_orientation']),
  },
  {
    prefix: 'proj',
    // Both fields: v1.2.0, the version that defines both (GDAL's STACIT before 3.10 reads only proj:epsg).
    url: (keys) =>
      !keys.has('proj:epsg')
        ? 'https://stac-extensions.github.io/projection/v2.0.0/schema.json'
        : keys.has('proj:code')
          ? 'https://stac-extensions.github.io/projection/v1.2.0/schema.json'
          : 'https://stac-extensions.github.io/projection/v1.1.0/schema.json',
    fields: (keys) => (!keys.has('proj:epsg') ? PROJ_V2 : keys.has('proj:code') ? PROJ_V1_2 : PROJ_V1),
  },
  { prefix: 'raster', url: () => 'https://stac-extensions.github.io/raster/v1.1.0/schema.json', fields: fixed(['raster:bands']) },
  {
    prefix: 'file',
    url: () => 'https://stac-extensions.github.io/file/v2.1.0/schema.json',
    fields: fixed(['file:byte_order', 'file:checksum', 'file:header_size', 'file:size', 'file:values', 'file:local_path']),
  },
  { prefix: 'eo', url: () => 'https://stac-extensions.github.io/eo/v1.1.0/schema.json', fields: fixed(['eo:cloud_cover', 'eo:snow_cover', 'eo:bands']) },
];

const BY_PREFIX = new Map(EXTENSIONS.map((e) => [e.prefix, e]));

function prefixOf(key: string): string | undefined {
  const i = key.indexOf(':');
  return i > 0 ? key.slice(0, i) : undefined;
}

/** Schema URL without its version: extensions of one family are the same extension. */
function family(url: string): string {
  return url.replace(/\/v\d+\.\d+\.\d+(-[\w.]+)?\/schema\.json$/, '');
}

/**
 * Moves fields an extension does not define out of its prefix (mutates a copy), so the
 * object stays valid against that extension's schema.
 */
function sanitize(obj: Record<string, unknown>, keysForVersion: Set<string>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const ext = BY_PREFIX.get(prefixOf(key) ?? '');
    if (!ext || ext.fields(keysForVersion).has(key)) continue;
    out ??= { ...obj };
    const moved = `sightline:${key.slice(ext.prefix.length + 1)}`;
    if (!(moved in out)) out[moved] = out[key];
    delete out[key];
  }
  return out ?? obj;
}

export interface ExtensionResult {
  properties: Record<string, unknown>;
  assets: Record<string, Record<string, unknown>>;
  stacExtensions: string[];
}

/**
 * The `stac_extensions` of an item: from the prefixes of its properties and asset fields, plus
 * those its source declared (`declared`, and a list in its properties as a harvested record
 * may carry), which win for an extension they name.
 */
export function itemExtensions(properties: Record<string, unknown>, assets: Record<string, Record<string, unknown>>, declared: string[] = []): ExtensionResult {
  const inProperties = Array.isArray(properties.stac_extensions) ? (properties.stac_extensions as unknown[]).filter((s): s is string => typeof s === 'string') : [];
  const stored = [...new Set([...declared, ...inProperties])];
  let props = properties;
  if ('stac_extensions' in props) {
    props = { ...props };
    delete props.stac_extensions;
  }
  const allKeys = new Set<string>(Object.keys(props));
  for (const a of Object.values(assets)) if (a && typeof a === 'object') for (const k of Object.keys(a)) allKeys.add(k);
  props = sanitize(props, allKeys);
  const cleanAssets: Record<string, Record<string, unknown>> = {};
  for (const [name, a] of Object.entries(assets)) cleanAssets[name] = a && typeof a === 'object' ? sanitize(a, allKeys) : a;

  const used = new Set<string>();
  for (const k of Object.keys(props)) used.add(prefixOf(k) ?? '');
  for (const a of Object.values(cleanAssets)) if (a && typeof a === 'object') for (const k of Object.keys(a)) used.add(prefixOf(k) ?? '');

  const urls = [...stored];
  const families = new Set(stored.map(family));
  for (const ext of EXTENSIONS) {
    if (!used.has(ext.prefix)) continue;
    const url = ext.url(allKeys);
    if (!families.has(family(url))) {
      urls.push(url);
      families.add(family(url));
    }
  }
  return { properties: props, assets: cleanAssets, stacExtensions: urls };
}

/**
 * The `stac_extensions` of a collection: extensions whose defined fields appear in its
 * summaries or asset fields, plus a stored list. Summaries keys an extension does not define
 * are renamed like item fields.
 */
export function collectionExtensions(summaries: Record<string, unknown>, stored: unknown): { summaries: Record<string, unknown>; stacExtensions: string[] } {
  const keys = new Set(Object.keys(summaries));
  const clean = sanitize(summaries, keys);
  const urls = Array.isArray(stored) ? stored.filter((s): s is string => typeof s === 'string') : [];
  const families = new Set(urls.map(family));
  for (const ext of EXTENSIONS) {
    const fields = ext.fields(keys);
    if (!Object.keys(clean).some((k) => fields.has(k))) continue;
    const url = ext.url(keys);
    if (!families.has(family(url))) {
      urls.push(url);
      families.add(family(url));
    }
  }
  return { summaries: clean, stacExtensions: urls };
}
