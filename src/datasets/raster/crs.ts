import { createRequire } from 'node:module';
import { toProj4 } from 'geotiff-geokeys-to-proj4';
import proj4 from 'proj4';

/** The EPSG registry's definitions as Proj4 strings (datum shifts as `+towgs84` / `+datum`), by `EPSG:<n>`. */
const REGISTRY = createRequire(import.meta.url)('proj4-list') as Record<string, [string, string]>;

/**
 * NAD27 to WGS 84 without NADCON grids: the EPSG's three-parameter transformation for the
 * conterminous United States (EPSG:1173, accurate to about 10 m). PROJ with its grids is closer.
 */
const NAD27_SHIFT = '+ellps=clrk66 +towgs84=-8,160,176,0,0,0,0';

/**
 * The registry's definition of an EPSG code, made to take coordinates in metres (or degrees) like
 * the GeoKeys conversion (its unit scale is applied before): units and axis order dropped, and
 * datums proj4 could only shift with grid files given their published parameters.
 */
export function registryDefinition(epsg: number, geographic: boolean): string | null {
  const entry = REGISTRY[`EPSG:${epsg}`];
  if (!entry) return null;
  const tokens = entry[1]
    .split(/\s+/)
    .filter((t) => t && !/^\+(axis|units|to_meter|wktext|type)=?/.test(t))
    .map((t) => (t === '+datum=NAD27' ? NAD27_SHIFT : t));
  if (!geographic) tokens.push('+units=m');
  return tokens.join(' ');
}

/** A raster's coordinate reference system, as stored with the dataset. */
export interface CrsInfo {
  /** `EPSG:<n>` when the file names an EPSG code, null for a user-defined CRS. */
  code: string | null;
  /** Proj4 definition (axis order east, north), or the WKT 1 of a CRS stored as an ESRI PE string. */
  proj4: string;
  geographic: boolean;
  /** Multiply file coordinates by these to get the units proj4 expects (metres or degrees). */
  unitScale: [number, number];
  /** Human-readable name from the file (GTCitationGeoKey), when present. */
  name: string | null;
}

const USER_DEFINED = 32767;

function epsgFrom(geoKeys: Record<string, unknown>): number | null {
  const model = geoKeys.GTModelTypeGeoKey;
  const projected = geoKeys.ProjectedCSTypeGeoKey;
  const geographic = geoKeys.GeographicTypeGeoKey;
  const valid = (v: unknown): v is number => typeof v === 'number' && v > 0 && v < USER_DEFINED;
  if (model === 1 && valid(projected)) return projected;
  if (model === 2 && valid(geographic)) return geographic;
  if (valid(projected)) return projected;
  if (model !== 1 && valid(geographic)) return geographic;
  return null;
}

/**
 * The CRS of a GeoTIFF from its GeoKeys, or null with the reason when there is none or it
 * cannot be used. GeoTIFF model coordinates are always (east, north), so any axis-order
 * parameter is dropped from the Proj4 definition.
 */
export function crsFromGeoKeys(geoKeys: Record<string, unknown> | null): { crs: CrsInfo | null; problem?: string } {
  if (!geoKeys || Object.keys(geoKeys).length === 0) return { crs: null, problem: 'the file has no GeoKeys (no coordinate reference system)' };
  if (geoKeys.GTModelTypeGeoKey === 3) return { crs: null, problem: 'geocentric coordinate systems are not supported' };
  const epsg = epsgFrom(geoKeys);
  const esri = epsg ? null : esriPeString(geoKeys);
  if (esri) return crsFromWkt(esri, geoKeys);
  let converted;
  try {
    converted = toProj4(geoKeys as never);
  } catch (error) {
    return { crs: null, problem: `the GeoKeys cannot be read: ${(error as Error).message}` };
  }
  const errors = Object.entries(converted.errors ?? {});
  // An EPSG code is read as the EPSG registry defines it (its datum shift included): the GeoKeys
  // conversion loses parameters of some projections (the latitude of origin of polar stereographic
  // CRSs) and every datum shift. A CRS defined only by its GeoKeys is converted from them.
  const fromRegistry = epsg ? registryDefinition(epsg, converted.isGCS === true || geoKeys.GTModelTypeGeoKey === 2) : null;
  const definition =
    fromRegistry ??
    (converted.proj4 ?? '')
      .split(/\s+/)
      .filter((token) => token && !token.startsWith('+axis='))
      .join(' ');
  if (!fromRegistry && (!definition || errors.some(([key]) => key === 'CRSNotSupported' || key === 'coordinateTransformationNotSupported' || key === 'conversionNotSupported'))) {
    const detail = errors.map(([k, v]) => `${k}=${String(v)}`).join(', ');
    return { crs: null, problem: `the coordinate reference system is not supported${epsg ? ` (EPSG:${epsg})` : ''}${detail ? `: ${detail}` : ''}` };
  }
  try {
    proj4(definition, 'EPSG:4326').forward([0, 0]);
  } catch (error) {
    return { crs: null, problem: `the coordinate reference system cannot be used: ${(error as Error).message}` };
  }
  const scale = converted.coordinatesConversionParameters ?? { x: 1, y: 1 };
  const citation = typeof geoKeys.GTCitationGeoKey === 'string' ? geoKeys.GTCitationGeoKey : typeof geoKeys.GeogCitationGeoKey === 'string' ? geoKeys.GeogCitationGeoKey : null;
  return {
    crs: {
      code: epsg ? `EPSG:${epsg}` : null,
      proj4: definition,
      geographic: fromRegistry ? /\+proj=longlat\b/.test(fromRegistry) : converted.isGCS === true,
      unitScale: [scale.x || 1, scale.y || 1],
      name: citation ? citation.replace(/\|+$/, '').trim() || null : null,
    },
  };
}

/**
 * The WKT of a CRS stored only as an ESRI PE string (ArcGIS and GDAL write non-EPSG CRSs so:
 * user-defined GeoKeys and a citation `ESRI PE String = PROJCS[…]`), or null.
 */
function esriPeString(geoKeys: Record<string, unknown>): string | null {
  for (const key of ['PCSCitationGeoKey', 'GTCitationGeoKey', 'GeogCitationGeoKey']) {
    const value = geoKeys[key];
    if (typeof value !== 'string') continue;
    const m = /ESRI PE String = ((?:PROJCS|GEOGCS)\[.*\])/s.exec(value);
    if (m) return m[1]!;
  }
  return null;
}

/** A CRS from WKT (proj4 reads ESRI's WKT 1, units included: no scale to apply). */
function crsFromWkt(wkt: string, geoKeys: Record<string, unknown>): { crs: CrsInfo | null; problem?: string } {
  try {
    proj4(wkt, 'EPSG:4326').forward([0, 0]);
  } catch (error) {
    return { crs: null, problem: `the coordinate reference system (an ESRI PE string) cannot be used: ${(error as Error).message}` };
  }
  const name = /^(?:PROJCS|GEOGCS)\["([^"]*)"/.exec(wkt)?.[1] ?? (typeof geoKeys.GTCitationGeoKey === 'string' ? geoKeys.GTCitationGeoKey : null);
  return { crs: { code: null, proj4: wkt, geographic: wkt.startsWith('GEOGCS'), unitScale: [1, 1], name: name?.trim() || null } };
}

/** Converts between a raster's CRS (file units) and WGS 84 longitude/latitude. */
export interface CrsTransformer {
  toLonLat(x: number, y: number): [number, number];
  fromLonLat(lon: number, lat: number): [number, number];
}

const R = 6378137;
const D2R = Math.PI / 180;

function isWebMercator(crs: CrsInfo): boolean {
  if (crs.code === 'EPSG:3857' || crs.code === 'EPSG:900913') return true;
  const p = crs.proj4;
  return /\+proj=merc\b/.test(p) && /\+a=6378137\b/.test(p) && /\+b=6378137\b/.test(p) && !/\+lat_ts=(?!0\b)/.test(p) && !/\+lon_0=(?!0\b)/.test(p) && !/\+[xy]_0=(?!0\b)/.test(p);
}

function isWgs84LonLat(crs: CrsInfo): boolean {
  return crs.code === 'EPSG:4326' && crs.geographic;
}

export function mercatorToLonLat(x: number, y: number): [number, number] {
  return [x / R / D2R, (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) / D2R];
}

export function lonLatToMercator(lon: number, lat: number): [number, number] {
  const clamped = Math.max(-85.0511287798066, Math.min(85.0511287798066, lat));
  return [lon * D2R * R, Math.log(Math.tan(Math.PI / 4 + (clamped * D2R) / 2)) * R];
}

/**
 * How far apart (in CRS units) x repeats around the globe, for CRSs whose rasters may extend past
 * ±180° (0…360 grids, Web Mercator past the antimeridian): 360 for longitude/latitude, the
 * equator's length for Web Mercator; null for others.
 */
export function periodicWidth(crs: CrsInfo): number | null {
  if (crs.geographic && crs.unitScale[0] === 1) return 360;
  if (isWebMercator(crs) && crs.unitScale[0] === 1) return 2 * Math.PI * R;
  return null;
}

/** x moved by whole periods into [west, west + period) (see periodicWidth); unchanged when not periodic. */
export function wrapX(x: number, west: number, period: number | null): number {
  if (period === null || !Number.isFinite(x)) return x;
  return west + ((((x - west) % period) + period) % period);
}

/** A transformer for a CRS; exact formulas for WGS 84 and Web Mercator, proj4 otherwise. */
export function crsTransformer(crs: CrsInfo): CrsTransformer {
  const [sx, sy] = crs.unitScale;
  if (isWgs84LonLat(crs) && sx === 1 && sy === 1) {
    return { toLonLat: (x, y) => [x, y], fromLonLat: (lon, lat) => [lon, lat] };
  }
  if (isWebMercator(crs) && sx === 1 && sy === 1) {
    return { toLonLat: mercatorToLonLat, fromLonLat: lonLatToMercator };
  }
  const converter = proj4(crs.proj4, 'EPSG:4326');
  return {
    toLonLat: (x, y) => {
      try {
        const [lon, lat] = converter.forward([x * sx, y * sy]) as [number, number];
        return [lon, lat];
      } catch {
        return [NaN, NaN];
      }
    },
    fromLonLat: (lon, lat) => {
      try {
        const [x, y] = converter.inverse([lon, lat]) as [number, number];
        return [x / sx, y / sy];
      } catch {
        return [NaN, NaN];
      }
    },
  };
}
