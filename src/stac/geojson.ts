import type { GeoJsonGeometry } from './cql2/cql2.types.js';

/** Why a GeoJSON geometry was refused; the message names the path of the problem. */
export class GeoJsonError extends Error {}

const GEOMETRY_TYPES = new Set(['Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'GeometryCollection']);
// Repairing a self-intersecting search area costs PostGIS about n² work (50,000 zig-zag positions: 24 s of database CPU).
const MAX_POSITIONS = 10_000;

interface Budget {
  positions: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function position(v: unknown, path: string, budget: Budget): void {
  if (!Array.isArray(v) || v.length < 2 || v.length > 3) throw new GeoJsonError(`${path} must be a position: [longitude, latitude] or [longitude, latitude, height]`);
  for (const [i, c] of v.entries()) {
    if (typeof c !== 'number' || !Number.isFinite(c)) throw new GeoJsonError(`${path}[${i}] must be a finite number`);
  }
  const [lon, lat] = v as number[];
  if (lon < -180 || lon > 180) throw new GeoJsonError(`${path}: longitude ${lon} is outside [-180, 180]`);
  if (lat < -90 || lat > 90) throw new GeoJsonError(`${path}: latitude ${lat} is outside [-90, 90]`);
  if (++budget.positions > MAX_POSITIONS) throw new GeoJsonError(`geometry has more than ${MAX_POSITIONS} positions`);
}

function positions(v: unknown, path: string, min: number, budget: Budget): void {
  if (!Array.isArray(v)) throw new GeoJsonError(`${path} must be an array of positions`);
  if (v.length < min) throw new GeoJsonError(`${path} must have at least ${min} positions`);
  v.forEach((p, i) => position(p, `${path}[${i}]`, budget));
}

function ring(v: unknown, path: string, budget: Budget): void {
  positions(v, path, 4, budget);
  const r = v as number[][];
  const first = r[0];
  const last = r[r.length - 1];
  if (first[0] !== last[0] || first[1] !== last[1]) throw new GeoJsonError(`${path} is not closed: its first and last positions differ`);
}

function polygon(v: unknown, path: string, budget: Budget): void {
  if (!Array.isArray(v) || v.length === 0) throw new GeoJsonError(`${path} must be a non-empty array of linear rings`);
  v.forEach((r, i) => ring(r, `${path}[${i}]`, budget));
}

function list(v: unknown, path: string, each: (item: unknown, path: string) => void): void {
  if (!Array.isArray(v) || v.length === 0) throw new GeoJsonError(`${path} must be a non-empty array`);
  v.forEach((item, i) => each(item, `${path}[${i}]`));
}

function check(value: unknown, path: string, budget: Budget, depth: number): void {
  if (!isObject(value)) throw new GeoJsonError(`${path} must be a GeoJSON geometry object`);
  const type = value.type;
  if (typeof type !== 'string' || !GEOMETRY_TYPES.has(type)) {
    throw new GeoJsonError(`${path}.type must be one of ${[...GEOMETRY_TYPES].join(', ')}${typeof type === 'string' ? `, not '${type}'` : ''}`);
  }
  const c = value.coordinates;
  const cp = `${path}.coordinates`;
  switch (type) {
    case 'Point':
      return position(c, cp, budget);
    case 'LineString':
      return positions(c, cp, 2, budget);
    case 'Polygon':
      return polygon(c, cp, budget);
    case 'MultiPoint':
      return list(c, cp, (p, pp) => position(p, pp, budget));
    case 'MultiLineString':
      return list(c, cp, (l, lp) => positions(l, lp, 2, budget));
    case 'MultiPolygon':
      return list(c, cp, (p, pp) => polygon(p, pp, budget));
    case 'GeometryCollection': {
      if (depth > 4) throw new GeoJsonError(`${path}: geometry collections nest too deeply`);
      const g = value.geometries;
      if (!Array.isArray(g)) throw new GeoJsonError(`${path}.geometries must be an array of geometries`);
      g.forEach((item, i) => check(item, `${path}.geometries[${i}]`, budget, depth + 1));
      return;
    }
  }
}

/** Checks that `value` is a GeoJSON geometry (RFC 7946) in WGS 84; throws GeoJsonError naming the problem. */
export function assertGeometry(value: unknown, path = 'geometry'): asserts value is GeoJsonGeometry {
  check(value, path, { positions: 0 }, 0);
}

export function isGeometryLike(value: unknown): boolean {
  return isObject(value) && typeof value.type === 'string' && GEOMETRY_TYPES.has(value.type);
}
