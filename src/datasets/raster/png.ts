import sharp from 'sharp';
import type { RenderedImage } from './render.js';

/** Encodes a rendered RGBA image as PNG (RGB when nothing is transparent). */
export async function encodePng(image: RenderedImage): Promise<Buffer> {
  let pipeline = sharp(Buffer.from(image.rgba.buffer, image.rgba.byteOffset, image.rgba.byteLength), {
    raw: { width: image.width, height: image.height, channels: 4 },
  });
  if (image.opaque) pipeline = pipeline.removeAlpha();
  return pipeline.png({ compressionLevel: 6, adaptiveFiltering: true }).toBuffer();
}
