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
  crop?: Record<string, number> | null;
  tiles?: { cols: number; rows: number; width: number; height: number } | null;
  overridden?: string[];
  warnings?: string[];
}

/** Asset hrefs are relative to `${PUBLIC_URL}/api/`; the STAC layer makes them absolute. */
export function pictureItemAssets(id: string): Record<string, Record<string, unknown>> {
  return {
    hd: { href: `pictures/${id}/hd.jpg`, type: 'image/jpeg', roles: ['data'], title: 'High-definition picture' },
    sd: { href: `pictures/${id}/sd.jpg`, type: 'image/jpeg', roles: ['visual'], title: 'Standard definition, 2048 px wide' },
    thumb: { href: `pictures/${id}/thumb.jpg`, type: 'image/jpeg', roles: ['thumbnail'], title: 'Thumbnail, 500 px wide' },
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
    'sightline:focal_length_35mm': m.focalLength35mm ?? undefined,
    'sightline:blurred': p.blurred || p.isBlurred,
    tiles: m.tiles ?? undefined,
  });
}
