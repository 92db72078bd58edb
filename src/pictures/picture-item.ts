import { PANO_THUMB, SD_WIDTH, THUMB_WIDTH } from '../media/media.types.js';
import type { Picture } from './picture.entity.js';

/** What the pipeline keeps in `picture.metadata` (normalised EXIF/XMP and derived values). */
export interface StoredPictureMetadata {
  make?: string | null;
  model?: string | null;
  focalLength?: number | null;
  focalLength35mm?: number | null;
  fieldOfView?: number | null;
  pitch?: number | null;
  roll?: number | null;
  altitude?: number | null;
  relativeAltitude?: number | null;
  gpsAccuracy?: number | null;
  gpsDop?: number | null;
  headingSource?: string | null;
  captureTimeSource?: string | null;
  cameraTimeOffset?: string | null;
  cameraTimeOffsetSource?: string | null;
  timeZone?: string | null;
  magneticDeclination?: number | null;
  crop?: Record<string, number> | null;
  tiles?: { cols: number; rows: number; width: number; height: number } | null;
  overridden?: string[];
  warnings?: string[];
}

/** Pixel size of a derivative, as MediaService makes it (never enlarged). */
export function derivativeSize(p: Pick<Picture, 'width' | 'height' | 'projection'>, variant: 'hd' | 'sd' | 'thumb'): { width: number; height: number } {
  const scaled = (maxWidth: number) => {
    const width = Math.min(maxWidth, p.width);
    return { width, height: Math.max(1, Math.round((p.height * width) / p.width)) };
  };
  if (variant === 'hd') return { width: p.width, height: p.height };
  if (variant === 'sd') return scaled(SD_WIDTH);
  if (p.projection === 'equirectangular') {
    // The centre of the picture scaled to PANO_THUMB.scaledWidth wide.
    const around = scaled(PANO_THUMB.scaledWidth);
    return { width: Math.min(PANO_THUMB.width, around.width), height: Math.min(PANO_THUMB.height, around.height) };
  }
  const sd = scaled(SD_WIDTH);
  const width = Math.min(THUMB_WIDTH, sd.width);
  return { width, height: Math.max(1, Math.round((sd.height * width) / sd.width)) };
}

/**
 * The STAC assets of a picture: the picture itself (`data`), a smaller copy (`data` too: it has no
 * map position, so no map-display role) and a thumbnail, each titled with its true size. Hrefs are
 * relative to `${PUBLIC_URL}/api/`; the STAC layer makes them absolute.
 */
export function pictureItemAssets(p: Pick<Picture, 'id' | 'width' | 'height' | 'projection'>): Record<string, Record<string, unknown>> {
  const size = (variant: 'hd' | 'sd' | 'thumb') => {
    const { width, height } = derivativeSize(p, variant);
    return { text: `${width} × ${height} px` };
  };
  const [hd, sd, thumb] = [size('hd'), size('sd'), size('thumb')];
  const label = p.projection === 'equirectangular' ? '360° picture' : 'Picture';
  return {
    hd: { href: `pictures/${p.id}/hd.jpg`, type: 'image/jpeg', roles: ['data'], title: `${label}, full resolution (${hd.text})` },
    sd: { href: `pictures/${p.id}/sd.jpg`, type: 'image/jpeg', roles: ['data'], title: `${label}, standard definition (${sd.text})` },
    thumb: {
      href: `pictures/${p.id}/thumb.jpg`,
      type: 'image/jpeg',
      roles: ['thumbnail'],
      title: p.projection === 'equirectangular' ? `Thumbnail, the centre of the view (${thumb.text})` : `Thumbnail (${thumb.text})`,
    },
  };
}

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;

/**
 * STAC properties of a picture item: `view:azimuth`, the camera as perspective-imagery
 * interior orientation, and `sightline:` fields for what no extension covers (pitch and roll
 * are not perspective-imagery fields). `heading` is the final one (recorded or computed).
 */
export function pictureItemProperties(
  p: Pick<Picture, 'width' | 'height' | 'projection' | 'blurred' | 'isBlurred' | 'metadata'>,
  heading: { value: number | null; source: 'exif' | 'computed' | null },
): Record<string, unknown> {
  const m = p.metadata as StoredPictureMetadata;
  const interior = defined({
    camera_manufacturer: m.make ?? undefined,
    camera_model: m.model ?? undefined,
    focal_length: m.focalLength && m.focalLength > 0 ? m.focalLength : undefined,
    field_of_view: m.fieldOfView && m.fieldOfView > 0 && m.fieldOfView <= 360 ? m.fieldOfView : undefined,
    sensor_array_dimensions: [p.width, p.height],
  });
  return defined({
    'view:azimuth': heading.value === null ? undefined : heading.value % 360,
    'pers:interior_orientation': interior,
    'sightline:projection': p.projection,
    'sightline:heading_source': heading.source ?? undefined,
    'sightline:pitch': m.pitch ?? undefined,
    'sightline:roll': m.roll ?? undefined,
    'sightline:altitude': m.altitude ?? undefined,
    'sightline:relative_altitude': m.relativeAltitude ?? undefined,
    'sightline:gps_accuracy': m.gpsAccuracy ?? undefined,
    'sightline:gps_dop': m.gpsDop ?? undefined,
    'sightline:capture_time_source': m.captureTimeSource ?? undefined,
    // A camera clock's offset from UTC, and how it was known (exif, gps, position: the time zone of the place).
    ...(m.captureTimeSource === 'camera'
      ? { 'sightline:camera_time_offset': m.cameraTimeOffset ?? undefined, 'sightline:camera_time_offset_source': m.cameraTimeOffsetSource ?? undefined }
      : {}),
    'sightline:time_zone': m.captureTimeSource === 'camera' ? (m.timeZone ?? undefined) : undefined,
    // The camera gave a magnetic heading: view:azimuth is true north, this declination added.
    'sightline:magnetic_declination': heading.source === 'exif' ? (m.magneticDeclination ?? undefined) : undefined,
    'sightline:focal_length_35mm': m.focalLength35mm ?? undefined,
    'sightline:blurred': p.blurred || p.isBlurred,
    tiles: m.tiles ?? undefined,
  });
}
