import type { Geometry } from '../../database/geometry.js';
import type { DjiMetadata } from '../dji-metadata.js';
import { djiGroundCoverageInput } from '../dji-metadata.js';
import { computeGroundCoverage, type GroundCoverage } from '../ground-coverage.js';

/** What a drone photo's metadata says, as kept in `drone_media.metadata.camera` / `.dji` / `.coverage`. */
export interface StoredCoverage {
  corners: { corner: string; east: number; north: number; lon: number; lat: number; clipped: boolean }[];
  polygon: Geometry;
  truncated: boolean;
  camera: { lon: number; lat: number };
  center: { east: number; north: number; lon: number; lat: number } | null;
  off_nadir: number;
  azimuth: number;
  /** cm per pixel, near-nadir shots only. */
  gsd: number | null;
  sensor: { width: number; height: number; source: string };
  max_range: number;
  height: number;
}

export interface PhotoMetadata {
  camera: {
    make: string | null;
    model: string | null;
    name: string | null;
    focal_length: number | null;
    focal_length_35mm: number | null;
    image_width: number | null;
    image_height: number | null;
  };
  dji: {
    gimbal_yaw: number | null;
    gimbal_pitch: number | null;
    gimbal_roll: number | null;
    flight_yaw: number | null;
    flight_pitch: number | null;
    flight_roll: number | null;
    relative_altitude: number | null;
    absolute_altitude: number | null;
    rtk_flag: number | null;
    lon: number | null;
    lat: number | null;
    date_time_original: string | null;
  };
  coverage: StoredCoverage | null;
  /** Why there is no coverage. */
  coverage_reason: string | null;
  warnings: string[];
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function storedCoverage(c: GroundCoverage, height: number): StoredCoverage {
  return {
    corners: c.corners.map((k) => ({ corner: k.corner, east: round(k.east, 3), north: round(k.north, 3), lon: k.lon, lat: k.lat, clipped: k.clipped })),
    polygon: c.polygon,
    truncated: c.truncated,
    camera: c.camera,
    center: c.center ? { east: round(c.center.east, 3), north: round(c.center.north, 3), lon: c.center.lon, lat: c.center.lat } : null,
    off_nadir: round(c.offNadir, 3),
    azimuth: round(c.azimuth, 3),
    gsd: c.gsd === null ? null : round(c.gsd, 4),
    sensor: c.sensor,
    max_range: c.maxRange,
    height,
  };
}

/** A photo's DJI metadata normalised for storage, with its ground coverage (or why it has none). Pure. */
export function photoMetadata(m: DjiMetadata): PhotoMetadata {
  const input = djiGroundCoverageInput(m);
  let coverage: StoredCoverage | null = null;
  let reason: string | null = null;
  if (!input.ok) reason = input.reason;
  else {
    const result = computeGroundCoverage(input.input);
    if (result.ok) coverage = storedCoverage(result.coverage, input.input.height);
    else reason = result.reason;
  }
  return {
    camera: {
      make: m.make,
      model: m.model,
      name: input.ok ? (input.camera?.name ?? null) : null,
      focal_length: m.focalLength,
      focal_length_35mm: m.focalLength35mm,
      image_width: m.imageWidth,
      image_height: m.imageHeight,
    },
    dji: {
      gimbal_yaw: m.gimbalYaw,
      gimbal_pitch: m.gimbalPitch,
      gimbal_roll: m.gimbalRoll,
      flight_yaw: m.flightYaw,
      flight_pitch: m.flightPitch,
      flight_roll: m.flightRoll,
      relative_altitude: m.relativeAltitude,
      absolute_altitude: m.absoluteAltitude,
      rtk_flag: m.rtkFlag,
      lon: m.lon,
      lat: m.lat,
      date_time_original: m.dateTimeOriginal,
    },
    coverage,
    coverage_reason: reason,
    warnings: m.warnings,
  };
}

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

/**
 * The STAC fields of a drone photo's item: the footprint as geometry (the point stays when there
 * is none), view and perspective-imagery fields, platform and instrument, GSD (metres) for
 * near-nadir shots, DJI's own values under `dji:`, and a link to its flight.
 */
export function photoItemDecoration(
  media: { id: string; workspaceId: string; flightId: string | null; deviceSn: string | null; metadata: Record<string, unknown> },
  platform: string | null,
): { geometry?: Geometry; properties: Record<string, unknown>; links: { rel: string; href: string; type?: string; title?: string }[] } {
  const meta = media.metadata as Partial<PhotoMetadata>;
  const c = meta.coverage ?? null;
  const cam = meta.camera;
  const dji = meta.dji;
  const center = c?.camera ?? (dji?.lon != null && dji?.lat != null ? { lon: dji.lon, lat: dji.lat } : null);
  const interior = defined({
    camera_manufacturer: cam?.make ?? undefined,
    camera_model: cam?.model ?? undefined,
    focal_length: cam?.focal_length ?? undefined,
    sensor_array_dimensions: cam?.image_width && cam?.image_height ? [cam.image_width, cam.image_height] : undefined,
    pixel_spacing: c && cam?.image_width && cam?.image_height ? [round(c.sensor.width / cam.image_width, 6), round(c.sensor.height / cam.image_height, 6)] : undefined,
    field_of_view: c && cam?.focal_length ? round((2 * Math.atan(c.sensor.width / 2 / cam.focal_length) * 180) / Math.PI, 3) || undefined : undefined,
  });
  const properties = defined({
    'view:off_nadir': c?.off_nadir,
    'view:azimuth': c?.azimuth ?? (dji?.gimbal_yaw != null ? ((dji.gimbal_yaw % 360) + 360) % 360 : undefined),
    'pers:perspective_center': center ? (dji?.absolute_altitude != null ? [center.lon, center.lat, dji.absolute_altitude] : [center.lon, center.lat]) : undefined,
    'pers:crs': center ? 4326 : undefined,
    'pers:interior_orientation': Object.keys(interior).length ? interior : undefined,
    platform: platform ?? undefined,
    instruments: cam?.model ? [cam.model] : undefined,
    gsd: c?.gsd != null ? round(c.gsd / 100, 5) : undefined,
    'dji:gimbal_yaw': dji?.gimbal_yaw,
    'dji:gimbal_pitch': dji?.gimbal_pitch,
    'dji:gimbal_roll': dji?.gimbal_roll,
    'dji:flight_yaw': dji?.flight_yaw,
    'dji:flight_pitch': dji?.flight_pitch,
    'dji:flight_roll': dji?.flight_roll,
    'dji:relative_altitude': dji?.relative_altitude,
    'dji:absolute_altitude': dji?.absolute_altitude,
    'dji:rtk_flag': dji?.rtk_flag,
    'dji:serial_number': media.deviceSn,
    'sightline:ground_coverage_truncated': c ? c.truncated : undefined,
    'sightline:ground_coverage': c ? undefined : (meta.coverage_reason ?? undefined),
    'sightline:drone_media_id': media.id,
    'sightline:drone_flight_id': media.flightId,
  });
  const links = media.flightId
    ? [{ rel: 'related', href: `drones/workspaces/${media.workspaceId}/flights/${media.flightId}`, type: 'application/json', title: 'The flight this photo was taken on' }]
    : [];
  return { ...(c ? { geometry: c.polygon } : {}), properties, links };
}

/** The ground coverage route's answer: a GeoJSON Feature (the footprint) with the numbers. */
export function groundCoverageFeature(media: { id: string; metadata: Record<string, unknown> }): Record<string, unknown> | null {
  const meta = media.metadata as Partial<PhotoMetadata>;
  const c = meta.coverage;
  if (!c) return null;
  return {
    type: 'Feature',
    id: media.id,
    geometry: c.polygon,
    properties: {
      truncated: c.truncated,
      off_nadir: c.off_nadir,
      azimuth: c.azimuth,
      gsd_cm: c.gsd,
      height_above_takeoff: c.height,
      max_range: c.max_range,
      camera: c.camera,
      center: c.center,
      sensor: c.sensor,
      corners: c.corners,
    },
  };
}
