import type { StoredLink } from '../catalog/catalog.types.js';
import type { Dataset } from './dataset.entity.js';
import type { RasterInfo } from './raster/raster-info.js';

/**
 * STAC extensions a dataset item uses (versions as in the schemas the project validates against).
 * Projection v1.2.0 defines both `proj:code` (what v2.0.0 keeps) and `proj:epsg` (which v2.0.0
 * forbids): GDAL's STACIT driver before 3.10 skips an item without `proj:epsg`.
 */
export const DATASET_STAC_EXTENSIONS = {
  projection: 'https://stac-extensions.github.io/projection/v1.2.0/schema.json',
  raster: 'https://stac-extensions.github.io/raster/v1.1.0/schema.json',
  file: 'https://stac-extensions.github.io/file/v2.1.0/schema.json',
  webMapLinks: 'https://stac-extensions.github.io/web-map-links/v1.2.0/schema.json',
} as const;

/** Relative paths (from the API root) of what the datasets module serves for a dataset. */
export const datasetPaths = (id: string) => ({
  self: `datasets/${id}`,
  data: `datasets/${id}/data.tif`,
  thumbnail: `datasets/${id}/thumbnail.png`,
  tiles: `datasets/${id}/tiles/{z}/{x}/{y}.png`,
  extent: `datasets/${id}/extent.geojson`,
});

/** STAC multihash of a SHA-256 (code 0x12, length 0x20). */
export function multihashSha256(hex: string): string {
  return `1220${hex}`;
}

export function geotiffMediaType(isCog: boolean): string {
  return `image/tiff; application=geotiff${isCog ? '; profile=cloud-optimized' : ''}`;
}

/**
 * The STAC fields of a ready dataset's item: its properties, its links (relative hrefs, made
 * absolute on the API root) and the extensions it uses. The item's `datetime` is the file's
 * acquisition time, else its registration time (see itemDatetime).
 */
export function datasetItemStac(
  dataset: Pick<Dataset, 'id' | 'title' | 'description'>,
  info: RasterInfo,
): { properties: Record<string, unknown>; links: StoredLink[]; extensions: string[] } {
  const paths = datasetPaths(dataset.id);
  const properties: Record<string, unknown> = { title: dataset.title };
  if (dataset.description) properties.description = dataset.description;
  if (info.startDatetime && info.endDatetime) {
    properties.start_datetime = info.startDatetime;
    properties.end_datetime = info.endDatetime;
  }
  // Whether `datetime` is the acquisition time the file gives, or only when it was registered.
  properties['sightline:datetime_source'] = info.datetime ? 'file' : 'registration';
  const extensions: string[] = [DATASET_STAC_EXTENSIONS.raster, DATASET_STAC_EXTENSIONS.file];
  if (info.transform) {
    extensions.unshift(DATASET_STAC_EXTENSIONS.projection);
    const code = info.crs?.code ?? null;
    properties['proj:code'] = code;
    const epsg = code?.match(/^EPSG:(\d+)$/);
    if (epsg) properties['proj:epsg'] = Number(epsg[1]);
    if (info.nativeBounds) properties['proj:bbox'] = info.nativeBounds;
    properties['proj:shape'] = [info.height, info.width];
    properties['proj:transform'] = info.transform;
  }
  if (info.resolutionMeters) properties.gsd = info.resolutionMeters;
  const links: StoredLink[] = [];
  if (info.footprint) {
    extensions.push(DATASET_STAC_EXTENSIONS.webMapLinks);
    links.push({ rel: 'xyz', href: paths.tiles, type: 'image/png', title: `${dataset.title} (XYZ tiles)` });
  }
  return { properties, links, extensions };
}

/** The item's datetime: when the raster was acquired (the start of its interval), else when it was registered. */
export function itemDatetime(dataset: Pick<Dataset, 'createdAt'>, info: RasterInfo): Date {
  const acquired = info.datetime ?? info.startDatetime;
  return acquired ? new Date(acquired) : dataset.createdAt;
}

/** The item assets: the file itself (with file and raster fields) and its thumbnail. */
export function datasetItemAssets(dataset: Pick<Dataset, 'id' | 'title' | 'fileName' | 'size' | 'sha256'>, info: RasterInfo): Record<string, Record<string, unknown>> {
  const paths = datasetPaths(dataset.id);
  const data: Record<string, unknown> = {
    href: paths.data,
    type: geotiffMediaType(info.isCog),
    title: dataset.fileName,
    roles: ['data'],
  };
  if (dataset.size !== null) data['file:size'] = dataset.size;
  if (dataset.sha256) data['file:checksum'] = multihashSha256(dataset.sha256);
  data['file:byte_order'] = info.byteOrder;
  data['raster:bands'] = info.bands.map((band) => {
    const out: Record<string, unknown> = { data_type: band.dataType, sampling: info.sampling };
    if (band.bitsPerSample !== Number(band.dataType.replace(/\D/g, '')) && band.dataType !== 'other') out.bits_per_sample = band.bitsPerSample;
    if (band.nodata !== null) out.nodata = band.nodata;
    if (info.resolutionMeters) out.spatial_resolution = info.resolutionMeters;
    if (band.statistics) out.statistics = band.statistics;
    return out;
  });
  return {
    data,
    thumbnail: { href: paths.thumbnail, type: 'image/png', title: `Thumbnail of ${dataset.title}`, roles: ['thumbnail'] },
  };
}
