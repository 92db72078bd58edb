import type { Geometry } from '../../database/geometry.js';

export type LonLat = [number, number];
export type Bbox = [west: number, south: number, east: number, north: number];

/**
 * Points along the outline of a `width`×`height` pixel grid, clockwise from the top-left
 * corner, `segments` per edge (an open ring: the first point is not repeated).
 */
export function densifiedOutline(width: number, height: number, segments = 32): [number, number][] {
  const ring: [number, number][] = [];
  for (let i = 0; i < segments; i++) ring.push([(width * i) / segments, 0]);
  for (let i = 0; i < segments; i++) ring.push([width, (height * i) / segments]);
  for (let i = 0; i < segments; i++) ring.push([width - (width * i) / segments, height]);
  for (let i = 0; i < segments; i++) ring.push([0, height - (height * i) / segments]);
  return ring;
}

/** A longitude difference brought into (-180, 180]. */
function wrapDelta(d: number): number {
  let x = d % 360;
  if (x > 180) x -= 360;
  if (x <= -180) x += 360;
  return x;
}

const round = (v: number) => Math.round(v * 1e9) / 1e9;

function signedArea(ring: LonLat[]): number {
  let s = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i]!;
    const [x2, y2] = ring[(i + 1) % ring.length]!;
    s += x1 * y2 - x2 * y1;
  }
  return s / 2;
}

/** Keeps the part of an open ring on one side of the meridian `x` (Sutherland–Hodgman). */
function clipAtMeridian(ring: LonLat[], x: number, keepWest: boolean): LonLat[] {
  const inside = (p: LonLat) => (keepWest ? p[0] <= x : p[0] >= x);
  const out: LonLat[] = [];
  for (let i = 0; i < ring.length; i++) {
    const s = ring[(i + ring.length - 1) % ring.length]!;
    const e = ring[i]!;
    const crossing = (): LonLat => {
      const t = (x - s[0]) / (e[0] - s[0]);
      return [x, s[1] + t * (e[1] - s[1])];
    };
    if (inside(e)) {
      if (!inside(s)) out.push(crossing());
      out.push(e);
    } else if (inside(s)) {
      out.push(crossing());
    }
  }
  return out;
}

/** A closed, counter-clockwise ring of rounded positions without consecutive repeats; null when degenerate. */
function closeRing(ring: LonLat[]): LonLat[] | null {
  const pts: LonLat[] = [];
  for (const [x, y] of ring) {
    const p: LonLat = [round(x), round(y)];
    const last = pts[pts.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) pts.push(p);
  }
  while (pts.length > 1 && pts[0]![0] === pts[pts.length - 1]![0] && pts[0]![1] === pts[pts.length - 1]![1]) pts.pop();
  if (pts.length < 3 || Math.abs(signedArea(pts)) < 1e-12) return null;
  if (signedArea(pts) < 0) pts.reverse();
  return [...pts, pts[0]!];
}

/**
 * Turns an outline already transformed to WGS 84 (lon/lat, any longitude range, possibly
 * wrapping) into a GeoJSON footprint: longitudes made continuous along the ring, a ring that
 * goes once around a pole closed through that pole, everything brought into [-180, 180] and,
 * when it crosses the antimeridian, split there into a MultiPolygon (RFC 7946 §3.1.9).
 * Points that failed to project (non-finite) are dropped. Null when nothing usable is left.
 */
export function footprintFromOutline(outline: LonLat[]): Geometry | null {
  const pts = outline.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]): LonLat => [x, Math.max(-90, Math.min(90, y))]);
  if (pts.length < 3) return null;

  // Unwrap: each longitude continues from the previous one.
  const ring: LonLat[] = [pts[0]!];
  for (let i = 1; i < pts.length; i++) {
    const prev = ring[i - 1]!;
    ring.push([prev[0] + wrapDelta(pts[i]![0] - pts[i - 1]![0]), pts[i]![1]]);
  }
  const last = ring[ring.length - 1]!;
  const winding = last[0] + wrapDelta(pts[0]![0] - pts[pts.length - 1]![0]) - ring[0]![0];
  if (Math.abs(winding) > 180) {
    // The outline goes around a pole: close it along that pole's parallel.
    const meanLat = pts.reduce((s, p) => s + p[1], 0) / pts.length;
    const pole = meanLat >= 0 ? 90 : -90;
    const endLon = ring[0]![0] + winding;
    ring.push([endLon, ring[0]![1]], [endLon, pole], [ring[0]![0], pole]);
  }

  const xs = ring.map((p) => p[0]);
  const minX = Math.min(...xs);
  const shift = Math.floor((minX + 180) / 360) * 360;
  const shifted = ring.map(([x, y]): LonLat => [x - shift, y]);
  const maxX = Math.max(...shifted.map((p) => p[0]));

  if (maxX <= 180) {
    const closed = closeRing(shifted);
    return closed ? { type: 'Polygon', coordinates: [closed] } : null;
  }
  const west = closeRing(clipAtMeridian(shifted, 180, true));
  const east = closeRing(clipAtMeridian(shifted, 180, false).map(([x, y]): LonLat => [x - 360, y]));
  const parts = [west, east].filter((p): p is LonLat[] => p !== null);
  if (parts.length === 0) return null;
  if (parts.length === 1) return { type: 'Polygon', coordinates: [parts[0]!] };
  return { type: 'MultiPolygon', coordinates: parts.map((p) => [p]) };
}

/** The [west, south, east, north] box of each polygon of a footprint. */
export function footprintBboxes(geometry: Geometry | null): Bbox[] {
  if (!geometry) return [];
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates as LonLat[][]] : geometry.type === 'MultiPolygon' ? (geometry.coordinates as LonLat[][][]) : [];
  return polygons.map((rings) => {
    const pts = rings[0] ?? [];
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  });
}

/**
 * The STAC bbox of a footprint: one box, with west > east when the footprint was split at the
 * antimeridian (STAC / RFC 7946 convention).
 */
export function stacBbox(boxes: Bbox[]): Bbox | null {
  if (boxes.length === 0) return null;
  const south = Math.min(...boxes.map((b) => b[1]));
  const north = Math.max(...boxes.map((b) => b[3]));
  if (boxes.length === 2) {
    const [a, b] = boxes as [Bbox, Bbox];
    // The part ending at +180 is the west side of the crossing box, the one starting at -180 its east side.
    const [westPart, eastPart] = a[2] >= 180 - 1e-9 ? [a, b] : [b, a];
    // Parts that meet again (a cap around a pole) cover every longitude.
    if (eastPart[2] >= westPart[0]) return [-180, south, 180, north];
    return [westPart[0], south, eastPart[2], north];
  }
  return [Math.min(...boxes.map((b) => b[0])), south, Math.max(...boxes.map((b) => b[2])), north];
}

/** Whether two [w, s, e, n] boxes (west ≤ east) overlap. */
export function bboxesIntersect(a: Bbox, b: Bbox): boolean {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}
