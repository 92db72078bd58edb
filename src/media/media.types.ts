/** How a picture maps the world: a plain photo, or a 360° equirectangular panorama. */
export type Projection = 'perspective' | 'equirectangular';

/** What the header of an image file says, read without decoding the pixels. */
export interface ImageProbe {
  format: string;
  /** Stored pixel grid. */
  width: number;
  height: number;
  /** EXIF orientation, 1–8 (1 when absent). */
  orientation: number;
  /** Dimensions once the EXIF orientation is applied. */
  uprightWidth: number;
  uprightHeight: number;
}

/** Tile grid of a 360° picture (columns × rows of the upright, full-resolution image). */
export interface TileGrid {
  cols: number;
  rows: number;
  width: number;
  height: number;
}

export interface DerivedTile {
  col: number;
  row: number;
  data: Buffer;
}

/** The derivatives of one picture, encoded and upright. */
export interface Derivatives {
  sd: Buffer;
  thumb: Buffer;
  sdWidth: number;
  sdHeight: number;
  tiles?: { grid: TileGrid; tiles: DerivedTile[] };
}

/** A rectangle in pixels of the stored image (x, y from the top-left corner). */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The content itself is bad (not an image, truncated, corrupt, too many pixels): retrying cannot help. */
export class InvalidPictureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPictureError';
  }
}

export const SD_WIDTH = 2048;
export const THUMB_WIDTH = 500;
/** A 360° thumbnail is this centre crop of the panorama scaled to 2000 px wide (as Panoramax does). */
export const PANO_THUMB = { scaledWidth: 2000, width: 500, height: 300 } as const;
