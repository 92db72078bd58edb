import { bearing, haversine, type LonLat } from './geo.js';

/** Neighbours further apart than this are not joined by the sequence's line. */
export const SEQUENCE_BREAK_METERS = 75;

export interface PathPoint extends LonLat {
  /** A heading the camera recorded, kept as is. */
  heading: number | null;
}

export interface PathHeading {
  heading: number | null;
  source: 'exif' | 'computed' | null;
}

/**
 * Headings along a sorted path: a recorded heading stays; otherwise the direction towards the
 * next picture at another position (towards the last picture, from the previous one), turned
 * by `relativeHeading` (90 = the camera looked right of the path). A lone picture gets none.
 */
export function pathHeadings(points: PathPoint[], relativeHeading = 0): PathHeading[] {
  return points.map((p, i) => {
    if (p.heading !== null) return { heading: p.heading, source: 'exif' };
    let azimuth: number | null = null;
    for (let j = i + 1; j < points.length && azimuth === null; j++) azimuth = bearing(p, points[j]!);
    for (let j = i - 1; j >= 0 && azimuth === null; j--) azimuth = bearing(points[j]!, p);
    if (azimuth === null) return { heading: null, source: null };
    const h = Math.round(((((azimuth + relativeHeading) % 360) + 360) % 360) * 100) / 100;
    return { heading: h >= 360 ? 0 : h, source: 'computed' };
  });
}

/**
 * The sequence's path as a MultiLineString that breaks where neighbours are more than
 * `breakMeters` apart. A picture alone between two breaks is kept as a zero-length part, so
 * the geometry (and the bbox derived from it) still covers every picture.
 */
export function pathGeometry(points: LonLat[], breakMeters = SEQUENCE_BREAK_METERS): { type: 'MultiLineString'; coordinates: number[][][] } | null {
  if (points.length === 0) return null;
  const parts: number[][][] = [[[points[0]!.lon, points[0]!.lat]]];
  for (let i = 1; i < points.length; i++) {
    const pos = [points[i]!.lon, points[i]!.lat];
    if (haversine(points[i - 1]!, points[i]!) > breakMeters) parts.push([pos]);
    else parts[parts.length - 1]!.push(pos);
  }
  return { type: 'MultiLineString', coordinates: parts.map((part) => (part.length === 1 ? [part[0]!, part[0]!] : part)) };
}
