import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { encodePng } from './png.js';

/** A deterministic image: noise, smooth gradients and flat areas, as imagery and maps have. */
function image(width: number, height: number, transparent: boolean): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  let seed = width * 7919 + height;
  const noise = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) >>> 24) & 31;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const flat = x < width / 3;
      rgba[o] = flat ? 200 : (x * 3 + noise()) & 255;
      rgba[o + 1] = flat ? 200 : (y * 5 + noise()) & 255;
      rgba[o + 2] = flat ? 10 : (x + y + noise()) & 255;
      rgba[o + 3] = transparent && (x + y) % 5 === 0 ? 0 : transparent && x % 3 === 0 ? 128 : 255;
    }
  }
  return rgba;
}

/** The PNG decoded by libvips, as RGBA. */
async function decode(png: Buffer): Promise<{ channels: number; width: number; height: number; rgba: Buffer }> {
  const meta = await sharp(png).metadata();
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { channels: meta.channels!, width: info.width, height: info.height, rgba: data };
}

describe('encodePng', () => {
  for (const [width, height] of [
    [1, 1],
    [7, 3],
    [3, 7],
    [256, 256],
    [513, 97],
  ] as const) {
    it(`writes an opaque ${width}×${height} image as RGB that libvips decodes to the same pixels`, async () => {
      const rgba = image(width, height, false);
      const decoded = await decode(await encodePng({ width, height, rgba, opaque: true }));
      assert.equal(decoded.channels, 3);
      assert.deepEqual([decoded.width, decoded.height], [width, height]);
      assert.ok(decoded.rgba.equals(Buffer.from(rgba)), 'pixels differ');
    });

    it(`writes a ${width}×${height} image with transparency as RGBA, alpha kept`, async () => {
      const rgba = image(width, height, true);
      const decoded = await decode(await encodePng({ width, height, rgba, opaque: false }));
      assert.equal(decoded.channels, 4);
      assert.ok(decoded.rgba.equals(Buffer.from(rgba)), 'pixels differ');
    });
  }

  it('keeps a flat or fully transparent tile small', async () => {
    const empty = await encodePng({ width: 256, height: 256, rgba: new Uint8Array(256 * 256 * 4), opaque: false });
    assert.ok(empty.length < 1024, `${empty.length} bytes`);
    const flat = new Uint8Array(256 * 256 * 4).fill(180);
    assert.ok((await encodePng({ width: 256, height: 256, rgba: flat, opaque: true })).length < 1024);
  });

  it('reads pixels from a view into a larger buffer', async () => {
    const whole = image(16, 8, false);
    const backing = new Uint8Array(whole.length + 64);
    backing.set(whole, 32);
    const view = backing.subarray(32, 32 + whole.length);
    const decoded = await decode(await encodePng({ width: 16, height: 8, rgba: view, opaque: true }));
    assert.ok(decoded.rgba.equals(Buffer.from(whole)));
  });
});
