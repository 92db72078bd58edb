import { Injectable, OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OverlayOptions, type Sharp, type SharpOptions } from 'sharp';
import { AppConfig } from '../config/app-config.js';
import { Derivatives, DerivedTile, ImageProbe, InvalidPictureError, PANO_THUMB, PixelBox, Projection, SD_WIDTH, THUMB_WIDTH } from './media.types.js';
import { stripPrivateMetadata, UnreadableJpegError } from './jpeg-metadata.js';
import { tileGrid, tileSpan } from './tiles.js';

const SD_QUALITY = 80;
const THUMB_QUALITY = 75;
const TILE_QUALITY = 90;

/** Errors of the system rather than of the file: worth a retry. */
const SYSTEM_ERROR = /\b(ENOENT|EMFILE|ENFILE|ENOSPC|EACCES|EIO|ENOMEM)\b/;

function asPictureError(error: unknown): Error {
  const message = (error as Error)?.message ?? String(error);
  if (SYSTEM_ERROR.test(message) || (error as NodeJS.ErrnoException)?.code) return error as Error;
  return new InvalidPictureError(message.split('\n')[0]!.replace(/^VipsJpeg: /, ''));
}

/**
 * Every image operation of the system (the only user of sharp): probing headers, derivatives
 * and region blurring. Plain values in and out; decoding is strict (`failOn: 'error'`), bounded
 * in pixels, honours EXIF orientation and never enlarges.
 */
@Injectable()
export class MediaService implements OnModuleInit {
  constructor(private readonly config: AppConfig) {}

  onModuleInit(): void {
    configureSharp(this.config);
  }

  private open(input: string | Buffer, extra: SharpOptions = {}): Sharp {
    return sharp(input, { failOn: 'error', limitInputPixels: this.config.PICTURE_MAX_PIXELS, ...extra });
  }

  /** Format, size and orientation from the header only (cheap); throws InvalidPictureError. */
  async probe(input: string | Buffer): Promise<ImageProbe> {
    let meta: Metadata;
    try {
      meta = await sharp(input, { failOn: 'none' }).metadata();
    } catch (error) {
      throw asPictureError(error);
    }
    if (!meta.width || !meta.height || !meta.format) throw new InvalidPictureError('Not a decodable image');
    if (meta.width * meta.height > this.config.PICTURE_MAX_PIXELS) {
      throw new InvalidPictureError(`${meta.width}×${meta.height} pixels is more than the limit of ${this.config.PICTURE_MAX_PIXELS}`);
    }
    const orientation = meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
    const swapped = orientation >= 5;
    return {
      format: meta.format,
      width: meta.width,
      height: meta.height,
      orientation,
      uprightWidth: swapped ? meta.height : meta.width,
      uprightHeight: swapped ? meta.width : meta.height,
    };
  }

  /** sd (2048 px wide), thumb (500 px wide, or the 500×300 centre of a 360°) and 360° tiles, upright. */
  async derive(input: string | Buffer, projection: Projection): Promise<Derivatives> {
    try {
      return projection === 'equirectangular' ? await this.derivePanorama(input) : await this.derivePerspective(input);
    } catch (error) {
      throw asPictureError(error);
    }
  }

  /**
   * A perspective picture's sd and thumb written by libvips straight to the files given: no
   * buffers in the JavaScript heap, and no second write. Their pixel size is returned.
   */
  async derivePerspectiveFiles(input: string | Buffer, files: { sd: string; thumb: string }): Promise<{ sdWidth: number; sdHeight: number }> {
    try {
      const info = await this.open(input).rotate().resize({ width: SD_WIDTH, withoutEnlargement: true }).jpeg({ quality: SD_QUALITY }).toFile(files.sd);
      await sharp(files.sd).resize({ width: THUMB_WIDTH, withoutEnlargement: true }).jpeg({ quality: THUMB_QUALITY }).toFile(files.thumb);
      return { sdWidth: info.width, sdHeight: info.height };
    } catch (error) {
      throw asPictureError(error);
    }
  }

  private async derivePerspective(input: string | Buffer): Promise<Derivatives> {
    const { data: sd, info } = await this.open(input)
      .rotate()
      .resize({ width: SD_WIDTH, withoutEnlargement: true })
      .jpeg({ quality: SD_QUALITY })
      .toBuffer({ resolveWithObject: true });
    // The thumbnail comes from the sd: JPEG shrink-on-load makes that decode almost free.
    const thumb = await sharp(sd).resize({ width: THUMB_WIDTH, withoutEnlargement: true }).jpeg({ quality: THUMB_QUALITY }).toBuffer();
    return { sd, thumb, sdWidth: info.width, sdHeight: info.height };
  }

  private async derivePanorama(input: string | Buffer): Promise<Derivatives> {
    // Decode once to raw pixels; every derivative and tile is cut from that buffer.
    const { data, info } = await this.open(input).rotate().raw().toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: info.channels } } as const;
    const fromRaw = () => sharp(data, raw);
    const { data: sd, info: sdInfo } = await fromRaw().resize({ width: SD_WIDTH, withoutEnlargement: true }).jpeg({ quality: SD_QUALITY }).toBuffer({ resolveWithObject: true });
    const scaledWidth = Math.min(PANO_THUMB.scaledWidth, info.width);
    const scaledHeight = Math.max(1, Math.round((info.height * scaledWidth) / info.width));
    const cropWidth = Math.min(PANO_THUMB.width, scaledWidth);
    const cropHeight = Math.min(PANO_THUMB.height, scaledHeight);
    const scaled = await fromRaw().resize({ width: scaledWidth, height: scaledHeight, fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const thumb = await sharp(scaled.data, { raw: { width: scaled.info.width, height: scaled.info.height, channels: scaled.info.channels } })
      .extract({
        left: Math.floor((scaledWidth - cropWidth) / 2),
        top: Math.floor((scaledHeight - cropHeight) / 2),
        width: cropWidth,
        height: cropHeight,
      })
      .jpeg({ quality: THUMB_QUALITY })
      .toBuffer();
    const grid = tileGrid(info.width, info.height);
    const tiles: DerivedTile[] = [];
    for (let row = 0; row < grid.rows; row++) {
      const y = tileSpan(info.height, grid.rows, row);
      for (let col = 0; col < grid.cols; col++) {
        const x = tileSpan(info.width, grid.cols, col);
        const tile = await fromRaw().extract({ left: x.start, top: y.start, width: x.length, height: y.length }).jpeg({ quality: TILE_QUALITY }).toBuffer();
        tiles.push({ col, row, data: tile });
      }
    }
    return { sd, thumb, sdWidth: sdInfo.width, sdHeight: sdInfo.height, tiles: { grid, tiles } };
  }

  /**
   * The JPEG without private metadata (GPS, serial numbers, names, maker notes, most XMP), its
   * compressed pixels untouched; a file whose structure cannot be rewritten is re-encoded
   * upright without metadata instead.
   */
  async withoutPrivateMetadata(input: string | Buffer): Promise<{ jpeg: Buffer; changed: boolean }> {
    const data = typeof input === 'string' ? await readFile(input) : input;
    const { orientation } = await this.probe(data);
    let jpeg: Buffer;
    try {
      jpeg = stripPrivateMetadata(data, orientation);
    } catch (error) {
      if (!(error instanceof UnreadableJpegError)) throw error;
      try {
        jpeg = await this.open(data).rotate().jpeg({ quality: 92 }).toBuffer();
      } catch (decodeError) {
        throw asPictureError(decodeError);
      }
    }
    return { jpeg, changed: !jpeg.equals(data) };
  }

  /** Checks that a buffer is a whole, decodable JPEG (used on what a blur service answers). */
  async assertDecodableJpeg(input: Buffer): Promise<ImageProbe> {
    const probe = await this.probe(input);
    if (probe.format !== 'jpeg') throw new InvalidPictureError(`Expected a JPEG, got ${probe.format}`);
    try {
      await this.open(input).resize({ width: 64 }).raw().toBuffer();
    } catch (error) {
      throw asPictureError(error);
    }
    return probe;
  }

  /**
   * Blurs rectangles of the stored pixel grid (a detector's boxes) and re-encodes at high
   * quality, keeping the metadata (orientation included) of the source.
   */
  async blurRegions(input: string | Buffer, boxes: PixelBox[]): Promise<Buffer> {
    try {
      const base = this.open(input);
      const meta = await base.metadata();
      const W = meta.width!;
      const H = meta.height!;
      const overlays: OverlayOptions[] = [];
      // The pixels are decoded once for every patch (not once per box), and once more to compose.
      let pixels: { data: Buffer; raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 } } | undefined;
      for (const b of boxes) {
        const left = Math.max(0, Math.floor(b.x));
        const top = Math.max(0, Math.floor(b.y));
        const width = Math.min(W - left, Math.ceil(b.width));
        const height = Math.min(H - top, Math.ceil(b.height));
        if (width <= 0 || height <= 0) continue;
        const sigma = Math.max(4, Math.min(width, height) / 6);
        if (!pixels) {
          const { data, info } = await this.open(input).raw().toBuffer({ resolveWithObject: true });
          pixels = { data, raw: { width: info.width, height: info.height, channels: info.channels } };
        }
        const patch = await sharp(pixels.data, { raw: pixels.raw }).extract({ left, top, width, height }).blur(sigma).raw().toBuffer({ resolveWithObject: true });
        overlays.push({ input: patch.data, raw: { width: patch.info.width, height: patch.info.height, channels: patch.info.channels }, left, top });
      }
      return await this.open(input).composite(overlays).keepMetadata().jpeg({ quality: 92 }).toBuffer();
    } catch (error) {
      throw asPictureError(error);
    }
  }
}

let configured = false;

/** Process-wide sharp settings: the worker decodes many distinct files, so libvips' cache only costs memory. */
export function configureSharp(config: Pick<AppConfig, 'SHARP_CONCURRENCY'>): void {
  if (configured) return;
  configured = true;
  sharp.cache(false);
  if (config.SHARP_CONCURRENCY > 0) sharp.concurrency(config.SHARP_CONCURRENCY);
}
