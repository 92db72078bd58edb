import exifr from 'exifr';
import { open } from 'node:fs/promises';
import { magneticDeclination, offsetOfLocalTime, timeZoneAt } from './geo-corrections.js';
import type { Projection } from './media.types.js';

/** Where a capture time came from. */
export type TimeSource = 'gps' | 'camera' | 'override';

/** Everything the pipeline uses from a picture's EXIF and XMP, normalised. */
export interface PictureMetadata {
  lon: number | null;
  lat: number | null;
  /** The capture time to publish: GPS clock when available, else the camera clock. */
  capturedAt: Date | null;
  captureTimeSource: TimeSource | null;
  /** GPS clock (UTC); its date is repaired when it disagrees with the camera by whole days. */
  gpsTime: Date | null;
  /** Camera clock converted to UTC with its offset (given, inferred from the GPS clock, or assumed UTC). */
  cameraTime: Date | null;
  /** `+02:00`; how it was known. */
  cameraTimeOffset: string | null;
  /**
   * `exif` (the camera wrote it), `gps` (camera clock minus GPS clock), `position` (the time zone of
   * the place, daylight saving included), `assumed-utc` (nothing else known).
   */
  cameraTimeOffsetSource: 'exif' | 'gps' | 'position' | 'assumed-utc' | null;
  /** The time zone of the place, when the offset was taken from it. */
  timeZone: string | null;
  /** Real heading (degrees from north, [0, 360)), as the camera recorded it. */
  heading: number | null;
  headingSource: 'exif' | 'xmp-gpano' | 'xmp-dji' | null;
  /**
   * The declination (degrees) added to a heading the camera gave from magnetic north
   * (`GPSImgDirectionRef = M`) to make it true; null when it gave true north.
   */
  magneticDeclination: number | null;
  pitch: number | null;
  roll: number | null;
  /** Metres above sea level, and above the take-off point for drones. */
  altitude: number | null;
  relativeAltitude: number | null;
  make: string | null;
  model: string | null;
  focalLength: number | null;
  focalLength35mm: number | null;
  /** Horizontal position error in metres (GPSHPositioningError). */
  gpsAccuracy: number | null;
  /** Dilution of precision of the fix (GPSDOP). */
  gpsDop: number | null;
  projection: Projection;
  /** GPano crop of a partial panorama. */
  crop: { fullWidth: number; fullHeight: number; width: number; height: number; left: number; top: number } | null;
  /** Things found odd but worked around (a repaired GPS date, an ignored null-island position…). */
  warnings: string[];
}

export interface MetadataOverrides {
  capturedAt?: Date;
  lon?: number;
  lat?: number;
}

type Dict = Record<string, unknown>;

const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};

const str = (v: unknown): string | null => {
  if (typeof v !== 'string') return null;
  // Some cameras pad strings with NULs or spaces.
  // eslint-disable-next-line no-control-regex
  const s = v.replace(/\u0000/g, '').trim();
  return s.length ? s : null;
};

/** Degrees from `[d, m, s]` (or a plain number) and a hemisphere reference. */
export function dms(value: unknown, ref: unknown, negativeRef: string): number | null {
  let deg: number | null;
  if (Array.isArray(value)) {
    const [d, m = 0, s = 0] = value.map(num);
    if (d === null || m === null || s === null) return null;
    deg = d + m / 60 + s / 3600;
  } else {
    deg = num(value);
  }
  if (deg === null) return null;
  const r = str(ref)?.toUpperCase();
  return r === negativeRef ? -Math.abs(deg) : deg;
}

const DATE_RE = /^(\d{4})[:-](\d{2})[:-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;
const OFFSET_RE = /^([+-])(\d{2}):?(\d{2})$/;

/** Milliseconds of an EXIF local date-time read as if it were UTC, and its explicit offset if any. */
export function parseExifDate(value: unknown): { localMs: number; offsetMinutes: number | null; hasSubSeconds: boolean } | null {
  const s = str(value);
  if (!s) return null;
  const m = DATE_RE.exec(s);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', se = '00', frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  // "0000:00:00 00:00:00" and friends mean "clock not set".
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  const ms = frac ? Math.round(Number(frac) * 1000) : 0;
  const localMs = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(se), ms);
  if (!Number.isFinite(localMs)) return null;
  return { localMs, offsetMinutes: zone ? parseOffset(zone) : null, hasSubSeconds: !!frac };
}

export function parseOffset(value: unknown): number | null {
  const s = str(value);
  if (!s) return null;
  if (s === 'Z') return 0;
  const m = OFFSET_RE.exec(s);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (minutes > 14 * 60) return null;
  return m[1] === '-' ? -minutes : minutes;
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const DAY = 24 * 3600 * 1000;
const QUARTER = 15 * 60 * 1000;

/** GPS date stamp + time stamp (UTC), or null. `time` alone gives the time of day only. */
function gpsDateTime(dateStamp: unknown, timeStamp: unknown): { ms: number | null; timeOfDayMs: number | null; hasSubSeconds: boolean } {
  let timeOfDayMs: number | null = null;
  let hasSubSeconds = false;
  if (Array.isArray(timeStamp) && timeStamp.length >= 2) {
    const [h, m, s = 0] = timeStamp.map(num);
    if (h !== null && m !== null && s !== null && h >= 0 && h < 24 && m >= 0 && m < 60 && s >= 0 && s < 61) {
      timeOfDayMs = Math.round((h * 3600 + m * 60 + s) * 1000);
      hasSubSeconds = s % 1 !== 0;
    }
  }
  const date = parseExifDate(dateStamp);
  const ms = date && timeOfDayMs !== null ? date.localMs + timeOfDayMs : null;
  return { ms, timeOfDayMs, hasSubSeconds };
}

/** Brings an angle to [0, 360). */
export function normalizeHeading(deg: number): number {
  const h = Math.round((((deg % 360) + 360) % 360) * 1000) / 1000;
  return h >= 360 ? 0 : h;
}

interface Sections {
  ifd0: Dict;
  exif: Dict;
  gps: Dict;
  gpano: Dict;
  dji: Dict;
  xmpExif: Dict;
}

function sections(raw: Dict | undefined): Sections {
  const pick = (k: string): Dict => {
    const v = raw?.[k];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Dict) : {};
  };
  return { ifd0: pick('ifd0'), exif: pick('exif'), gps: pick('gps'), gpano: pick('GPano'), dji: pick('drone-dji'), xmpExif: pick('xmp') };
}

const HEADER_CAP = 16 * 1024 * 1024;
/** Bytes read at a time: the whole metadata of most cameras' JPEGs fits in the first block. */
const HEADER_BLOCK = 256 * 1024;

/** Reads up to `size` bytes at `position` (fewer at the end of the file). */
export type RangeReader = (position: number, size: number) => Promise<Buffer>;

/**
 * The metadata part of a JPEG: every segment before the image data (start of scan), plus a
 * little of what follows. Read in blocks of 256 KiB through `read` (a file, or ranged reads of
 * an object store), so a 100 MB picture costs one or two reads. Not a JPEG: its first 64 KiB.
 * (exifr's own chunked file reading trips over some segment layouts.)
 */
export async function readJpegHeaderFrom(read: RangeReader): Promise<Buffer> {
  let data = await read(0, HEADER_BLOCK);
  let eof = data.length < HEADER_BLOCK;
  /** Makes sure `data` holds the bytes up to `end` when the file has them; false when it does not. */
  const have = async (end: number): Promise<boolean> => {
    while (data.length < end && !eof) {
      const more = await read(data.length, Math.max(HEADER_BLOCK, end - data.length));
      eof = more.length === 0 || data.length + more.length < end;
      data = Buffer.concat([data, more]);
    }
    return data.length >= end;
  };
  if (data.length < 2 || data[0] !== 0xff || data[1] !== 0xd8) return data.subarray(0, 64 * 1024);
  let position = 2;
  while (position < HEADER_CAP) {
    if (!(await have(position + 4)) || data[position] !== 0xff) break;
    const type = data[position + 1]!;
    if (type === 0xda || type === 0xd9) break;
    if (type === 0xff) {
      position += 1;
      continue;
    }
    const size = data.readUInt16BE(position + 2);
    if (size < 2) break;
    position += 2 + size;
  }
  // A little of what follows: exifr refuses a segment that ends exactly at the end of its input.
  await have(position + 1024);
  return data.subarray(0, Math.min(data.length, position + 1024));
}

/** readJpegHeaderFrom a local file. */
export async function readJpegHeader(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    return await readJpegHeaderFrom(async (position, size) => {
      const buffer = Buffer.allocUnsafe(size);
      const { bytesRead } = await file.read(buffer, 0, size, position);
      return buffer.subarray(0, bytesRead);
    });
  } finally {
    await file.close();
  }
}

/** Reads EXIF, GPS and XMP (GPano, DJI) of a JPEG file or buffer. Never throws: unreadable metadata is empty. */
export async function readRawMetadata(input: string | Buffer): Promise<{ raw: Dict | undefined; error?: string }> {
  try {
    const data = typeof input === 'string' ? await readJpegHeader(input) : input;
    const raw = (await exifr.parse(data, {
      tiff: true,
      ifd0: {},
      exif: true,
      gps: true,
      xmp: true,
      ifd1: false,
      interop: false,
      makerNote: false,
      userComment: false,
      iptc: false,
      icc: false,
      jfif: false,
      translateKeys: true,
      translateValues: false,
      reviveValues: false,
      sanitize: true,
      mergeOutput: false,
    } as never)) as Dict | undefined;
    return { raw };
  } catch (error) {
    return { raw: undefined, error: (error as Error).message };
  }
}

/**
 * Normalises raw EXIF/XMP into what the pipeline needs. Pure: the same input always gives
 * the same output, which keeps the time rules testable.
 */
export function normalizeMetadata(raw: Dict | undefined, overrides: MetadataOverrides = {}): PictureMetadata {
  const { ifd0, exif, gps, gpano, dji } = sections(raw);
  const warnings: string[] = [];

  // Position
  let lat = dms(gps.GPSLatitude, gps.GPSLatitudeRef, 'S');
  let lon = dms(gps.GPSLongitude, gps.GPSLongitudeRef, 'W');
  if (lat === null || lon === null) {
    lat = num(dji.GpsLatitude ?? dji.GPSLatitude) ?? lat;
    lon = num(dji.GpsLongitude ?? dji.GPSLongitude ?? dji.GpsLongtitude) ?? lon;
  }
  if (lat !== null && lon !== null) {
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      warnings.push('position out of range ignored');
      lat = lon = null;
    } else if (lat === 0 && lon === 0) {
      // A receiver without a fix writes 0,0: never a real position for street imagery.
      warnings.push('position 0,0 (no GPS fix) ignored');
      lat = lon = null;
    }
  } else {
    lat = lon = null;
  }
  if (overrides.lat !== undefined && overrides.lon !== undefined) {
    lat = overrides.lat;
    lon = overrides.lon;
  }

  // Times
  const camera = parseExifDate(exif.DateTimeOriginal) ?? parseExifDate(exif.CreateDate ?? exif.DateTimeDigitized) ?? null;
  const subSec = str(exif.SubSecTimeOriginal ?? exif.SubSecTimeDigitized ?? exif.SubSecTime);
  let cameraLocal: number | null = camera?.localMs ?? null;
  let cameraSubSeconds = camera?.hasSubSeconds ?? false;
  if (cameraLocal !== null && subSec && /^\d+$/.test(subSec) && !camera?.hasSubSeconds) {
    cameraLocal += Math.round(Number(`0.${subSec}`) * 1000);
    cameraSubSeconds = Number(subSec) > 0;
  }
  const g = gpsDateTime(gps.GPSDateStamp, gps.GPSTimeStamp);
  let gpsMs = g.ms;

  let offset: number | null = camera?.offsetMinutes ?? parseOffset(exif.OffsetTimeOriginal ?? exif.OffsetTimeDigitized ?? exif.OffsetTime);
  let offsetSource: PictureMetadata['cameraTimeOffsetSource'] = offset !== null ? 'exif' : null;
  if (cameraLocal !== null && offset === null && g.timeOfDayMs !== null) {
    // Local clock minus UTC clock is the offset (plus drift); compare times of day so that a
    // wrong GPS date cannot spoil it, then round to the quarter hour every zone uses.
    let d = ((((cameraLocal % DAY) - g.timeOfDayMs) % DAY) + DAY) % DAY;
    if (d >= 14 * 3600 * 1000) d -= DAY;
    offset = Math.round(d / QUARTER) * 15;
    offsetSource = 'gps';
  }
  let timeZone: string | null = null;
  if (cameraLocal !== null && offset === null && lat !== null && lon !== null) {
    // A naive camera clock is the local time of where the picture was taken.
    timeZone = timeZoneAt(lat, lon);
    if (timeZone) {
      offset = offsetOfLocalTime(timeZone, cameraLocal);
      offsetSource = 'position';
    }
  }
  if (cameraLocal !== null && offset === null) {
    offset = 0;
    offsetSource = 'assumed-utc';
  }
  const cameraMs = cameraLocal !== null && offset !== null ? cameraLocal - offset * 60_000 : null;

  if (gpsMs === null && g.timeOfDayMs !== null && cameraMs !== null) {
    // A time stamp without a date stamp: take the date that brings it nearest the camera clock.
    gpsMs = nearestByDays(Math.floor(cameraMs / DAY) * DAY + g.timeOfDayMs, cameraMs);
  } else if (gpsMs !== null && cameraMs !== null && Math.abs(gpsMs - cameraMs) > 12 * 3600 * 1000) {
    // Real files carry GPS date stamps off by a day (or a GPS week rollover) while the time of
    // day is right: keep the GPS time of day on the camera's date.
    const repaired = nearestByDays(gpsMs, cameraMs);
    warnings.push(`GPS date ${new Date(gpsMs).toISOString().slice(0, 10)} disagrees with the camera clock; used ${new Date(repaired).toISOString().slice(0, 10)}`);
    gpsMs = repaired;
  }

  let capturedAt: Date | null = null;
  let captureTimeSource: TimeSource | null = null;
  let gpsTime = gpsMs !== null ? new Date(gpsMs) : null;
  let cameraTime = cameraMs !== null ? new Date(cameraMs) : null;
  if (gpsTime && !(cameraTime && cameraSubSeconds && !g.hasSubSeconds)) {
    capturedAt = gpsTime;
    captureTimeSource = 'gps';
  } else if (cameraTime) {
    capturedAt = cameraTime;
    captureTimeSource = 'camera';
  }
  if (overrides.capturedAt) {
    // The uploader knows better than both clocks: split and sort on this time too.
    capturedAt = cameraTime = overrides.capturedAt;
    gpsTime = null;
    captureTimeSource = 'override';
  }

  // Orientation of the camera
  let heading: number | null = null;
  let headingSource: PictureMetadata['headingSource'] = null;
  const exifHeading = num(gps.GPSImgDirection);
  const gpanoHeading = num(gpano.PoseHeadingDegrees);
  const djiHeading = num(dji.GimbalYawDegree ?? dji.FlightYawDegree);
  let magneticDeclinationApplied: number | null = null;
  if (exifHeading !== null && exifHeading >= 0 && exifHeading <= 360) {
    heading = normalizeHeading(exifHeading);
    headingSource = 'exif';
    if (str(gps.GPSImgDirectionRef)?.toUpperCase() === 'M') {
      // Magnetic north: true north is the magnetic heading plus the declination of the place and date.
      const declination = lat !== null && lon !== null ? magneticDeclination(lat, lon, capturedAt ?? new Date()) : null;
      if (declination) {
        heading = normalizeHeading(exifHeading + declination.degrees);
        magneticDeclinationApplied = Math.round(declination.degrees * 100) / 100;
        if (declination.extrapolated) warnings.push('magnetic declination from the nearest World Magnetic Model date');
      } else {
        warnings.push('heading is from magnetic north and could not be corrected (no position)');
      }
    }
  } else if (gpanoHeading !== null) {
    heading = normalizeHeading(gpanoHeading);
    headingSource = 'xmp-gpano';
  } else if (djiHeading !== null) {
    heading = normalizeHeading(djiHeading);
    headingSource = 'xmp-dji';
  }
  const angle = (v: number | null, limit: number) => (v !== null && Math.abs(v) <= limit ? v : null);
  const pitch = angle(num(gpano.PosePitchDegrees) ?? num(dji.GimbalPitchDegree) ?? num(gps.GPSPitch), 90);
  const roll = angle(num(gpano.PoseRollDegrees) ?? num(dji.GimbalRollDegree) ?? num(gps.GPSRoll), 180);

  let altitude = num(gps.GPSAltitude);
  const altRef = gps.GPSAltitudeRef;
  const altRefValue = altRef instanceof Uint8Array ? altRef[0] : num(altRef);
  if (altitude !== null && altRefValue === 1) altitude = -altitude;
  altitude ??= num(dji.AbsoluteAltitude);

  // Projection
  const projectionType = str(gpano.ProjectionType)?.toLowerCase();
  const projection: Projection = projectionType === 'equirectangular' ? 'equirectangular' : 'perspective';
  let crop: PictureMetadata['crop'] = null;
  if (projection === 'equirectangular') {
    const c = {
      fullWidth: num(gpano.FullPanoWidthPixels),
      fullHeight: num(gpano.FullPanoHeightPixels),
      width: num(gpano.CroppedAreaImageWidthPixels),
      height: num(gpano.CroppedAreaImageHeightPixels),
      left: num(gpano.CroppedAreaLeftPixels),
      top: num(gpano.CroppedAreaTopPixels),
    };
    if (Object.values(c).every((v) => v !== null) && (c.width! < c.fullWidth! || c.height! < c.fullHeight!)) {
      crop = c as NonNullable<PictureMetadata['crop']>;
    }
  }

  const focal = num(exif.FocalLength);
  const focal35 = num(exif.FocalLengthIn35mmFormat ?? exif.FocalLengthIn35mmFilm);
  const positive = (v: number | null) => (v !== null && v > 0 ? v : null);
  return {
    lon,
    lat,
    capturedAt,
    captureTimeSource,
    gpsTime,
    cameraTime,
    cameraTimeOffset: offset !== null && cameraMs !== null ? formatOffset(offset) : null,
    cameraTimeOffsetSource: cameraMs !== null ? offsetSource : null,
    timeZone: cameraMs !== null ? timeZone : null,
    heading,
    headingSource,
    magneticDeclination: magneticDeclinationApplied,
    pitch,
    roll,
    altitude,
    relativeAltitude: num(dji.RelativeAltitude),
    make: str(ifd0.Make),
    model: str(ifd0.Model),
    focalLength: positive(focal),
    focalLength35mm: positive(focal35),
    gpsAccuracy: positive(num(gps.GPSHPositioningError)),
    gpsDop: positive(num(gps.GPSDOP)),
    projection,
    crop,
    warnings,
  };
}

function nearestByDays(ms: number, target: number): number {
  return ms + Math.round((target - ms) / DAY) * DAY;
}

/** Reads and normalises a picture's metadata. */
export async function readPictureMetadata(input: string | Buffer, overrides: MetadataOverrides = {}): Promise<PictureMetadata> {
  const { raw, error } = await readRawMetadata(input);
  const metadata = normalizeMetadata(raw, overrides);
  if (error) metadata.warnings.push(`metadata partly unreadable: ${error}`);
  return metadata;
}

/**
 * Horizontal field of view (degrees) of an upright picture from its 35 mm-equivalent focal
 * length. The equivalence is defined on the diagonal (43.27 mm), so the picture's own aspect
 * ratio gives the horizontal share; 360° for equirectangular pictures.
 */
export function fieldOfView(projection: Projection, focal35: number | null, width: number, height: number): number | null {
  if (projection === 'equirectangular') return 360;
  if (!focal35 || width <= 0 || height <= 0) return null;
  const horizontal = (43.267 * width) / Math.hypot(width, height);
  const fov = (2 * Math.atan(horizontal / (2 * focal35)) * 180) / Math.PI;
  return Math.round(fov * 10) / 10;
}

/** Which required fields a picture lacks to be placed on a map and in time. */
export function missingFields(m: Pick<PictureMetadata, 'lon' | 'lat' | 'capturedAt'>): ('location' | 'datetime')[] {
  const missing: ('location' | 'datetime')[] = [];
  if (m.lon === null || m.lat === null) missing.push('location');
  if (!m.capturedAt) missing.push('datetime');
  return missing;
}
