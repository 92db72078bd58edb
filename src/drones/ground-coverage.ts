import type { Geometry, Polygon, Position } from '../database/geometry.js';

/**
 * Ground coverage (footprint) of a drone photo: the four image corners cast as rays from the
 * camera onto flat ground at the take-off height, in a local east-north-up tangent plane, then
 * turned into lon/lat on the WGS 84 ellipsoid.
 *
 * Camera convention (DJI): yaw in degrees from true north, clockwise; pitch −90 = straight down
 * (nadir), 0 = horizon, positive above it; roll turns the camera about its optical axis, positive
 * lowers the image's right edge. At pitch −90 the top of the image points along the yaw.
 */

export interface MultiPolygon extends Geometry {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}

export interface GroundCoverageInput {
  /** Camera position, degrees (WGS 84). */
  lon: number;
  lat: number;
  /** Metres above the ground, taken as flat at the take-off height (DJI RelativeAltitude). */
  height: number;
  /** Gimbal yaw, degrees from true north, clockwise (−180…180 or 0…360). */
  yaw: number;
  /** Gimbal pitch, degrees: −90 nadir, 0 horizon, up to +90. */
  pitch: number;
  /** Gimbal roll, degrees (−180…180); 0 when absent. */
  roll?: number | null;
  /** Focal length, mm (the real one, not the 35 mm equivalent). */
  focalLength: number;
  /**
   * Physical sensor size, mm, of the whole (landscape) sensor. An image whose aspect ratio differs
   * by more than 2 % is taken as a centred crop of it (a 16:9 photo on a 4:3 sensor).
   */
  sensorWidth?: number | null;
  sensorHeight?: number | null;
  /** 35 mm equivalent focal length: gives the sensor diagonal (43.27 mm × focal / equivalent) when the sensor size is not known. */
  focalLength35mm?: number | null;
  /** Image size in pixels as stored; a portrait image (height > width) has the sensor turned on its side. */
  imageWidth: number;
  imageHeight: number;
}

export interface GroundCoverageOptions {
  /** Corners whose ray misses the ground, or hits it further than this (horizontal metres), are put at this distance. Default: max(1000, 10 × height). */
  maxRange?: number;
  /** GSD is given only when the optical axis is less than this many degrees off nadir. Default 10. */
  gsdMaxOffNadir?: number;
}

export type CornerName = 'top-left' | 'top-right' | 'bottom-right' | 'bottom-left';

/** A point on the ground: metres east and north of the camera, and its lon/lat. */
export interface GroundPoint {
  east: number;
  north: number;
  lon: number;
  lat: number;
}

export interface GroundCorner extends GroundPoint {
  corner: CornerName;
  /** The corner's ray is above the horizon or meets the ground beyond the maximum range: the point is at the maximum range along its azimuth. */
  clipped: boolean;
}

export interface GroundCoverage {
  /** Top-left, top-right, bottom-right, bottom-left (top = top of the image as stored). */
  corners: [GroundCorner, GroundCorner, GroundCorner, GroundCorner];
  /**
   * The footprint, closed and counter-clockwise (RFC 7946). A MultiPolygon only when it crosses
   * the antimeridian, cut in two there (RFC 7946 §3.1.9).
   */
  polygon: Polygon | MultiPolygon;
  /** Some corner was clipped at the maximum range: the real view reaches further (or to the horizon). */
  truncated: boolean;
  /** Camera position (the point straight below it). */
  camera: { lon: number; lat: number };
  /** Where the optical axis (image centre) meets the ground; null when it does not within the maximum range. */
  center: GroundPoint | null;
  /** Angle of the optical axis from straight down, degrees (0 nadir, 90 horizon). */
  offNadir: number;
  /** Direction the camera faces, degrees from true north in [0, 360) (at nadir: where the image top points). */
  azimuth: number;
  /**
   * Ground sampling distance at the image centre, cm per pixel (slant distance along the optical
   * axis × pixel pitch ÷ focal length); null unless the shot is near nadir (see `gsdMaxOffNadir`).
   */
  gsd: number | null;
  /** Sensor size used for this image (after crop and orientation), mm, and where it came from. */
  sensor: { width: number; height: number; source: 'sensor-size' | 'focal-length-35mm' };
  /** Maximum range used, metres. */
  maxRange: number;
}

export type GroundCoverageResult = { ok: true; coverage: GroundCoverage } | { ok: false; reason: string };

/** Diagonal of a 35 mm film frame (36 × 24 mm), the reference of "35 mm equivalent" focal lengths. */
export const FULL_FRAME_DIAGONAL_MM = 43.27;

const WGS84_A = 6378137;
const WGS84_F = 1 / 298.257223563;
const WGS84_E2 = WGS84_F * (2 - WGS84_F);
const DEG = Math.PI / 180;
const CORNERS: CornerName[] = ['top-left', 'top-right', 'bottom-right', 'bottom-left'];
/** Below this many degrees from the horizon a ray is treated as parallel to the ground. */
const GRAZING = 1e-9;

type Vec3 = [number, number, number];

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const shown = (v: unknown): string => (v === undefined ? 'absent' : v === null ? 'null' : typeof v === 'number' ? String(v) : `a ${typeof v}`);

/** The footprint of a photo on flat ground, or the reason it has none. Pure. */
export function computeGroundCoverage(input: GroundCoverageInput, options: GroundCoverageOptions = {}): GroundCoverageResult {
  const problems = validate(input, options);
  if (problems.length) return { ok: false, reason: `invalid ground coverage input: ${problems.join('; ')}` };

  const sensor = sensorForImage(input);
  if (!sensor) return { ok: false, reason: 'sensor size unknown: give sensorWidth and sensorHeight, or focalLength35mm' };
  const { height, focalLength: f } = input;
  const maxRange = options.maxRange ?? Math.max(1000, 10 * height);
  const gsdMaxOffNadir = options.gsdMaxOffNadir ?? 10;

  const { forward, right, up } = cameraAxes(input.yaw, input.pitch, input.roll ?? 0);
  const hw = sensor.width / 2;
  const hh = sensor.height / 2;
  const planes: [number, number][] = [
    [-hw, hh],
    [hw, hh],
    [hw, -hh],
    [-hw, -hh],
  ];
  const rays = planes.map(([x, y]) => add(scale(forward, f), scale(right, x), scale(up, y)));

  const hits = rays.map((d) => castOnGround(d, height, maxRange));
  const axisHit = castOnGround(forward, height, maxRange);
  const aboveHorizon = rays.map((d) => d[2] >= -GRAZING * Math.hypot(...d));
  if (aboveHorizon.every(Boolean)) return { ok: false, reason: 'the image shows no ground: every corner is at or above the horizon' };
  // A corner above the horizon is placed along its own azimuth; one that looks back over the
  // camera (past the zenith) would fold the footprint behind it, so such a view has no footprint.
  const axisAzimuth: [number, number] = [Math.sin(input.yaw * DEG), Math.cos(input.yaw * DEG)];
  for (let i = 0; i < 4; i++) {
    const [de, dn] = rays[i]!;
    if (aboveHorizon[i] && (Math.hypot(de, dn) < 1e-9 || de * axisAzimuth[0] + dn * axisAzimuth[1] <= 0)) {
      return { ok: false, reason: `the ${CORNERS[i]} corner looks up past the zenith: the camera points too far above the horizon` };
    }
  }
  if (hits.every((h) => h.clipped) && axisHit.clipped) {
    return { ok: false, reason: `no image corner, nor the image centre, meets the ground within the maximum range of ${round(maxRange, 1)} m` };
  }

  const origin = geodeticToEcef(input.lat, input.lon);
  const toLonLat = (east: number, north: number) => enuToLonLat(origin, input.lat, input.lon, east, north);
  const poles = polesInside(
    hits.map((h) => [h.east, h.north]),
    origin,
    input.lat,
    input.lon,
  );
  if (poles) return { ok: false, reason: `the footprint contains the ${poles} pole, which a lon/lat polygon cannot outline` };

  const corners = hits.map((h, i) => ({ corner: CORNERS[i]!, east: h.east, north: h.north, ...toLonLat(h.east, h.north), clipped: h.clipped })) as GroundCoverage['corners'];
  const center = axisHit.clipped ? null : { east: axisHit.east, north: axisHit.north, ...toLonLat(axisHit.east, axisHit.north) };

  const offNadir = Math.acos(Math.max(-1, Math.min(1, -forward[2]))) / DEG;
  const pixelPitch = sensor.width / input.imageWidth;
  const gsd = offNadir < gsdMaxOffNadir ? ((height / Math.cos(offNadir * DEG)) * pixelPitch * 100) / f : null;

  return {
    ok: true,
    coverage: {
      corners,
      polygon: footprintGeometry(corners, input.lon),
      truncated: hits.some((h) => h.clipped),
      camera: { lon: input.lon, lat: input.lat },
      center,
      offNadir,
      azimuth: ((input.yaw % 360) + 360) % 360,
      gsd,
      sensor,
      maxRange,
    },
  };
}

/**
 * Sensor width and height (mm) that the image covers, along the image's own axes: the known sensor
 * cropped to the image's aspect ratio, else the diagonal from the 35 mm equivalent focal length.
 */
export function sensorForImage(
  input: Pick<GroundCoverageInput, 'sensorWidth' | 'sensorHeight' | 'focalLength' | 'focalLength35mm' | 'imageWidth' | 'imageHeight'>,
): GroundCoverage['sensor'] | null {
  const portrait = input.imageHeight > input.imageWidth;
  const imageLong = Math.max(input.imageWidth, input.imageHeight);
  const imageShort = Math.min(input.imageWidth, input.imageHeight);
  const imageAspect = imageLong / imageShort;
  let long: number;
  let short: number;
  let source: GroundCoverage['sensor']['source'];
  if (isNumber(input.sensorWidth) && isNumber(input.sensorHeight) && input.sensorWidth > 0 && input.sensorHeight > 0) {
    long = Math.max(input.sensorWidth, input.sensorHeight);
    short = Math.min(input.sensorWidth, input.sensorHeight);
    const sensorAspect = long / short;
    // Spec sheets round sensor sizes: only a clear difference means the image is a crop.
    if (imageAspect > sensorAspect * 1.02) short = long / imageAspect;
    else if (imageAspect < sensorAspect / 1.02) long = short * imageAspect;
    source = 'sensor-size';
  } else if (isNumber(input.focalLength35mm) && input.focalLength35mm > 0) {
    const diagonal = (FULL_FRAME_DIAGONAL_MM * input.focalLength) / input.focalLength35mm;
    long = (diagonal * imageLong) / Math.hypot(imageLong, imageShort);
    short = (diagonal * imageShort) / Math.hypot(imageLong, imageShort);
    source = 'focal-length-35mm';
  } else {
    return null;
  }
  return portrait ? { width: short, height: long, source } : { width: long, height: short, source };
}

function validate(input: GroundCoverageInput, options: GroundCoverageOptions): string[] {
  const problems: string[] = [];
  const raw = input as unknown as Record<string, unknown>;
  const need = (key: string, ok: (v: number) => boolean, what: string) => {
    const v = raw[key];
    if (!isNumber(v) || !ok(v)) problems.push(`${key} must be ${what} (got ${shown(v)})`);
  };
  const optional = (key: string, ok: (v: number) => boolean, what: string) => {
    if (raw[key] !== undefined && raw[key] !== null) need(key, ok, what);
  };
  if (!input || typeof input !== 'object') return ['input must be an object'];
  need('lon', (v) => v >= -180 && v <= 180, 'a longitude in −180…180');
  need('lat', (v) => v >= -90 && v <= 90, 'a latitude in −90…90');
  need('height', (v) => v > 0, 'a height above the ground in metres, above 0');
  need('yaw', () => true, 'a yaw in degrees');
  need('pitch', (v) => v >= -90 && v <= 90, 'a pitch in −90…90 degrees');
  optional('roll', (v) => v >= -180 && v <= 180, 'a roll in −180…180 degrees');
  need('focalLength', (v) => v > 0, 'a focal length in mm, above 0');
  need('imageWidth', (v) => v > 0, 'an image width in pixels, above 0');
  need('imageHeight', (v) => v > 0, 'an image height in pixels, above 0');
  optional('sensorWidth', (v) => v > 0, 'a sensor width in mm, above 0');
  optional('sensorHeight', (v) => v > 0, 'a sensor height in mm, above 0');
  optional('focalLength35mm', (v) => v > 0, 'a 35 mm equivalent focal length, above 0');
  if (options.maxRange !== undefined && !(isNumber(options.maxRange) && options.maxRange > 0)) problems.push(`maxRange must be metres above 0 (got ${shown(options.maxRange)})`);
  if (options.gsdMaxOffNadir !== undefined && !(isNumber(options.gsdMaxOffNadir) && options.gsdMaxOffNadir >= 0)) {
    problems.push(`gsdMaxOffNadir must be degrees, 0 or more (got ${shown(options.gsdMaxOffNadir)})`);
  }
  return problems;
}

/** Unit vectors (east, north, up) of the camera: optical axis, image right, image up. */
function cameraAxes(yawDeg: number, pitchDeg: number, rollDeg: number): { forward: Vec3; right: Vec3; up: Vec3 } {
  const [y, p, r] = [yawDeg * DEG, pitchDeg * DEG, rollDeg * DEG];
  const heading: Vec3 = [Math.sin(y), Math.cos(y), 0];
  const level: Vec3 = [Math.cos(y), -Math.sin(y), 0];
  const zenith: Vec3 = [0, 0, 1];
  // Pitch turns the axis about the image's right vector; at −90 the image's up vector is the heading.
  const forward = add(scale(heading, Math.cos(p)), scale(zenith, Math.sin(p)));
  const pitchedUp = add(scale(heading, -Math.sin(p)), scale(zenith, Math.cos(p)));
  // Roll turns the image about the optical axis, right edge down for positive angles.
  const right = add(scale(level, Math.cos(r)), scale(pitchedUp, -Math.sin(r)));
  const up = add(scale(level, Math.sin(r)), scale(pitchedUp, Math.cos(r)));
  return { forward, right, up };
}

/** Where a ray from `height` metres up meets the ground, or the point at `maxRange` along its azimuth. */
function castOnGround(d: Vec3, height: number, maxRange: number): { east: number; north: number; clipped: boolean } {
  const horizontal = Math.hypot(d[0], d[1]);
  if (d[2] < -GRAZING * Math.hypot(horizontal, d[2])) {
    const t = height / -d[2];
    if (horizontal * t <= maxRange) return { east: d[0] * t, north: d[1] * t, clipped: false };
  }
  if (horizontal === 0) return { east: 0, north: 0, clipped: true };
  return { east: (d[0] / horizontal) * maxRange, north: (d[1] / horizontal) * maxRange, clipped: true };
}

function geodeticToEcef(latDeg: number, lonDeg: number): Vec3 {
  const [lat, lon] = [latDeg * DEG, lonDeg * DEG];
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * Math.sin(lat) ** 2);
  return [n * Math.cos(lat) * Math.cos(lon), n * Math.cos(lat) * Math.sin(lon), n * (1 - WGS84_E2) * Math.sin(lat)];
}

function ecefToLonLat([x, y, z]: Vec3): { lon: number; lat: number } {
  const p = Math.hypot(x, y);
  let lat = Math.atan2(z, p * (1 - WGS84_E2));
  for (let i = 0; i < 5; i++) {
    const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * Math.sin(lat) ** 2);
    lat = Math.atan2(z + WGS84_E2 * n * Math.sin(lat), p);
  }
  return { lon: Math.atan2(y, x) / DEG, lat: lat / DEG };
}

/** East/north unit vectors of the tangent plane at (lat, lon), in ECEF. */
function enuBasis(latDeg: number, lonDeg: number): { east: Vec3; north: Vec3 } {
  const [lat, lon] = [latDeg * DEG, lonDeg * DEG];
  return {
    east: [-Math.sin(lon), Math.cos(lon), 0],
    north: [-Math.sin(lat) * Math.cos(lon), -Math.sin(lat) * Math.sin(lon), Math.cos(lat)],
  };
}

/** A point of the tangent plane at the camera, as the lon/lat below it on the ellipsoid. */
function enuToLonLat(origin: Vec3, lat: number, lon: number, east: number, north: number): { lon: number; lat: number } {
  const basis = enuBasis(lat, lon);
  return ecefToLonLat(add(origin, scale(basis.east, east), scale(basis.north, north)));
}

/** 'north' or 'south' when that pole lies inside the quadrilateral (east/north metres of the camera). */
function polesInside(ring: [number, number][], origin: Vec3, lat: number, lon: number): 'north' | 'south' | null {
  const basis = enuBasis(lat, lon);
  const b = WGS84_A * (1 - WGS84_F);
  for (const [name, z] of [
    ['north', b],
    ['south', -b],
  ] as const) {
    // Only the pole of the camera's hemisphere: the other one projects onto the plane too.
    if ((name === 'north') !== lat >= 0) continue;
    const rel: Vec3 = [-origin[0], -origin[1], z - origin[2]];
    if (insideRing(ring, [dot(rel, basis.east), dot(rel, basis.north)])) return name;
  }
  return null;
}

function insideRing(ring: [number, number][], [x, y]: [number, number]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Closed counter-clockwise ring of the corners; cut at the antimeridian when it crosses it. */
function footprintGeometry(corners: GroundPoint[], cameraLon: number): Polygon | MultiPolygon {
  // Longitudes continuous around the camera, so an edge crossing ±180° stays short.
  let ring: Position[] = corners.map((c) => [cameraLon + wrap(c.lon - cameraLon), c.lat]);
  if (signedArea(ring) < 0) ring = ring.reverse();
  const lons = ring.map((p) => p[0]!);
  const limit = Math.max(...lons) > 180 ? 180 : Math.min(...lons) < -180 ? -180 : null;
  if (limit === null) return { type: 'Polygon', coordinates: [close(ring)] };
  const shift = limit === 180 ? -360 : 360;
  const inside = clipAtLongitude(ring, limit, limit === 180 ? 'below' : 'above');
  const outside = clipAtLongitude(ring, limit, limit === 180 ? 'above' : 'below').map(([x, y]) => [x! + shift, y!]);
  const parts = [inside, outside].filter((part) => part.length >= 3).map((part) => [close(part)]);
  return parts.length === 1 ? { type: 'Polygon', coordinates: parts[0]! } : { type: 'MultiPolygon', coordinates: parts };
}

/** The part of a ring on one side of a meridian (Sutherland–Hodgman against a half-plane). */
function clipAtLongitude(ring: Position[], lon: number, keep: 'below' | 'above'): Position[] {
  const isIn = (p: Position) => (keep === 'below' ? p[0]! <= lon : p[0]! >= lon);
  const out: Position[] = [];
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % ring.length]!;
    if (isIn(a)) out.push(a);
    if (isIn(a) !== isIn(b)) {
      const t = (lon - a[0]!) / (b[0]! - a[0]!);
      out.push([lon, a[1]! + t * (b[1]! - a[1]!)]);
    }
  }
  return out;
}

const wrap = (deg: number) => deg - 360 * Math.round(deg / 360);
const close = (ring: Position[]): Position[] => [...ring, ring[0]!];
const signedArea = (ring: Position[]) => ring.reduce((sum, p, i) => sum + p[0]! * ring[(i + 1) % ring.length]![1]! - ring[(i + 1) % ring.length]![0]! * p[1]!, 0) / 2;
const add = (...vs: Vec3[]): Vec3 => vs.reduce((s, v) => [s[0] + v[0], s[1] + v[1], s[2] + v[2]], [0, 0, 0] as Vec3);
const scale = (v: Vec3, k: number): Vec3 => [v[0] * k, v[1] * k, v[2] * k];
const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
