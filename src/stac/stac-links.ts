/** Absolute links of the STAC API, all on PUBLIC_URL. */

export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
  method?: 'GET' | 'POST';
  body?: Record<string, unknown>;
  merge?: boolean;
}

export const JSON_TYPE = 'application/json';
export const GEOJSON_TYPE = 'application/geo+json';
export const SCHEMA_TYPE = 'application/schema+json';

export class StacLinks {
  /** `${PUBLIC_URL}/api`, without a trailing slash. */
  readonly api: string;

  constructor(publicUrl: string) {
    this.api = `${publicUrl.replace(/\/+$/, '')}/api`;
  }

  /** The landing page (the API root). */
  get root(): string {
    return `${this.api}/`;
  }

  collection(id: string): string {
    return `${this.api}/collections/${encodeURIComponent(id)}`;
  }

  items(collectionId: string): string {
    return `${this.collection(collectionId)}/items`;
  }

  item(collectionId: string, itemId: string): string {
    return `${this.items(collectionId)}/${encodeURIComponent(itemId)}`;
  }

  rootLink(): StacLink {
    return { rel: 'root', href: this.root, type: JSON_TYPE, title: 'Sightline STAC API' };
  }

  /** An asset href as served: absolute hrefs (harvested items) stay, relative ones hang off /api/. */
  assetHref(href: unknown): unknown {
    if (typeof href !== 'string') return href;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return href;
    return `${this.api}/${href.replace(/^\/+/, '')}`;
  }
}

/** License link: SPDX identifiers point to their SPDX page; `other`/`proprietary` to a stored URL. */
export function licenseLink(license: string, url?: unknown): StacLink | undefined {
  if (typeof url === 'string' && /^https?:\/\//.test(url)) return { rel: 'license', href: url, title: `License: ${license}` };
  if (license && license !== 'other' && license !== 'proprietary' && license !== 'various') {
    return { rel: 'license', href: `https://spdx.org/licenses/${encodeURIComponent(license)}.html`, type: 'text/html', title: `License: ${license}` };
  }
  return undefined;
}

/** RFC 3339 from `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC), without trailing zero fractions. */
export function utcText(value: string | null): string | null {
  if (value === null) return null;
  const [main, fraction = ''] = value.split('.');
  const f = fraction.replace(/0+$/, '');
  return `${main}${f ? `.${f}` : ''}Z`;
}
