import { dms, readRawMetadata } from '../media/picture-metadata.js';
import type { GroundCoverageInput } from './ground-coverage.js';

/**
 * DJI drone metadata of a photo: the `drone-dji` XMP namespace (gimbal and aircraft attitude,
 * altitudes, RTK) with the EXIF fields a footprint needs. Absent fields are null.
 */
export interface DjiMetadata {
  /** The photo carries DJI's drone XMP (an attitude or an altitude in the drone-dji namespace). */
  isDjiDrone: boolean;
  make: string | null;
  model: string | null;
  /** EXIF DateTimeOriginal as written (`YYYY:MM:DD hh:mm:ss`, the camera's local clock, no offset). */
  dateTimeOriginal: string | null;
  /** Gimbal attitude, degrees: pitch −90 nadir … 0 horizon; yaw from true north, −180…180. */
  gimbalPitch: number | null;
  gimbalYaw: number | null;
  gimbalRoll: number | null;
  /** Aircraft attitude, degrees. */
  flightPitch: number | null;
  flightYaw: number | null;
  flightRoll: number | null;
  /** Metres above the take-off point. */
  relativeAltitude: number | null;
  /** Metres, as the aircraft reports it (above sea level or the ellipsoid, depending on firmware). */
  absoluteAltitude: number | null;
  /** Degrees (WGS 84): from drone-dji GpsLatitude/GpsLongitude, else from EXIF GPS. */
  lat: number | null;
  lon: number | null;
  positionSource: 'xmp-dji' | 'exif' | null;
  /** EXIF GPSAltitude, metres (negative below sea level). */
  gpsAltitude: number | null;
  /** RTK solution: 0 none, 16 single point, 34 float, 50 fixed. */
  rtkFlag: number | null;
  /** Calibrated focal length in pixels (DJI enterprise cameras). */
  calibratedFocalLength: number | null;
  /** The camera (or gimbal) is mounted upside down. */
  camReverse: boolean | null;
  gimbalReverse: boolean | null;
  /** mm. */
  focalLength: number | null;
  focalLength35mm: number | null;
  /** Pixels: the JPEG frame's size when the buffer holds it, else EXIF's. */
  imageWidth: number | null;
  imageHeight: number | null;
  /** Things found odd and worked around (an unreadable segment, a 0,0 position ignored…). */
  warnings: string[];
}

/** A DJI camera whose sensor size is known. */
export interface DjiCamera {
  /** EXIF Model. */
  model: string;
  name: string;
  /** Whole sensor, landscape, mm. */
  sensorWidth: number;
  sensorHeight: number;
  /** Nominal focal length, mm: tells apart the cameras of one payload that share a model name. */
  focalLength?: number;
}

/**
 * Sensor sizes of DJI cameras (EXIF Model → mm), from DJI's specifications: the optical format, or
 * pixel count × pixel pitch where DJI gives it.
 */
export const DJI_CAMERAS: readonly DjiCamera[] = [
  { model: 'FC300S', name: 'Phantom 3 Advanced', sensorWidth: 6.17, sensorHeight: 4.55 },
  { model: 'FC300X', name: 'Phantom 3 Professional', sensorWidth: 6.17, sensorHeight: 4.55 },
  { model: 'FC330', name: 'Phantom 4', sensorWidth: 6.17, sensorHeight: 4.55 },
  { model: 'FC220', name: 'Mavic Pro', sensorWidth: 6.17, sensorHeight: 4.55 },
  { model: 'FC6310', name: 'Phantom 4 Pro', sensorWidth: 13.2, sensorHeight: 8.8 },
  { model: 'FC6310S', name: 'Phantom 4 Pro V2.0', sensorWidth: 13.2, sensorHeight: 8.8 },
  { model: 'FC6310R', name: 'Phantom 4 RTK', sensorWidth: 13.2, sensorHeight: 8.8 },
  { model: 'L1D-20c', name: 'Mavic 2 Pro', sensorWidth: 13.2, sensorHeight: 8.8 },
  { model: 'FC3411', name: 'Air 2S', sensorWidth: 13.2, sensorHeight: 8.8 },
  // 1/2" 48 MP: 8000 × 6000 pixels of 0.8 µm.
  { model: 'FC3170', name: 'Mavic Air 2', sensorWidth: 6.4, sensorHeight: 4.8 },
  { model: 'FC7303', name: 'Mini 2', sensorWidth: 6.17, sensorHeight: 4.55 },
  { model: 'M3E', name: 'Mavic 3 Enterprise (wide)', sensorWidth: 17.3, sensorHeight: 13.0 },
  // Zenmuse H20T: 12 MP wide camera (4056 × 3040 pixels of 1.55 µm) and 640 × 512 thermal camera (12 µm).
  { model: 'ZH20T', name: 'Zenmuse H20T (wide)', sensorWidth: 6.29, sensorHeight: 4.71, focalLength: 4.5 },
  { model: 'ZH20T', name: 'Zenmuse H20T (thermal)', sensorWidth: 7.68, sensorHeight: 6.144, focalLength: 13.5 },
];

type Dict = Record<string, unknown>;

/** A number from a number or a string such as "+45.00". */
const num = (v: unknown): number | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v.trim()))) return Number(v.trim());
  return null;
};

const str = (v: unknown): string | null => {
  if (typeof v !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const s = v.replace(/\u0000/g, '').trim();
  return s.length ? s : null;
};

const flag = (v: unknown): boolean | null => {
  if (typeof v === 'boolean') return v;
  const n = num(v);
  if (n !== null) return n !== 0;
  const s = str(v)?.toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : null;
};

const section = (raw: Dict | undefined, key: string): Dict => {
  const v = raw?.[key];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Dict) : {};
};

const DRONE_FIELDS = [
  'GimbalPitchDegree',
  'GimbalYawDegree',
  'GimbalRollDegree',
  'FlightPitchDegree',
  'FlightYawDegree',
  'FlightRollDegree',
  'RelativeAltitude',
  'AbsoluteAltitude',
];

/**
 * Normalises raw metadata as `readRawMetadata` of src/media gives it (exifr sections, raw values)
 * into DJI drone metadata. Pure.
 */
export function djiMetadataFromRaw(raw: Dict | undefined, frame: { width: number; height: number } | null = null): DjiMetadata {
  const ifd0 = section(raw, 'ifd0');
  const exif = section(raw, 'exif');
  const gps = section(raw, 'gps');
  const dji = section(raw, 'drone-dji');
  const warnings: string[] = [];
  // exifr reports a segment it could not reach (a head cut short) here instead of throwing.
  const errors = raw?.errors;
  if (Array.isArray(errors)) for (const e of errors) warnings.push(`metadata partly unreadable: ${e instanceof Error ? e.message : String(e)}`);

  let lat = num(dji.GpsLatitude ?? dji.GPSLatitude);
  // "GpsLongtitude" is how some DJI firmware spells it.
  let lon = num(dji.GpsLongitude ?? dji.GPSLongitude ?? dji.GpsLongtitude);
  let positionSource: DjiMetadata['positionSource'] = 'xmp-dji';
  if (!validPosition(lat, lon)) {
    if (lat !== null || lon !== null) warnings.push(`drone-dji position ${lat},${lon} ignored`);
    lat = dms(gps.GPSLatitude, gps.GPSLatitudeRef, 'S');
    lon = dms(gps.GPSLongitude, gps.GPSLongitudeRef, 'W');
    positionSource = 'exif';
    if (!validPosition(lat, lon)) {
      if (lat !== null || lon !== null) warnings.push(`EXIF GPS position ${lat},${lon} ignored`);
      lat = lon = null;
      positionSource = null;
    }
  }

  let gpsAltitude = num(gps.GPSAltitude);
  const altRef = gps.GPSAltitudeRef;
  if (gpsAltitude !== null && (altRef instanceof Uint8Array ? altRef[0] : num(altRef)) === 1) gpsAltitude = -gpsAltitude;

  const positive = (v: unknown) => {
    const n = num(v);
    return n !== null && n > 0 ? n : null;
  };
  return {
    isDjiDrone: DRONE_FIELDS.some((k) => num(dji[k]) !== null),
    make: str(ifd0.Make),
    model: str(ifd0.Model),
    dateTimeOriginal: str(exif.DateTimeOriginal),
    gimbalPitch: num(dji.GimbalPitchDegree),
    gimbalYaw: num(dji.GimbalYawDegree),
    gimbalRoll: num(dji.GimbalRollDegree),
    flightPitch: num(dji.FlightPitchDegree),
    flightYaw: num(dji.FlightYawDegree),
    flightRoll: num(dji.FlightRollDegree),
    relativeAltitude: num(dji.RelativeAltitude),
    absoluteAltitude: num(dji.AbsoluteAltitude),
    lat,
    lon,
    positionSource,
    gpsAltitude,
    rtkFlag: num(dji.RtkFlag),
    calibratedFocalLength: positive(dji.CalibratedFocalLength),
    camReverse: flag(dji.CamReverse),
    gimbalReverse: flag(dji.GimbalReverse),
    focalLength: positive(exif.FocalLength),
    focalLength35mm: positive(exif.FocalLengthIn35mmFormat ?? exif.FocalLengthIn35mmFilm),
    imageWidth: frame?.width ?? positive(exif.ExifImageWidth ?? ifd0.ImageWidth),
    imageHeight: frame?.height ?? positive(exif.ExifImageHeight ?? ifd0.ImageHeight),
    warnings,
  };
}

function validPosition(lat: number | null, lon: number | null): boolean {
  // A receiver without a fix writes 0,0.
  return lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0);
}

/**
 * Reads the DJI drone metadata of a JPEG. `head` must hold at least every segment before the
 * image data (what `readJpegHeader` of src/media returns); the whole file works too. Never throws.
 */
export async function readDjiMetadata(head: Buffer): Promise<DjiMetadata> {
  const { raw, error } = await readRawMetadata(head);
  const metadata = djiMetadataFromRaw(raw, jpegFrameSize(head));
  if (error) metadata.warnings.push(`metadata partly unreadable: ${error}`);
  return metadata;
}

/** Width and height of a JPEG's frame (its SOF segment), or null when the buffer does not reach it. */
export function jpegFrameSize(data: Buffer): { width: number; height: number } | null {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return null;
  let position = 2;
  while (position + 4 <= data.length) {
    if (data[position] !== 0xff) return null;
    const type = data[position + 1]!;
    if (type === 0xff) {
      position += 1;
      continue;
    }
    if (type === 0xda || type === 0xd9) return null;
    const size = data.readUInt16BE(position + 2);
    // SOF0…SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
    if (type >= 0xc0 && type <= 0xcf && type !== 0xc4 && type !== 0xc8 && type !== 0xcc) {
      if (position + 9 > data.length) return null;
      const height = data.readUInt16BE(position + 5);
      const width = data.readUInt16BE(position + 7);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    position += 2 + size;
  }
  return null;
}

/**
 * The known camera for a model: the only one of that name, or among several (one payload's
 * cameras) the one whose nominal focal length is within 15 % of the photo's.
 */
export function findDjiCamera(model: string | null, focalLength: number | null): DjiCamera | null {
  if (!model) return null;
  const candidates = DJI_CAMERAS.filter((c) => c.model.toLowerCase() === model.toLowerCase());
  if (candidates.length === 1) return candidates[0]!;
  if (focalLength === null) return null;
  return candidates.find((c) => c.focalLength !== undefined && Math.abs(c.focalLength - focalLength) <= 0.15 * c.focalLength) ?? null;
}

export type DjiGroundCoverageInput =
  { ok: true; input: GroundCoverageInput; sensorSource: 'camera-table' | 'focal-length-35mm'; camera: DjiCamera | null } | { ok: false; reason: string };

/**
 * The ground coverage input of a DJI photo: position, height above take-off, gimbal attitude
 * (the aircraft's yaw when the gimbal's is absent) and the sensor from the camera table, else
 * from the 35 mm equivalent focal length; or the reason it cannot be had.
 */
export function djiGroundCoverageInput(m: DjiMetadata): DjiGroundCoverageInput {
  const yaw = m.gimbalYaw ?? m.flightYaw;
  const missing = [
    m.lat === null || m.lon === null ? 'position (GPS)' : null,
    m.relativeAltitude === null ? 'height above take-off (drone-dji RelativeAltitude)' : null,
    m.gimbalPitch === null ? 'gimbal pitch (drone-dji GimbalPitchDegree)' : null,
    yaw === null ? 'yaw (drone-dji GimbalYawDegree or FlightYawDegree)' : null,
    m.focalLength === null ? 'focal length (EXIF FocalLength)' : null,
    m.imageWidth === null || m.imageHeight === null ? 'image size' : null,
  ].filter((x): x is string => x !== null);
  if (missing.length) return { ok: false, reason: `no ground coverage without ${missing.join(', ')}` };
  if (m.relativeAltitude! <= 0)
    return { ok: false, reason: `the camera is not above its take-off point (RelativeAltitude ${m.relativeAltitude} m): no ground below it to cast onto` };
  if (m.camReverse) return { ok: false, reason: 'the camera is mounted upside down (drone-dji CamReverse): its image orientation is not known' };

  const camera = findDjiCamera(m.model, m.focalLength);
  if (!camera && m.focalLength35mm === null) {
    return { ok: false, reason: `sensor size unknown: camera model ${m.model ?? '(none)'} is not in the table and the photo has no 35 mm equivalent focal length` };
  }
  return {
    ok: true,
    camera,
    sensorSource: camera ? 'camera-table' : 'focal-length-35mm',
    input: {
      lon: m.lon!,
      lat: m.lat!,
      height: m.relativeAltitude!,
      yaw: yaw!,
      pitch: m.gimbalPitch!,
      roll: m.gimbalRoll ?? 0,
      focalLength: m.focalLength!,
      sensorWidth: camera?.sensorWidth ?? null,
      sensorHeight: camera?.sensorHeight ?? null,
      focalLength35mm: m.focalLength35mm,
      imageWidth: m.imageWidth!,
      imageHeight: m.imageHeight!,
    },
  };
}
