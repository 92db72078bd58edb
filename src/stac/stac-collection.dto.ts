import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { QUERYABLES_REL, STAC_VERSION } from './conformance.js';
import type { CollectionRow } from '../catalog/catalog-search.service.js';
import { collectionExtensions } from './stac-extensions.js';
import { StacLinkDto } from './stac-item.dto.js';
import { GEOJSON_TYPE, JSON_TYPE, licenseLink, SCHEMA_TYPE, type StacLink, StacLinks, utcText } from './stac-links.js';

export class StacExtentDto {
  @ApiProperty({ type: 'object', additionalProperties: true, example: { bbox: [[2.29, 48.85, 2.35, 48.87]] } }) spatial: { bbox: number[][] };
  @ApiProperty({ type: 'object', additionalProperties: true, example: { interval: [['2021-06-01T10:00:00Z', '2021-06-01T10:12:00Z']] } })
  temporal: { interval: Array<Array<string | null>> };
}

/** A STAC Collection. */
export class StacCollectionDto {
  @ApiProperty({ example: 'Collection' }) type: 'Collection';
  @ApiProperty({ example: STAC_VERSION }) stac_version: string;
  @ApiProperty({ type: [String] }) stac_extensions: string[];
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) keywords: string[];
  @ApiProperty({ example: 'CC-BY-SA-4.0', description: 'SPDX identifier, or `other` / `proprietary` (then see the `license` link)' }) license: string;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) providers: unknown[];
  @ApiProperty({ type: StacExtentDto }) extent: StacExtentDto;
  @ApiProperty({ type: 'object', additionalProperties: true }) summaries: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Collection assets; sequences have a `thumbnail` (their first picture)' })
  assets?: Record<string, Record<string, unknown>>;
  @ApiProperty({ example: 'sequence', enum: ['sequence', 'dataset', 'harvested'] }) 'sightline:kind': string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { count: 42 }, description: 'Number of published items' }) 'stats:items': { count: number };
  @ApiProperty({ type: [StacLinkDto] }) links: StacLinkDto[];
}

export type StacCollection = StacCollectionDto & Record<string, unknown>;

/** Fields of `collection.properties` with a meaning of their own in the STAC document. */
const HANDLED = new Set(['stac_extensions', 'license_url', 'assets', 'item_assets', 'links']);

/** Renders a collection row as a STAC Collection. */
export function toStacCollection(row: CollectionRow, links: StacLinks): StacCollection {
  const props = row.properties ?? {};
  // Prefixed fields (e.g. `sci:doi` of a harvested collection) stay top-level; the domain's own fields get our prefix.
  const topLevel: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (HANDLED.has(key)) continue;
    topLevel[key.includes(':') ? key : `sightline:${key}`] = value;
  }
  const ext = collectionExtensions({ ...(row.summaries ?? {}) }, props.stac_extensions);

  const assets: Record<string, Record<string, unknown>> = {};
  if (props.assets && typeof props.assets === 'object') {
    for (const [key, a] of Object.entries(props.assets as Record<string, Record<string, unknown>>)) {
      if (a && typeof a === 'object') assets[key] = { ...a, href: links.assetHref(a.href) };
    }
  }
  if (row.thumbnail && typeof row.thumbnail === 'object' && typeof row.thumbnail.href === 'string') {
    assets.thumbnail = { type: 'image/jpeg', title: 'Thumbnail of the first picture', ...row.thumbnail, href: links.assetHref(row.thumbnail.href), roles: ['thumbnail'] };
  }

  const collectionLinks: StacLink[] = [
    { rel: 'self', href: links.collection(row.id), type: JSON_TYPE, title: row.title },
    { ...links.rootLink(), rel: 'parent' },
    links.rootLink(),
    { rel: 'items', href: links.items(row.id), type: GEOJSON_TYPE, title: 'Items of this collection' },
    { rel: QUERYABLES_REL, href: `${links.collection(row.id)}/queryables`, type: SCHEMA_TYPE, title: 'Queryables of this collection' },
  ];
  const license = licenseLink(row.license, props.license_url);
  if (license) collectionLinks.push(license);

  const bbox = row.bbox ? row.bbox.map((v) => Math.round(Number(v) * 1e9) / 1e9) : [-180, -90, 180, 90];
  const start = utcText(row.datetime_start);
  const end = utcText(row.datetime_end);
  const collection: StacCollection = {
    ...topLevel,
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: ext.stacExtensions,
    id: row.id,
    title: row.title,
    description: row.description?.trim() ? row.description : row.title,
    keywords: row.keywords ?? [],
    license: row.license,
    providers: row.providers ?? [],
    extent: { spatial: { bbox: [bbox] }, temporal: { interval: [[start, end ?? (start ? null : utcText(row.created))]] } },
    summaries: ext.summaries,
    'sightline:kind': row.kind,
    'stats:items': { count: Number(row.item_count) },
    created: utcText(row.created),
    updated: utcText(row.updated),
    links: collectionLinks,
  };
  if (props.item_assets && typeof props.item_assets === 'object') collection.item_assets = props.item_assets;
  if (Object.keys(assets).length) collection.assets = assets;
  return collection;
}
