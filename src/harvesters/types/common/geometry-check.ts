import type { Geometry, Polygon } from '../../../database/geometry.js';

const TYPES = new Set(['Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'GeometryCollection']);

function position(value: unknown, where: string): string | null {
  if (!Array.isArray(value) || value.length < 2) return `${where} is not a position`;
  if (!value.every((n) => typeof n === 'number' && Number.isFinite(n))) return `${where} has a coordinate that is not a finite number`;
  const [lon, lat] = value as number[];
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) return `${where} (${lon}, ${lat}) is outside lon/lat bounds`;
  return null;
}

function positions(value: unknown, where: string, min: number): string | null {
  if (!Array.isArray(value)) return `${where} is not an array of positions`;
  if (value.length < min) return `${where} has ${value.length} positions, at least ${min} needed`;
  for (let i = 0; i < value.length; i++) {
    const problem = position(value[i], `${where}[${i}]`);
    if (problem) return problem;
  }
  return null;
}

function ring(value: unknown, where: string): string | null {
  const problem = positions(value, where, 4);
  if (problem) return problem;
  const points = value as number[][];
  const [first, last] = [points[0], points[points.length - 1]];
  if (first[0] !== last[0] || first[1] !== last[1]) return `${where} is not closed`;
  return null;
}

function rings(value: unknown, where: string): string | null {
  if (!Array.isArray(value) || value.length === 0) return `${where} has no rings`;
  for (let i = 0; i < value.length; i++) {
    const problem = ring(value[i], `${where}[${i}]`);
    if (problem) return problem;
  }
  return null;
}

function each(value: unknown, where: string, check: (v: unknown, w: string) => string | null): string | null {
  if (!Array.isArray(value) || value.length === 0) return `${where} is empty`;
  for (let i = 0; i < value.length; i++) {
    const problem = check(value[i], `${where}[${i}]`);
    if (problem) return problem;
  }
  return null;
}

/**
 * Why a remote GeoJSON geometry cannot be stored (SRID 4326, lon/lat), or null when it can: known
 * type, finite coordinates within lon/lat bounds, closed rings of at least four positions.
 */
export function geometryProblem(value: unknown, depth = 0): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'geometry is not a GeoJSON object';
  const g = value as { type?: unknown; coordinates?: unknown; geometries?: unknown };
  if (typeof g.type !== 'string' || !TYPES.has(g.type)) return `geometry type ${JSON.stringify(g.type)} is not a GeoJSON geometry type`;
  const c = g.coordinates;
  switch (g.type) {
    case 'Point':
      return position(c, 'Point coordinates');
    case 'LineString':
      return positions(c, 'LineString coordinates', 2);
    case 'MultiPoint':
      return positions(c, 'MultiPoint coordinates', 1);
    case 'Polygon':
      return rings(c, 'Polygon coordinates');
    case 'MultiLineString':
      return each(c, 'MultiLineString coordinates', (v, w) => positions(v, w, 2));
    case 'MultiPolygon':
      return each(c, 'MultiPolygon coordinates', rings);
    default:
      if (depth > 4) return 'GeometryCollection nested too deep';
      return each(g.geometries, 'GeometryCollection geometries', (v, w) => {
        const problem = geometryProblem(v, depth + 1);
        return problem ? `${w}: ${problem}` : null;
      });
  }
}

/** The geometry, typed, when geometryProblem() found nothing. */
export function checkedGeometry(value: unknown): { geometry: Geometry } | { error: string } {
  const problem = geometryProblem(value);
  return problem ? { error: problem } : { geometry: value as Geometry };
}

/**
 * A [west, south, east, north] box as a polygon, or as two polygons when it crosses the
 * antimeridian (west greater than east, as RFC 7946 writes such boxes); null when it is not a box.
 */
export function bboxGeometry(bbox: unknown): Geometry | null {
  if (!Array.isArray(bbox) || (bbox.length !== 4 && bbox.length !== 6) || !bbox.every((n) => typeof n === 'number' && Number.isFinite(n))) return null;
  const [w, s, e, n] = bbox.length === 6 ? [bbox[0], bbox[1], bbox[3], bbox[4]] : (bbox as number[]);
  if (s > n || w < -180 || e > 180 || s < -90 || n > 90) return null;
  const box = (x0: number, x1: number): Polygon['coordinates'] => [
    [
      [x0, s],
      [x1, s],
      [x1, n],
      [x0, n],
      [x0, s],
    ],
  ];
  if (w <= e) return { type: 'Polygon', coordinates: box(w, e) } as Polygon;
  return { type: 'MultiPolygon', coordinates: [box(w, 180), box(-180, e)] };
}
