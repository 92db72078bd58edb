import sharp from 'sharp';

/** Raw RGBA pixels, row by row. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array | Uint8ClampedArray;
  /** True when every pixel is opaque: the PNG is then written without alpha. */
  opaque: boolean;
}

/** Encodes an RGBA image as PNG (RGB when nothing is transparent). */
export async function encodePng(image: RgbaImage): Promise<Buffer> {
  let pipeline = sharp(Buffer.from(image.rgba.buffer, image.rgba.byteOffset, image.rgba.byteLength), {
    raw: { width: image.width, height: image.height, channels: 4 },
  });
  if (image.opaque) pipeline = pipeline.removeAlpha();
  return pipeline.png({ compressionLevel: 6, adaptiveFiltering: true }).toBuffer();
}
