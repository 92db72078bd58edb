import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { TypedArray } from 'geotiff';

const inflateAsync = promisify(zlib.inflate);

type SampleArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
type SampleArrayConstructor = { new (length: number): SampleArray; new (buffer: ArrayBufferLike, byteOffset: number, length: number): SampleArray; BYTES_PER_ELEMENT: number };

/** The typed array geotiff.js reads a sample into (so that both ways of reading give the same arrays). */
export function sampleArrayType(format: number, bits: number): SampleArrayConstructor | null {
  if (format === 1) return bits === 8 ? Uint8Array : bits === 16 ? Uint16Array : bits === 32 ? Uint32Array : null;
  if (format === 2) return bits === 8 ? Int8Array : bits === 16 ? Int16Array : bits === 32 ? Int32Array : null;
  if (format === 3) return bits === 32 ? Float32Array : bits === 64 ? Float64Array : null;
  return null;
}

/**
 * The layout of an image whose blocks are read directly (without geotiff.js's per-pixel copy):
 * uncompressed or Deflate without predictor, every sample of one whole-byte type, in the
 * machine's byte order. Anything else goes through geotiff.js.
 */
export interface BlockLayout {
  width: number;
  height: number;
  blockWidth: number;
  blockHeight: number;
  across: number;
  down: number;
  tiled: boolean;
  /** Samples per pixel. */
  samples: number;
  /** One block per sample (PlanarConfiguration 2) rather than pixels interleaved. */
  planar: boolean;
  type: SampleArrayConstructor;
  compression: 'none' | 'deflate';
  /** Value of a sparse block (no bytes in the file): GDAL's nodata, else 0. */
  fill: number;
}

/** A decoded block: samples row by row (interleaved by pixel unless planar), `rows` rows from the top. */
export interface DecodedBlock {
  data: SampleArray;
  rows: number;
}

/** Samples per pixel within one block of the layout. */
export function blockStride(layout: BlockLayout): number {
  return layout.planar ? 1 : layout.samples;
}

/** Rows in block row `by` (a last strip may be shorter; tiles are always whole). */
export function blockRows(layout: BlockLayout, by: number): number {
  return layout.tiled ? layout.blockHeight : Math.min(layout.blockHeight, layout.height - by * layout.blockHeight);
}

function typed(layout: BlockLayout, bytes: Uint8Array, rows: number): SampleArray {
  const size = layout.type.BYTES_PER_ELEMENT;
  const count = rows * layout.blockWidth * blockStride(layout);
  if (bytes.byteOffset % size === 0) return new layout.type(bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(0, count * size));
  return new layout.type(copy.buffer, 0, count);
}

/**
 * Where blocks are read and inflated: through libuv's pool, off the JavaScript thread (`async`),
 * or on it (`sync`: for a render thread of its own, which then makes no trips to the pool; a
 * batch of samples takes a fifth less time). Reads over HTTP stay asynchronous either way.
 */
export type DecodeMode = 'async' | 'sync';

const inflateSync = (data: Uint8Array, options: zlib.ZlibOptions): Promise<Buffer> => {
  try {
    return Promise.resolve(zlib.inflateSync(data, options));
  } catch (error) {
    return Promise.reject(error as Error);
  }
};

/**
 * Decodes one block's bytes, at least its first `wanted` rows: Deflate data is inflated (by
 * zlib; off the JavaScript thread unless `mode` is `sync`) only as far as needed when the rows
 * wanted are few. `stored` null is a sparse block. Data too short for the rows wanted is an error.
 */
export async function decodeBlock(layout: BlockLayout, by: number, stored: Uint8Array | null, wanted: number, mode: DecodeMode = 'async'): Promise<DecodedBlock> {
  const inflate = mode === 'sync' ? inflateSync : inflateAsync;
  const total = blockRows(layout, by);
  const rowBytes = layout.blockWidth * blockStride(layout) * layout.type.BYTES_PER_ELEMENT;
  if (!stored) {
    const data = new layout.type(total * layout.blockWidth * blockStride(layout));
    if (layout.fill) data.fill(layout.fill);
    return { data, rows: total };
  }
  let bytes: Uint8Array;
  if (layout.compression === 'none') {
    bytes = new Uint8Array(stored); // its own copy: `stored` may be part of a larger read
  } else {
    bytes = new Uint8Array(0);
    const full = total * rowBytes;
    // A few rows of a large block: inflate about the share of the input they need (zlib hands back
    // what it could decode), and the whole block only if that fell short.
    if (wanted < total && stored.length > 4096) {
      const cut = Math.min(stored.length, Math.ceil((stored.length * wanted) / total) + (stored.length >> 4) + 1024);
      // Output in one piece: zlib's default 16 KiB chunks would each be a trip to its thread and a copy.
      const chunkSize = Math.max(zlib.constants.Z_MIN_CHUNK, Math.min(full, Math.ceil((full * cut) / stored.length) + 2 * rowBytes) + 1);
      bytes = await inflate(stored.subarray(0, cut), { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize }).catch(() => new Uint8Array(0));
    }
    // A damaged block could inflate to far more than a block: bounded.
    if (bytes.length < wanted * rowBytes) bytes = await inflate(stored, { chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, full + 1), maxOutputLength: 2 * full + 65536 });
  }
  const rows = Math.min(total, Math.floor(bytes.length / rowBytes));
  if (rows < wanted) throw new Error(`Offset is outside the bounds of the block: ${bytes.length} bytes decoded, ${wanted * rowBytes} needed`);
  return { data: typed(layout, bytes, rows), rows };
}

/** Where a block is read from, by byte ranges. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Groups byte ranges that lie close together in the file into single reads (a gap of at most
 * `gap` bytes read through, at most `maxRead` bytes a read). Returns the reads and, for each
 * range, which read holds it and where.
 */
export function mergeRanges(ranges: ByteRange[], gap: number, maxRead: number): { reads: ByteRange[]; at: { read: number; start: number }[] } {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.offset - ranges[b]!.offset);
  const reads: ByteRange[] = [];
  const at: { read: number; start: number }[] = new Array(ranges.length);
  for (const i of order) {
    const r = ranges[i]!;
    const last = reads[reads.length - 1];
    const end = last ? last.offset + last.length : -Infinity;
    if (last && r.offset - end <= gap && Math.max(end, r.offset + r.length) - last.offset <= maxRead) {
      last.length = Math.max(end, r.offset + r.length) - last.offset;
      at[i] = { read: reads.length - 1, start: r.offset - last.offset };
    } else {
      reads.push({ offset: r.offset, length: r.length });
      at[i] = { read: reads.length - 1, start: 0 };
    }
  }
  return { reads, at };
}

/**
 * Copies the part of a decoded block that falls in a window into per-band arrays (row-major over
 * the window). `plane`: the band of a planar block.
 */
export function copyBlockToWindow(
  layout: BlockLayout,
  block: DecodedBlock,
  bx: number,
  by: number,
  plane: number,
  out: TypedArray[],
  w: { x0: number; y0: number; x1: number; y1: number },
): void {
  const bw = layout.blockWidth;
  const left = bx * bw;
  const top = by * layout.blockHeight;
  const cx0 = Math.max(w.x0, left);
  const cx1 = Math.min(w.x1, left + bw, layout.width);
  const cy0 = Math.max(w.y0, top);
  const cy1 = Math.min(w.y1, top + block.rows);
  if (cx0 >= cx1 || cy0 >= cy1) return;
  const ww = w.x1 - w.x0;
  const data = block.data;
  const stride = blockStride(layout);
  const span = cx1 - cx0;
  for (let y = cy0; y < cy1; y++) {
    const dst = (y - w.y0) * ww + (cx0 - w.x0);
    const src = ((y - top) * bw + (cx0 - left)) * stride;
    if (stride === 1) {
      (out[plane] as SampleArray).set(data.subarray(src, src + span), dst);
      continue;
    }
    for (let b = 0; b < stride; b++) {
      const band = out[b]!;
      for (let i = 0, s = src + b, d = dst; i < span; i++, s += stride, d++) band[d] = data[s]!;
    }
  }
}
