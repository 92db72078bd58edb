import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { type BlockLayout, copyBlockToWindow, decodeBlock, mergeRanges } from './block-reader.js';

const layout = (over: Partial<BlockLayout> = {}): BlockLayout => ({
  width: 600,
  height: 500,
  blockWidth: 256,
  blockHeight: 256,
  across: 3,
  down: 2,
  tiled: true,
  samples: 3,
  planar: false,
  type: Uint8Array,
  compression: 'deflate',
  fill: 0,
  ...over,
});

/** A block of noise (it compresses a little, as imagery does), interleaved RGB. */
function noise(bytes: number, seed = 1): Uint8Array {
  const out = new Uint8Array(bytes);
  let s = seed;
  for (let i = 0; i < bytes; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 24) & 0xf0;
  }
  return out;
}

describe('decodeBlock', () => {
  const l = layout();
  const raw = noise(256 * 256 * 3);
  const stored = deflateSync(raw);

  it('decodes a whole block', async () => {
    const block = await decodeBlock(l, 0, stored, 256);
    assert.equal(block.rows, 256);
    assert.deepEqual(Buffer.from(block.data.buffer, block.data.byteOffset, block.data.byteLength), Buffer.from(raw));
  });

  it('decodes at least the rows asked for, each as the whole decode has it', async () => {
    for (const wanted of [1, 17, 128, 255]) {
      const block = await decodeBlock(l, 0, stored, wanted);
      assert.ok(block.rows >= wanted && block.rows <= 256, `${block.rows} rows for ${wanted}`);
      const bytes = block.rows * 256 * 3;
      assert.deepEqual(Buffer.from(block.data.buffer, block.data.byteOffset, bytes), Buffer.from(raw.subarray(0, bytes)));
    }
  });

  it('fills a sparse block with the nodata value', async () => {
    const block = await decodeBlock(layout({ fill: 7, samples: 1, type: Uint16Array }), 1, null, 3);
    assert.equal(block.rows, 256);
    assert.equal(block.data.length, 256 * 256);
    assert.ok(block.data.every((v) => v === 7));
  });

  it('refuses data too short for the rows asked for', async () => {
    const short = deflateSync(raw.subarray(0, 256 * 3 * 10));
    assert.equal((await decodeBlock(l, 0, short, 10)).rows, 10);
    await assert.rejects(decodeBlock(l, 0, short, 11), /outside the bounds/);
    await assert.rejects(decodeBlock(l, 0, stored.subarray(0, 100), 256));
  });

  it('reads uncompressed 16-bit samples from any byte position', async () => {
    const l16 = layout({ compression: 'none', samples: 1, type: Uint16Array, tiled: false, width: 256, blockHeight: 2, across: 1, down: 250 });
    const values = Uint16Array.from({ length: 512 }, (_, i) => i * 100);
    const at = new Uint8Array(values.byteLength + 1);
    at.set(new Uint8Array(values.buffer), 1);
    const block = await decodeBlock(l16, 0, at.subarray(1), 2);
    assert.deepEqual(Array.from(block.data), Array.from(values));
  });
});

describe('mergeRanges', () => {
  it('reads ranges that lie close together at once, and finds each in its read', () => {
    const ranges = [
      { offset: 5000, length: 100 },
      { offset: 0, length: 100 },
      { offset: 150, length: 50 },
      { offset: 100_000, length: 10 },
    ];
    const { reads, at } = mergeRanges(ranges, 64, 1 << 20);
    assert.deepEqual(reads, [
      { offset: 0, length: 200 },
      { offset: 5000, length: 100 },
      { offset: 100_000, length: 10 },
    ]);
    assert.deepEqual(at, [
      { read: 1, start: 0 },
      { read: 0, start: 0 },
      { read: 0, start: 150 },
      { read: 2, start: 0 },
    ]);
  });

  it('keeps each read within the size limit', () => {
    const ranges = Array.from({ length: 10 }, (_, i) => ({ offset: i * 100, length: 100 }));
    const { reads } = mergeRanges(ranges, 1000, 300);
    assert.ok(reads.every((r) => r.length <= 300));
    assert.equal(
      reads.reduce((t, r) => t + r.length, 0),
      1000,
    );
  });
});

describe('copyBlockToWindow', () => {
  it('copies the part of an interleaved block inside a window into one array per band', () => {
    const l = layout({ compression: 'none', width: 4, height: 4, blockWidth: 2, blockHeight: 2, across: 2, down: 2 });
    // Block (1, 0): pixels (2..3, 0..1); band b of pixel (x, y) is 100·b + 10·y + x.
    const data = new Uint8Array(2 * 2 * 3);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) for (let b = 0; b < 3; b++) data[(y * 2 + x) * 3 + b] = 100 * b + 10 * y + (x + 2);
    const out = [new Uint8Array(6), new Uint8Array(6), new Uint8Array(6)];
    copyBlockToWindow(l, { data, rows: 2 }, 1, 0, 0, out, { x0: 1, y0: 1, x1: 4, y1: 3 });
    // Window 3 × 2 from (1, 1): only row 1 of the block falls inside, columns 2 and 3.
    assert.deepEqual(Array.from(out[0]!), [0, 12, 13, 0, 0, 0]);
    assert.deepEqual(Array.from(out[2]!), [0, 212, 213, 0, 0, 0]);
  });
});
