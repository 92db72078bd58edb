import type { DroneMediaKind } from '../drone-media.entity.js';

/** Where a workspace's pilots upload straight to the bucket (DJI Pilot 2 with temporary credentials). */
export function uploadPrefix(workspaceId: string): string {
  return `drones/uploads/${workspaceId}/`;
}

/** A file name safe as the last segment of a storage key (letters, digits, `._-`), keeping its extension. */
export function safeFileName(name: string | null | undefined): string {
  const base = String(name ?? '')
    .split(/[\\/]/)
    .pop()!
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-120);
  return base || 'file';
}

/** Where Sightline keeps a media file. */
export function mediaKey(workspaceId: string, mediaId: string, name: string): string {
  return `drones/media/${workspaceId}/${mediaId}/${safeFileName(name)}`;
}

const VIDEO = /\.(mp4|mov|m4v|avi|mkv|ts)$/i;

/** A photo is a JPEG (by its first bytes); a video by its extension or MP4/MOV signature; anything else is `other`. */
export function mediaKind(name: string, head: Buffer): DroneMediaKind {
  const jpeg = head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
  if (jpeg) return 'photo';
  const isoBmff = head.length >= 8 && head.subarray(4, 8).toString('latin1') === 'ftyp';
  if (isoBmff || VIDEO.test(name)) return 'video';
  return 'other';
}

export function contentType(name: string, kind: DroneMediaKind): string {
  if (kind === 'photo') return 'image/jpeg';
  if (/\.mov$/i.test(name)) return 'video/quicktime';
  if (kind === 'video') return 'video/mp4';
  if (/\.srt$/i.test(name)) return 'text/plain';
  return 'application/octet-stream';
}

const num = (v: unknown): number | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v.trim()))) return Number(v.trim());
  return null;
};

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);

/**
 * A time as DJI senders write it: ISO 8601, `YYYY-MM-DD hh:mm:ss` (taken as UTC), or epoch
 * seconds or milliseconds (as a number or a string). Null when it is none of these.
 */
export function parseDjiTime(v: unknown): Date | null {
  const n = num(v);
  if (n !== null) {
    const ms = n > 1e12 ? n : n > 1e9 ? n * 1000 : NaN;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const s = str(v);
  if (!s) return null;
  const m = /^(\d{4})[-:/](\d{2})[-:/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}${m[8] ? (m[8] === 'Z' ? 'Z' : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]) : 'Z'}`;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** What a pilot app says about a file (DJI's fast-upload / upload-callback bodies, OpenFlightHub's fields), read leniently. */
export interface SenderFacts {
  fingerprint: string | null;
  tinyFingerprint: string | null;
  name: string | null;
  path: string | null;
  objectKey: string | null;
  sn: string | null;
  droneModelKey: string | null;
  payloadModelKey: string | null;
  isOriginal: boolean | null;
  fileGroupId: string | null;
  createdTime: Date | null;
  shootPosition: { lon: number; lat: number } | null;
  absoluteAltitude: number | null;
  relativeAltitude: number | null;
  gimbalYaw: number | null;
  /** DJI's `result`: 0 = the upload succeeded. */
  result: number | null;
  subFileType: number | null;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Reads a DJI media body (or form fields): `tinny_fingerprint` (DJI's spelling) or `tiny_fingerprint`, `created_time` or `create_time`, numbers as strings. */
export function senderFacts(body: unknown): SenderFacts {
  const b = obj(body);
  const ext = obj(b.ext);
  const meta = obj(b.metadata);
  const shoot = obj(meta.shoot_position);
  const lat = num(shoot.lat ?? shoot.latitude);
  const lon = num(shoot.lng ?? shoot.lon ?? shoot.longitude);
  const bool = (v: unknown) => (typeof v === 'boolean' ? v : v === 'true' || v === 1 || v === '1' ? true : v === 'false' || v === 0 || v === '0' ? false : null);
  return {
    fingerprint: str(b.fingerprint),
    tinyFingerprint: str(ext.tinny_fingerprint ?? ext.tiny_fingerprint ?? b.tinny_fingerprint ?? b.tiny_fingerprint),
    name: str(b.name),
    path: str(b.path),
    objectKey: str(b.object_key),
    sn: str(ext.sn ?? b.drone_sn ?? b.sn),
    droneModelKey: str(ext.drone_model_key),
    payloadModelKey: str(ext.payload_model_key),
    isOriginal: bool(ext.is_original),
    fileGroupId: str(ext.file_group_id),
    createdTime: parseDjiTime(meta.created_time ?? meta.create_time ?? b.created_time ?? b.create_time),
    // 0,0 is a receiver without a fix.
    shootPosition: lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0) ? { lon, lat } : null,
    absoluteAltitude: num(meta.absolute_altitude),
    relativeAltitude: num(meta.relative_altitude),
    gimbalYaw: num(meta.gimbal_yaw_degree),
    result: num(b.result),
    subFileType: num(b.sub_file_type),
  };
}

/** DJI device model keys (`domain-type-sub_type`) of aircraft, as DJI's Cloud API lists them. */
const AIRCRAFT: Record<string, string> = {
  '0-60-0': 'Matrice 300 RTK',
  '0-67-0': 'Matrice 30',
  '0-67-1': 'Matrice 30T',
  '0-77-0': 'Mavic 3 Enterprise',
  '0-77-1': 'Mavic 3 Thermal',
  '0-89-0': 'Matrice 350 RTK',
  '0-91-0': 'Matrice 3D',
  '0-91-1': 'Matrice 3TD',
};

export function aircraftName(modelKey: string | null): string | null {
  return modelKey ? (AIRCRAFT[modelKey] ?? null) : null;
}
