const EARTH_RADIUS_M = 6_371_000;
const rad = (d: number) => (d * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;

export interface LonLat {
  lon: number;
  lat: number;
}

/** Great-circle distance in metres (haversine). */
export function haversine(a: LonLat, b: LonLat): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
}

/** Initial bearing from `a` to `b`, degrees clockwise from north in [0, 360); null for the same point. */
export function bearing(a: LonLat, b: LonLat): number | null {
  if (a.lon === b.lon && a.lat === b.lat) return null;
  const φ1 = rad(a.lat);
  const φ2 = rad(b.lat);
  const Δλ = rad(b.lon - a.lon);
  const y = Math.sin(Δλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(Δλ);
  return (deg(Math.atan2(y, x)) + 360) % 360;
}

/** The smaller angle between two headings, in [0, 180]. */
export function angleBetween(h1: number, h2: number): number {
  const d = (((h1 - h2) % 360) + 360) % 360;
  return Math.min(d, 360 - d);
}
