import { randomUUID } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ZSTDDecoder } from 'zstddec';
import {
  addDecoder,
  BaseClient,
  BaseDecoder,
  BaseResponse,
  type BlockedSourceOptions,
  fromCustomClient,
  fromFile,
  fromUrl,
  type GeoTIFF,
  type GeoTIFFImage,
  type RemoteSourceOptions,
  type TypedArray,
} from 'geotiff';
import { type Affine, invertAffine, nativeBounds, pixelSize } from './affine.js';
import { type AcquisitionTime, acquisitionTime } from './acquisition-time.js';
import { crsFromGeoKeys, crsTransformer } from './crs.js';
import { densifiedOutline, footprintBboxes, footprintFromOutline } from './footprint.js';
import type { BlockCache } from './block-cache.js';
import { type BlockLayout, blockRows, type ByteRange, copyBlockToWindow, type DecodedBlock, decodeBlock, type DecodeMode, mergeRanges, sampleArrayType } from './block-reader.js';
import type { BandInfo, BandRole, BandStatistics, LevelInfo, RasterDataType, RasterInfo } from './raster-info.js';
import { RasterProblem } from './raster-info.js';

/** Deflate through Node's zlib (native) rather than geotiff's JavaScript inflate: several times faster. */
class NativeDeflateDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const out = inflateSync(new Uint8Array(buffer));
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}
addDecoder([8, 32946], async () => NativeDeflateDecoder, undefined, false);

/** Bytes of a decoded block, from geotiff's decoder parameters. */
function blockBytes(parameters: unknown): number {
  const p = parameters as { tileWidth: number; tileHeight: number; planarConfiguration?: number; bitsPerSample: number | ArrayLike<number> };
  const bits = typeof p.bitsPerSample === 'number' ? [p.bitsPerSample] : Array.from(p.bitsPerSample);
  const perPixel = p.planarConfiguration === 2 ? bits[0]! : bits.reduce((a, b) => a + b, 0);
  return Math.ceil((Number(p.tileWidth) * perPixel) / 8) * Number(p.tileHeight);
}

const zstd = new ZSTDDecoder();

/**
 * ZSTD blocks decoded in one call into a buffer of the block's size: geotiff's own (streaming)
 * decode retries the same input forever on damaged data, wedging the thread.
 */
class BoundedZstdDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const capacity = blockBytes(this.parameters);
    const out = zstd.decode(new Uint8Array(buffer), capacity);
    if (out.length === 0 || out.length > capacity) throw new Error('damaged ZSTD data');
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}
addDecoder(
  50000,
  async () => {
    await zstd.init();
    return BoundedZstdDecoder;
  },
  undefined,
  false,
);

/**
 * WEBP blocks (compression 50001, as GDAL writes them: 8-bit RGB or RGBA, chunky), decoded by
 * libvips: geotiff.js's own WEBP decoder needs a browser (createImageBitmap).
 */
class WebpDecoder extends BaseDecoder {
  override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    const samples = (this.parameters as { samplesPerPixel?: number }).samplesPerPixel;
    let image = sharp(new Uint8Array(buffer));
    if (samples === 4) image = image.ensureAlpha();
    else if (samples === 3) image = image.removeAlpha();
    const data = await image.raw().toBuffer();
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
}
addDecoder(
  50001,
  async () => WebpDecoder,
  async (fd) => {
    const tiled = !fd.hasTag('StripOffsets');
    return {
      tileWidth: Number(tiled ? await fd.loadValue('TileWidth') : await fd.loadValue('ImageWidth')),
      tileHeight: Number(tiled ? await fd.loadValue('TileLength') : (await fd.loadValue('RowsPerStrip')) || (await fd.loadValue('ImageLength'))),
      planarConfiguration: Number(await fd.loadValue('PlanarConfiguration')),
      bitsPerSample: (await fd.loadValue('BitsPerSample')) as unknown as number,
      predictor: Number(await fd.loadValue('Predictor')) || 1,
      samplesPerPixel: Number(await fd.loadValue('SamplesPerPixel')) || 4,
    };
  },
  false,
);

/** TIFF compressions decoded here: none, LZW, old and new JPEG, Deflate, PackBits, LERC, ZSTD, WEBP. */
const DECODED_COMPRESSIONS = new Set([1, 5, 6, 7, 8, 32946, 32773, 34887, 50000, 50001]);
const COMPRESSION_NAMES: Record<number, string> = {
  2: 'CCITT RLE',
  3: 'CCITT Group 3 fax',
  4: 'CCITT Group 4 fax',
  34712: 'JPEG 2000',
  34925: 'LZMA',
  34933: 'PNG',
  34934: 'JPEG XR',
  50002: 'JPEG XL',
};

type BlockReader = GeoTIFFImage['getTileOrStrip'];

/**
 * What went wrong, in words for the person who sent the file: the messages of the TIFF and
 * codec libraries (`Offset is outside the bounds of the DataView`, `incorrect header check`…)
 * say nothing to them. Ours (RasterProblem) pass through.
 */
export function plainReason(error: unknown): string {
  if (error instanceof RasterProblem) return error.message;
  const message = String((error as Error)?.message ?? error);
  if (/typed array length|Array buffer allocation|Invalid array length|out of memory/i.test(message)) return 'a table of the file lists more values than the file can hold';
  if (/Invalid field type|Unknown field type/i.test(message)) return 'an image directory is damaged';
  if (/geoKey|GeoKey/.test(message)) return 'the GeoTIFF keys are damaged (they point outside their tables)';
  if (/Unsupported data format|bitsPerSample|sample format/i.test(message)) return 'the sample layout (bits and samples per pixel) is not one a GeoTIFF uses';
  if (/tag's values .* past the end/.test(message)) return 'a table of the file lies past its end';
  return 'the compressed data is damaged or truncated';
}

/** Why a header could not be read: a directory's structure rather than compressed data. */
function headerReason(error: unknown): string {
  const reason = plainReason(error);
  return reason === 'the compressed data is damaged or truncated' ? 'an image directory is damaged or truncated' : reason;
}

/** A file read by byte ranges (an object in a bucket). */
export interface RangedFile {
  size: number;
  /** Bytes `start` to `end`, inclusive. */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A URL answering Range requests (a presigned object URL): unlike a RangedFile, it can be sent to a worker thread. */
export interface RasterUrl {
  url: string;
  size: number;
}

/** Where a raster's bytes are: a local path, a file read by byte ranges, or a URL. */
export type RasterSource = string | RangedFile | RasterUrl;

/**
 * Remote reads go through geotiff's block cache: headers and IFDs are read in 64 KiB blocks
 * (a few requests, not one per tag), tiles as the ranges they span.
 */
// The remote sources take the block options too (their typings leave them out).
const REMOTE_BLOCKS: RemoteSourceOptions = { blockSize: 64 * 1024, cacheSize: 64 } satisfies BlockedSourceOptions as RemoteSourceOptions;

class RangeResponse extends BaseResponse {
  constructor(
    private readonly data: Uint8Array,
    private readonly contentRange: string,
  ) {
    super();
  }
  override get ok(): boolean {
    return true;
  }
  override get status(): number {
    return 206;
  }
  override getHeader(name: string): string | undefined {
    return name.toLowerCase() === 'content-range' ? this.contentRange : undefined;
  }
  override async getData(): Promise<ArrayBuffer> {
    return this.data.buffer.slice(this.data.byteOffset, this.data.byteOffset + this.data.byteLength) as ArrayBuffer;
  }
}

/** Answers geotiff's HTTP-like range requests from a RangedFile. */
class RangedFileClient extends BaseClient {
  constructor(private readonly file: RangedFile) {
    super('ranged:');
  }
  override async request(options: RequestInit = {}): Promise<BaseResponse> {
    const header = new Headers(options.headers).get('range') ?? '';
    const m = /^bytes=(\d+)-(\d+)$/.exec(header);
    if (!m) throw new Error(`Unexpected range request: ${header || 'none'}`);
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), this.file.size - 1);
    const data = start <= end ? await this.file.read(start, end) : new Uint8Array(0);
    return new RangeResponse(data, `bytes ${start}-${start + data.length - 1}/${this.file.size}`);
  }
}

/** The parts of geotiff's lazily read tag arrays (the offsets and byte counts of larger images) used here. */
interface DeferredArray {
  source: { fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> };
  arrayOffset: number;
  littleEndian: boolean;
  fieldType: number;
  length: number;
  itemSize: number;
  data: { [index: number]: number | bigint };
  maskBitmap: Uint8Array;
  fullFetchPromise: Promise<unknown> | null;
  loadAll(): Promise<unknown>;
  get(index: number): Promise<number | bigint>;
}

/** TIFF field types as the byte order says, by type code. */
const FIELD_READERS: Record<number, (view: DataView, at: number, little: boolean) => number> = {
  3: (v, at, le) => v.getUint16(at, le),
  8: (v, at, le) => v.getInt16(at, le),
  4: (v, at, le) => v.getUint32(at, le),
  13: (v, at, le) => v.getUint32(at, le),
  9: (v, at, le) => v.getInt32(at, le),
  11: (v, at, le) => v.getFloat32(at, le),
  12: (v, at, le) => v.getFloat64(at, le),
  16: (v, at, le) => Number(v.getBigUint64(at, le)),
  18: (v, at, le) => Number(v.getBigUint64(at, le)),
  17: (v, at, le) => Number(v.getBigInt64(at, le)),
};

/**
 * geotiff.js reads a tag array that lies outside the directory's first kilobyte (the strip or
 * tile offsets and byte counts of any image with more than a few hundred blocks) as
 * little-endian whatever the file's byte order: a big-endian file's blocks would be looked for
 * at absurd offsets. Such arrays of a big-endian file are read here in the file's order.
 */
function readArraysInFileOrder(image: GeoTIFFImage): void {
  const deferred = (image.getFileDirectory() as unknown as { deferredArrays?: Map<number, DeferredArray> }).deferredArrays;
  for (const arr of deferred?.values() ?? []) {
    const read = FIELD_READERS[arr.fieldType];
    if (!read) continue;
    const load = async (first: number, count: number): Promise<void> => {
      const length = count * arr.itemSize;
      const [buffer] = await arr.source.fetch([{ offset: arr.arrayOffset + first * arr.itemSize, length }]);
      if (!buffer || buffer.byteLength < length) throw new Error(`a tag's values (at byte ${arr.arrayOffset}) lie past the end of the file`);
      const view = new DataView(buffer);
      for (let i = 0; i < count; i++) {
        const index = first + i;
        arr.data[index] = read(view, i * arr.itemSize, false);
        arr.maskBitmap[index >> 3] = (arr.maskBitmap[index >> 3] ?? 0) | (1 << (index & 7));
      }
    };
    arr.loadAll = () => (arr.fullFetchPromise ??= load(0, arr.length).then(() => arr.data));
    arr.get = async (index) => {
      if (!(index >= 0 && index < arr.length)) throw new RangeError(`Index ${index} out of bounds for length ${arr.length}`);
      if ((arr.maskBitmap[index >> 3]! & (1 << (index & 7))) === 0) await load(index, 1);
      return arr.data[index]!;
    };
  }
}

/** Swaps the bytes of every `size`-byte sample of `bytes`, in place. */
function swapSamples(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/**
 * geotiff.js undoes TIFF predictors in the machine's (little-endian) byte order: right for
 * little-endian files only. In a big-endian file's decoded block, the horizontal predictor
 * (2) summed byte-swapped differences and the floating-point predictor (3) left samples
 * little-endian; GDAL's nodata fill of a sparse block is little-endian too. Each block of such a
 * file is put back in the file's byte order here, which geotiff then reads.
 */
async function readBlocksInFileOrder(image: GeoTIFFImage): Promise<void> {
  const size = image.getSampleByteSize(0);
  if (size < 2) return;
  const fd = image.getFileDirectory();
  const predictor = Number((await tag(fd, 'Predictor')) ?? 1);
  const width = image.getTileWidth();
  const perPixel = image.planarConfiguration === 2 ? 1 : image.getSamplesPerPixel();
  const across = Math.ceil(image.getWidth() / width);
  const down = Math.ceil(image.getHeight() / image.getTileHeight());
  const counts = image.isTiled ? 'TileByteCounts' : 'StripByteCounts';
  const read: BlockReader = image.getTileOrStrip.bind(image);
  image.getTileOrStrip = (async (x, y, sample, decoder, signal) => {
    const block = await read(x, y, sample, decoder, signal);
    const index = (image.planarConfiguration === 2 ? sample * across * down : 0) + y * across + x;
    const sparse = Number(await fd.loadValueIndexed(counts as never, index)) === 0;
    if (!sparse && predictor !== 2 && predictor !== 3) return block;
    const bytes = new Uint8Array((block.data as ArrayBuffer).slice(0));
    if (predictor === 2 && !sparse) {
      // Undo geotiff's sums (recovering the stored differences), then sum them as big-endian numbers.
      const n = perPixel * width;
      const bits = size * 8;
      const modulo = 2 ** bits;
      const view = new DataView(bytes.buffer);
      for (let row = 0; (row + 1) * n * size <= bytes.length; row++) {
        const at = (i: number) => (row * n + i) * size;
        const get = (i: number, little: boolean) => (size === 2 ? view.getUint16(at(i), little) : size === 4 ? view.getUint32(at(i), little) : NaN);
        const set = (i: number, v: number, little: boolean) => (size === 2 ? view.setUint16(at(i), v, little) : view.setUint32(at(i), v, little));
        if (size !== 2 && size !== 4) break;
        for (let i = n - 1; i >= perPixel; i--) set(i, (get(i, true) - get(i - perPixel, true) + modulo) % modulo, true);
        for (let i = perPixel; i < n; i++) set(i, (get(i, false) + get(i - perPixel, false)) % modulo, false);
      }
    } else {
      swapSamples(bytes, size);
    }
    return { ...block, data: bytes.buffer };
  }) as BlockReader;
}

function openTiff(source: RasterSource, signal?: AbortSignal): Promise<GeoTIFF> {
  if (typeof source === 'string') return fromFile(source, signal);
  if ('url' in source) return fromUrl(source.url, REMOTE_BLOCKS, signal);
  return fromCustomClient(new RangedFileClient(source), REMOTE_BLOCKS, signal);
}

/**
 * Reads of blocks that lie closer than this are made as one (a request to an object store; a
 * system call on a local file): a request costs far more than the bytes read through a gap.
 */
const REMOTE_MERGE_GAP = 256 * 1024;
const LOCAL_MERGE_GAP = 128 * 1024;
/** Largest single read of merged blocks. */
const MAX_MERGED_READ = 8 * 1024 * 1024;
/** Range requests to an object store in flight at once, per batch of blocks. */
const REMOTE_READS_IN_FLIGHT = 8;

/** A block wanted: its column and row in the grid of blocks, its plane (planar files) and the rows needed from its top. */
export interface BlockRequest {
  bx: number;
  by: number;
  plane: number;
  rows: number;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of the results. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/** An open GeoTIFF file; close it when done (it may hold a file descriptor). */
export class RasterFile {
  private readonly images = new Map<number, Promise<GeoTIFFImage>>();
  private readonly layouts = new Map<number, Promise<BlockLayout | null>>();
  private readonly id = randomUUID();
  private handle?: Promise<FileHandle>;

  private constructor(
    readonly tiff: GeoTIFF,
    private readonly source: RasterSource,
    private readonly blockCache?: BlockCache,
  ) {}

  /** `blocks`: share decoded blocks through this cache (long-lived files serving requests). */
  static async open(source: RasterSource, signal?: AbortSignal, blocks?: BlockCache): Promise<RasterFile> {
    return new RasterFile(await openTiff(source, signal), source, blocks);
  }

  image(ifd: number): Promise<GeoTIFFImage> {
    let p = this.images.get(ifd);
    if (!p) {
      p = this.tiff.getImage(ifd).then(async (image) => {
        if (!this.tiff.littleEndian) {
          readArraysInFileOrder(image);
          await readBlocksInFileOrder(image);
        }
        const cache = this.blockCache;
        if (cache) {
          const read: BlockReader = image.getTileOrStrip.bind(image);
          image.getTileOrStrip = ((x, y, sample, decoder, signal) => cache.get(`${this.id}/${ifd}/${x}/${y}/${sample}`, () => read(x, y, sample, decoder, signal))) as BlockReader;
        }
        return image;
      });
      this.images.set(ifd, p);
      p.catch(() => this.images.delete(ifd));
    }
    return p;
  }

  /** How the blocks of an image are read directly, or null when they go through geotiff.js (other codecs, predictors, odd sample layouts). */
  layout(ifd: number): Promise<BlockLayout | null> {
    let p = this.layouts.get(ifd);
    if (!p) {
      p = this.image(ifd).then((image) => blockLayout(image, this.tiff.littleEndian));
      this.layouts.set(ifd, p);
      p.catch(() => this.layouts.delete(ifd));
    }
    return p;
  }

  /**
   * Decoded blocks of an image with a direct layout, from the shared cache when there (with
   * enough rows), else read together (neighbouring ones in one read on an object store) and
   * decoded in parallel, off the JavaScript thread.
   */
  async blocks(ifd: number, layout: BlockLayout, wanted: BlockRequest[], signal?: AbortSignal, mode: DecodeMode = 'async'): Promise<DecodedBlock[]> {
    const cache = this.blockCache;
    const key = (b: BlockRequest) => `${this.id}/${ifd}/d${b.bx}/${b.by}/${b.plane}`;
    const hits = await Promise.all(
      wanted.map((b) => {
        const hit = cache?.peek<DecodedBlock>(key(b));
        return hit ? hit.then((block) => (block.rows >= b.rows ? block : null)).catch(() => null) : null;
      }),
    );
    const missing = wanted.map((_, i) => i).filter((i) => !hits[i]);
    if (missing.length === 0) return hits as DecodedBlock[];
    signal?.throwIfAborted();
    const fd = (await this.image(ifd)).getFileDirectory();
    const [offsetsTag, countsTag] = layout.tiled ? ['TileOffsets', 'TileByteCounts'] : ['StripOffsets', 'StripByteCounts'];
    const places = await Promise.all(
      missing.map(async (i) => {
        const b = wanted[i]!;
        const index = (layout.planar ? b.plane * layout.across * layout.down : 0) + b.by * layout.across + b.bx;
        const length = Number(await fd.loadValueIndexed(countsTag as never, index));
        return { offset: length === 0 ? 0 : Number(await fd.loadValueIndexed(offsetsTag as never, index)), length };
      }),
    );
    const stored = places.filter((p) => p.length > 0);
    const read = stored.length ? this.readRanges(stored, signal, mode) : Promise.resolve([]);
    let k = 0;
    const decoded = missing.map((i, m) => {
      const b = wanted[i]!;
      const slot = places[m]!.length > 0 ? k++ : -1;
      const block = read.then((bytes) => decodeBlock(layout, b.by, slot < 0 ? null : bytes[slot]!, b.rows, mode));
      return cache ? cache.put(key(b), block) : block;
    });
    const blocks = await Promise.all(decoded);
    missing.forEach((i, m) => (hits[i] = blocks[m]!));
    return hits as DecodedBlock[];
  }

  /** Byte ranges of the file; ranges close together are read at once. */
  async readRanges(ranges: ByteRange[], signal?: AbortSignal, mode: DecodeMode = 'async'): Promise<Uint8Array[]> {
    const local = typeof this.source === 'string';
    const { reads, at } = mergeRanges(ranges, local ? LOCAL_MERGE_GAP : REMOTE_MERGE_GAP, MAX_MERGED_READ);
    const data = await mapLimit(reads, local ? 16 : REMOTE_READS_IN_FLIGHT, (r) => this.readBytes(r.offset, r.length, signal, mode));
    return ranges.map((r, i) => data[at[i]!.read]!.subarray(at[i]!.start, at[i]!.start + r.length));
  }

  private async readBytes(offset: number, length: number, signal?: AbortSignal, mode: DecodeMode = 'async'): Promise<Uint8Array> {
    signal?.throwIfAborted();
    const source = this.source;
    if (typeof source === 'string') {
      this.handle ??= open(source, 'r');
      const buffer = Buffer.allocUnsafeSlow(length);
      if (mode === 'sync') return buffer.subarray(0, readSync((await this.handle).fd, buffer, 0, length, offset));
      const { bytesRead } = await (await this.handle).read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    }
    const end = Math.min(offset + length, source.size) - 1;
    if (end < offset) return new Uint8Array(0);
    if (!('url' in source)) return source.read(offset, end);
    const res = await fetch(source.url, { headers: { range: `bytes=${offset}-${end}` }, signal });
    if (res.status !== 206 && res.status !== 200) throw new Error(`Range request answered ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    return res.status === 200 ? bytes.subarray(offset, end + 1) : bytes;
  }

  async close(): Promise<void> {
    this.blockCache?.forget(`${this.id}/`);
    const handle = this.handle;
    this.handle = undefined;
    await handle?.then((h) => h.close()).catch(() => undefined);
    await this.tiff.close();
  }
}

/** The direct layout of an image (see BlockLayout), or null. */
async function blockLayout(image: GeoTIFFImage, littleEndian: boolean): Promise<BlockLayout | null> {
  const fd = image.getFileDirectory();
  const compression = Number((await tag(fd, 'Compression')) ?? 1);
  const predictor = Number((await tag(fd, 'Predictor')) ?? 1);
  if (!(compression === 1 || compression === 8 || compression === 32946) || predictor !== 1) return null;
  if (Number((await tag(fd, 'PhotometricInterpretation')) ?? 1) === 6) return null;
  const samples = image.getSamplesPerPixel();
  const bits = numbers(await tag(fd, 'BitsPerSample'));
  const formats = numbers(await tag(fd, 'SampleFormat')) ?? Array.from({ length: samples }, () => 1);
  if (!(samples >= 1) || !bits || bits.length !== samples || formats.length !== samples) return null;
  if (bits.some((b) => b !== bits[0]) || formats.some((f) => f !== formats[0])) return null;
  const type = sampleArrayType(formats[0]!, bits[0]!);
  if (!type || (!littleEndian && type.BYTES_PER_ELEMENT > 1)) return null;
  const [blockWidth, blockHeight, width, height] = [image.getTileWidth(), image.getTileHeight(), image.getWidth(), image.getHeight()];
  if (!(blockWidth >= 1 && blockHeight >= 1 && width >= 1 && height >= 1)) return null;
  const planar = image.planarConfiguration === 2;
  if (!planar && image.planarConfiguration !== 1) return null;
  return {
    width,
    height,
    blockWidth,
    blockHeight,
    across: Math.ceil(width / blockWidth),
    down: Math.ceil(height / blockHeight),
    tiled: image.isTiled,
    samples,
    planar,
    type,
    compression: compression === 1 ? 'none' : 'deflate',
    fill: Number(image.getGDALNoData() || 0),
  };
}

/** Every band of a window read from whole decoded blocks (direct layouts). */
async function readWindowDirect(file: RasterFile, ifd: number, layout: BlockLayout, w: Window, signal?: AbortSignal): Promise<TypedArray[]> {
  const { blockWidth: bw, blockHeight: bh } = layout;
  const bx0 = Math.max(0, Math.floor(w.x0 / bw));
  const bx1 = Math.min(layout.across - 1, Math.floor((w.x1 - 1) / bw));
  const by0 = Math.max(0, Math.floor(w.y0 / bh));
  const by1 = Math.min(layout.down - 1, Math.floor((w.y1 - 1) / bh));
  const wanted: BlockRequest[] = [];
  for (let by = by0; by <= by1; by++) {
    const rows = Math.min(blockRows(layout, by), w.y1 - by * bh);
    for (let bx = bx0; bx <= bx1; bx++) {
      for (let plane = 0; plane < (layout.planar ? layout.samples : 1); plane++) wanted.push({ bx, by, plane, rows });
    }
  }
  const blocks = wanted.length ? await file.blocks(ifd, layout, wanted, signal) : [];
  const n = Math.max(0, w.x1 - w.x0) * Math.max(0, w.y1 - w.y0);
  const out: TypedArray[] = Array.from({ length: layout.samples }, () => new layout.type(n));
  wanted.forEach((b, i) => copyBlockToWindow(layout, blocks[i]!, b.bx, b.by, b.plane, out, w));
  return out;
}

const SIGNATURES: [string, number[]][] = [
  ['JPEG', [0xff, 0xd8, 0xff]],
  ['PNG', [0x89, 0x50, 0x4e, 0x47]],
  ['GIF', [0x47, 0x49, 0x46, 0x38]],
  ['PDF', [0x25, 0x50, 0x44, 0x46]],
  ['ZIP', [0x50, 0x4b, 0x03, 0x04]],
  ['JPEG 2000', [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50]],
];

/** Classic TIFF or BigTIFF, either byte order. */
function isTiffSignature(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const ii = head[0] === 0x49 && head[1] === 0x49;
  const mm = head[0] === 0x4d && head[1] === 0x4d;
  if (!ii && !mm) return false;
  const magic = ii ? head[2]! | (head[3]! << 8) : (head[2]! << 8) | head[3]!;
  return magic === 42 || magic === 43;
}

/** Offset of the first image directory, from the 8-byte (TIFF) or 16-byte (BigTIFF) header. */
function firstIfdOffset(head: Uint8Array): number | null {
  const little = head[0] === 0x49;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const big = (little ? view.getUint16(2, true) : view.getUint16(2, false)) === 43;
  if (head.length < (big ? 16 : 8)) return null;
  return big ? Number(view.getBigUint64(8, little)) : view.getUint32(4, little);
}

/** The first 16 bytes of the file and its size. */
async function readHead(source: string | RangedFile): Promise<{ head: Uint8Array; size: number }> {
  if (typeof source !== 'string') return { head: source.size > 0 ? await source.read(0, Math.min(16, source.size) - 1) : new Uint8Array(0), size: source.size };
  const handle = await open(source, 'r');
  try {
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(16);
    const { bytesRead } = await handle.read(buffer, 0, 16, 0);
    return { head: buffer.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

/**
 * The checks a registration request makes before accepting a file: a non-empty TIFF whose
 * first image has at least one band and more than one pixel. Cheap: the header only.
 */
export async function probeRaster(source: string | RangedFile): Promise<{ width: number; height: number; bands: number }> {
  const { head, size } = await readHead(source);
  if (size === 0) throw new RasterProblem(400, 'The file is empty', 'empty_file');
  if (!isTiffSignature(head)) {
    const known = SIGNATURES.find(([, sig]) => sig.every((b, i) => head[i] === b));
    throw new RasterProblem(415, `The file is not a TIFF${known ? ` (it is a ${known[0]} file)` : ''}: only GeoTIFF and COG rasters are accepted`, 'not_tiff');
  }
  const firstIfd = firstIfdOffset(head);
  if (firstIfd === null || firstIfd + 2 > size) {
    throw new RasterProblem(
      422,
      `The TIFF header cannot be read: the file is truncated (${size} bytes, the first image directory is ${firstIfd === null ? 'missing' : `at byte ${firstIfd}`})`,
      'invalid_tiff',
    );
  }
  let file: RasterFile | undefined;
  try {
    file = await RasterFile.open(source);
    const image = await file.image(0);
    const width = image.getWidth();
    const height = image.getHeight();
    const bands = image.getSamplesPerPixel();
    if (!(bands >= 1)) throw new RasterProblem(422, 'The raster has no bands (SamplesPerPixel is 0)', 'no_bands');
    if (!(width >= 1 && height >= 1)) throw new RasterProblem(422, `The raster has no pixels (${width}×${height})`, 'too_small');
    if (width * height < 2) throw new RasterProblem(422, `The raster is ${width}×${height} pixel: too small to have a footprint, a thumbnail or tiles`, 'too_small');
    return { width, height, bands };
  } catch (error) {
    if (error instanceof RasterProblem) throw error;
    throw new RasterProblem(422, `The TIFF header cannot be read: ${headerReason(error)}`, 'invalid_tiff');
  } finally {
    await file?.close().catch(() => undefined);
  }
}

// --- tags -----------------------------------------------------------------------------------

type Fd = ReturnType<GeoTIFFImage['getFileDirectory']>;

async function tag(fd: Fd, name: string): Promise<unknown> {
  if (!fd.hasTag(name as never)) return undefined;
  return fd.loadValue(name as never);
}

function numbers(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || typeof value === 'bigint') return [Number(value)];
  if (ArrayBuffer.isView(value) || Array.isArray(value)) return Array.from(value as ArrayLike<number | bigint>, Number);
  return undefined;
}

function ascii(value: unknown): string | undefined {
  if (typeof value === 'string') return value.replace(/\0+$/, '').trim();
  if (Array.isArray(value) && typeof value[0] === 'string') return value.join('').replace(/\0+$/, '').trim();
  return undefined;
}

function dataTypeOf(format: number, bits: number): RasterDataType {
  if (format === 3) return bits === 16 ? 'float16' : bits === 32 ? 'float32' : bits === 64 ? 'float64' : 'other';
  if (format === 2) return bits === 8 ? 'int8' : bits === 16 ? 'int16' : bits === 32 ? 'int32' : bits === 64 ? 'int64' : 'other';
  if (format === 5) return bits === 32 ? 'cint16' : bits === 64 ? 'cint32' : 'other';
  if (format === 6) return bits === 64 ? 'cfloat32' : bits === 128 ? 'cfloat64' : 'other';
  if (bits <= 8) return 'uint8';
  return bits === 16 ? 'uint16' : bits === 32 ? 'uint32' : bits === 64 ? 'uint64' : 'other';
}

function parseNodata(text: string | undefined): BandInfo['nodata'] {
  if (text === undefined || text === '') return null;
  const t = text.toLowerCase();
  if (t === 'nan' || t === '-nan') return 'nan';
  if (t === 'inf' || t === '+inf') return 'inf';
  if (t === '-inf') return '-inf';
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

/**
 * The nodata value as a number for comparisons with the band's pixels (NaN for `nan`). Like GDAL,
 * the value is first cast to the band's type: a float32 band's `-3.4e+38` (not exactly a float32,
 * as many tools write it) matches the float32 pixels nearest to it.
 */
export function nodataNumber(nodata: BandInfo['nodata'], dataType?: BandInfo['dataType']): number | null {
  if (nodata === null) return null;
  if (nodata === 'nan') return NaN;
  if (nodata === 'inf') return Infinity;
  if (nodata === '-inf') return -Infinity;
  return dataType === 'float32' ? Math.fround(nodata) : nodata;
}

function fileTimes(t: AcquisitionTime): Pick<RasterInfo, 'datetime' | 'startDatetime' | 'endDatetime' | 'datetimeSource'> {
  return { datetime: t.datetime, startDatetime: t.startDatetime, endDatetime: t.endDatetime, datetimeSource: t.source };
}

/** The geotransform from ModelTransformation or ModelTiepoint + ModelPixelScale; GDAL's PixelIsPoint shift applied. */
async function geotransform(fd: Fd, pixelIsPoint: boolean): Promise<{ transform: Affine | null; problem?: string }> {
  const matrix = numbers(await tag(fd, 'ModelTransformation'));
  const tiepoints = numbers(await tag(fd, 'ModelTiepoint'));
  const scale = numbers(await tag(fd, 'ModelPixelScale'));
  let t: Affine;
  if (matrix && matrix.length >= 16) {
    t = [matrix[0]!, matrix[1]!, matrix[3]!, matrix[4]!, matrix[5]!, matrix[7]!];
  } else if (tiepoints && tiepoints.length >= 6 && scale && scale.length >= 2) {
    const [i, j, , x, y] = tiepoints as [number, number, number, number, number];
    const [sx, sy] = scale as [number, number];
    t = [sx, 0, x - i * sx, 0, -sy, y + j * sy];
  } else if (tiepoints && tiepoints.length > 6) {
    return { transform: null, problem: 'the file is georeferenced by ground control points only, which is not supported' };
  } else {
    return { transform: null, problem: 'the file has no geotransform (ModelTransformation or ModelTiepoint + ModelPixelScale)' };
  }
  if (pixelIsPoint) t = [t[0], t[1], t[2] - 0.5 * t[0] - 0.5 * t[1], t[3], t[4], t[5] - 0.5 * t[3] - 0.5 * t[4]];
  if (!t.every(Number.isFinite)) return { transform: null, problem: 'the geotransform is not finite' };
  try {
    invertAffine(t);
  } catch {
    return { transform: null, problem: 'the geotransform is degenerate (zero pixel size)' };
  }
  return { transform: t };
}

// --- structure ------------------------------------------------------------------------------

interface IfdSummary {
  ifd: number;
  offset: number;
  width: number;
  height: number;
  spp: number;
  subfile: number;
  photometric: number;
}

/** A decoded tile or strip larger than this is refused rather than allocated. */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

/** More image directories than any real GeoTIFF has (overviews and masks included). */
const MAX_IFDS = 1024;

/**
 * The offsets of the image directories, following each one's next-directory pointer. A pointer
 * back to a directory already seen (a loop: GDAL warns "IFD looping") ends the chain there,
 * as GDAL does, instead of reading the same directories forever.
 */
async function walkIfds(tiff: GeoTIFF, fileSize: number, signal?: AbortSignal): Promise<{ offsets: number[]; looped: boolean; pastEnd: boolean }> {
  const offsets = [tiff.firstIFDOffset];
  const seen = new Set(offsets);
  for (let i = 0; offsets.length < MAX_IFDS; i++) {
    signal?.throwIfAborted();
    const next = (await tiff.requestIFD(i)).nextIFDByteOffset;
    if (!next) return { offsets, looped: false, pastEnd: false };
    if (seen.has(next)) return { offsets, looped: true, pastEnd: false };
    // A pointer past the end (a truncated or damaged chain): the directories before it are read, as GDAL does.
    if (next + 2 > fileSize) return { offsets, looped: false, pastEnd: true };
    seen.add(next);
    offsets.push(next);
  }
  throw new RasterProblem(422, `The file has more than ${MAX_IFDS} image directories`, 'damaged');
}

/**
 * Every tile or strip of every image must lie inside the file: a truncated copy or a damaged
 * offset table is found here, before anything is published. Returns the smallest data offset.
 */
async function checkBlocks(file: RasterFile, summaries: IfdSummary[], fileSize: number, signal?: AbortSignal): Promise<number> {
  let firstData = Infinity;
  for (const s of summaries) {
    signal?.throwIfAborted();
    const image = await file.image(s.ifd);
    const fd = image.getFileDirectory();
    const tiled = image.isTiled;
    const offsets = numbers(await tag(fd, tiled ? 'TileOffsets' : 'StripOffsets'));
    const counts = numbers(await tag(fd, tiled ? 'TileByteCounts' : 'StripByteCounts'));
    const what = s.ifd === 0 ? 'the full-resolution image' : `image ${s.ifd + 1}`;
    if (!offsets || !counts) throw new RasterProblem(422, `The file is damaged: ${what} has no strip or tile table (offsets and byte counts)`, 'damaged');
    const [bw, bh] = [image.getTileWidth(), image.getTileHeight()];
    if (!(bw >= 1 && bh >= 1)) throw new RasterProblem(422, `The file is damaged: ${what} has blocks of ${bw} × ${bh} pixels`, 'damaged');
    if (bw * bh * Math.max(1, image.getBytesPerPixel()) > MAX_BLOCK_BYTES) {
      throw new RasterProblem(422, `The file's blocks (${bw} × ${bh} pixels) are too large to decode: rewrite it tiled (e.g. gdal_translate -co TILED=YES)`, 'unsupported');
    }
    const planes = image.planarConfiguration === 2 ? s.spp : 1;
    const expected = tiled
      ? Math.ceil(s.width / image.getTileWidth()) * Math.ceil(s.height / image.getTileHeight()) * planes
      : Math.ceil(s.height / image.getTileHeight()) * planes;
    if (offsets.length < expected || counts.length < expected) {
      throw new RasterProblem(422, `The file is damaged: ${what} lists ${offsets.length} ${tiled ? 'tiles' : 'strips'}, ${expected} expected`, 'damaged');
    }
    for (let i = 0; i < expected; i++) {
      const offset = offsets[i]!;
      const count = counts[i]!;
      if (offset === 0 && count === 0) continue; // sparse block (GDAL): nodata
      if (offset + count > fileSize) {
        throw new RasterProblem(
          422,
          `The file is damaged or truncated: ${tiled ? 'tile' : 'strip'} ${i + 1} of ${what} ends at byte ${offset + count}, past the end of the file (${fileSize} bytes)`,
          'damaged',
        );
      }
      if (offset < firstData) firstData = offset;
    }
  }
  return firstData;
}

function roles(photometric: number, spp: number, extra: number[]): { roles: BandRole[]; render: RasterInfo['render'] } {
  const base = photometric === 2 || photometric === 6 ? 3 : photometric === 5 ? 4 : 1;
  const out: BandRole[] = Array.from({ length: spp }, () => 'undefined');
  let alpha: number | null = null;
  const extraStart = Math.max(0, spp - extra.length);
  extra.forEach((kind, k) => {
    const index = extraStart + k;
    if ((kind === 1 || kind === 2) && index >= Math.min(base, spp) && alpha === null) {
      out[index] = 'alpha';
      alpha = index;
    }
  });
  if ((photometric === 2 || photometric === 6) && spp >= 3) {
    out[0] = 'red';
    out[1] = 'green';
    out[2] = 'blue';
    return { roles: out, render: { mode: 'rgb', bands: [0, 1, 2], alpha, invert: false } };
  }
  if (photometric === 3) {
    out[0] = 'palette';
    return { roles: out, render: { mode: 'palette', bands: [0], alpha, invert: false } };
  }
  const colour = out.map((r, i) => (r === 'alpha' ? -1 : i)).filter((i) => i >= 0);
  if (colour.length >= 3 && photometric !== 0) {
    return { roles: out, render: { mode: 'rgb', bands: colour.slice(0, 3), alpha, invert: false } };
  }
  out[colour[0] ?? 0] = out[colour[0] ?? 0] === 'alpha' ? 'alpha' : 'gray';
  return { roles: out, render: { mode: 'gray', bands: [colour[0] ?? 0], alpha, invert: photometric === 0 } };
}

/** A standard-compliant cloud-optimized layout: tiled, overviews when large, every IFD before the image data. */
function isCloudOptimized(levels: LevelInfo[], tiledByIfd: Map<number, boolean>, ifdPositions: number[], firstData: number, width: number, height: number): boolean {
  if (!levels.every((l) => tiledByIfd.get(l.ifd))) return false;
  if (Math.max(width, height) > 512 && levels.length < 2) return false;
  return ifdPositions.every((p) => p < firstData);
}

// --- reading --------------------------------------------------------------------------------

/** YCbCr (JPEG-compressed TIFFs) to RGB, in place, with the JFIF formulas and rounding of geotiff's readRGB. */
function ycbcrToRgb(y: TypedArray, cb: TypedArray, cr: TypedArray): void {
  const px = new Uint8ClampedArray(3);
  for (let i = 0; i < y.length; i++) {
    const Y = y[i]!;
    const Cb = cb[i]! - 128;
    const Cr = cr[i]! - 128;
    px[0] = Y + 1.402 * Cr;
    px[1] = Y - 0.34414 * Cb - 0.71414 * Cr;
    px[2] = Y + 1.772 * Cb;
    y[i] = px[0];
    cb[i] = px[1];
    cr[i] = px[2];
  }
}

export interface Window {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Band values (one array per band, row-major over the window) of a level; YCbCr comes back as RGB. */
export async function readWindow(file: RasterFile, info: RasterInfo, level: LevelInfo, w: Window, signal?: AbortSignal): Promise<TypedArray[]> {
  if (!(w.x0 <= w.x1 && w.y0 <= w.y1)) throw new Error('Invalid subsets');
  const layout = await file.layout(level.ifd);
  let bands: TypedArray[];
  if (layout) {
    bands = await readWindowDirect(file, level.ifd, layout, w, signal);
  } else {
    const image = await file.image(level.ifd);
    bands = Array.from((await image.readRasters({ window: [w.x0, w.y0, w.x1, w.y1], interleave: false, signal })) as unknown as TypedArray[]);
  }
  if (info.photometric === 6 && bands.length >= 3) ycbcrToRgb(bands[0]!, bands[1]!, bands[2]!);
  return bands;
}

/** The transparency mask over a window (non-zero = valid), or null when the level has none. */
export async function readMask(file: RasterFile, level: LevelInfo, w: Window, signal?: AbortSignal): Promise<TypedArray | null> {
  if (level.maskIfd === null) return null;
  const layout = await file.layout(level.maskIfd);
  if (layout) return (await readWindowDirect(file, level.maskIfd, layout, w, signal))[0] ?? null;
  const image = await file.image(level.maskIfd);
  const result = (await image.readRasters({ window: [w.x0, w.y0, w.x1, w.y1], interleave: false, samples: [0], signal })) as unknown as TypedArray[];
  return result[0] ?? null;
}

/** Rows per read so that a window `width` wide stays around `maxPixels`, aligned to the block height. */
export function stripeRows(width: number, blockHeight: number, maxPixels = 4_000_000): number {
  const rows = Math.max(1, Math.floor(maxPixels / Math.max(1, width)));
  return Math.max(blockHeight, Math.floor(rows / blockHeight) * blockHeight);
}

// --- statistics -----------------------------------------------------------------------------

const MAX_PERCENTILE_SAMPLES = 200_000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))));
  return sorted[i]!;
}

/** The level statistics come from: an overview of at most 1024 px when there is one, else the coarsest overview, else full resolution. */
export function statisticsLevel(levels: LevelInfo[]): number {
  if (levels.length < 2) return 0;
  const small = levels.findIndex((l, i) => i > 0 && Math.max(l.width, l.height) <= 1024);
  return small > 0 ? small : levels.length - 1;
}

/** Pixels statistics read at most: beyond, whole blocks spread over the image are read instead (as GDAL's approximate statistics). */
const MAX_STATISTICS_PIXELS = 16_000_000;

/**
 * The windows statistics read: the whole level in stripes when it is small enough, else a grid
 * of whole blocks (tiles, or strips) spread evenly over it — never every stripe of a huge image:
 * a sparse 200,000 × 200,000 file would take hours.
 */
export function statisticsWindows(width: number, height: number, blockWidth: number, blockHeight: number, tiled: boolean, maxPixels = MAX_STATISTICS_PIXELS): Window[] {
  if (width * height <= maxPixels) {
    const rows = stripeRows(width, blockHeight);
    const out: Window[] = [];
    for (let y0 = 0; y0 < height; y0 += rows) out.push({ x0: 0, y0, x1: width, y1: Math.min(height, y0 + rows) });
    return out;
  }
  const bw = tiled ? Math.min(blockWidth, width) : width;
  const bh = Math.max(1, Math.min(blockHeight, height));
  const across = tiled ? Math.ceil(width / bw) : 1;
  const down = Math.ceil(height / bh);
  const wanted = Math.max(1, Math.floor(maxPixels / (bw * bh)));
  // As many block rows and columns as fit the budget, in proportion to the grid of blocks.
  const cols = Math.max(1, Math.min(across, Math.round(Math.sqrt((wanted * across) / down))));
  const rows = Math.max(1, Math.min(down, Math.floor(wanted / cols)));
  const out: Window[] = [];
  for (let j = 0; j < rows; j++) {
    const by = Math.floor(((j + 0.5) * down) / rows);
    for (let i = 0; i < cols; i++) {
      const bx = Math.floor(((i + 0.5) * across) / cols);
      out.push({ x0: bx * bw, y0: by * bh, x1: Math.min(width, (bx + 1) * bw), y1: Math.min(height, (by + 1) * bh) });
    }
  }
  return out;
}

async function computeStatistics(file: RasterFile, info: RasterInfo, levelIndex: number, signal?: AbortSignal): Promise<void> {
  const level = info.levels[levelIndex]!;
  const n = info.bandCount;
  const acc = Array.from({ length: n }, () => ({ count: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity }));
  const samples = Array.from({ length: n }, () => [] as number[]);
  const windows = statisticsWindows(level.width, level.height, info.blockWidth, info.blockHeight, info.tiled);
  const totalSampled = windows.reduce((t, w) => t + (w.x1 - w.x0) * (w.y1 - w.y0), 0);
  if (totalSampled < level.width * level.height) info.warnings.push(`statistics are estimated from ${windows.length} blocks spread over the image`);
  const keepEvery = Math.max(1, Math.ceil(totalSampled / MAX_PERCENTILE_SAMPLES));
  const nodata = info.bands.map((b) => nodataNumber(b.nodata, b.dataType));
  const alpha = info.render.alpha;
  let seen = 0;
  for (const w of windows) {
    signal?.throwIfAborted();
    let bands: TypedArray[];
    let mask: TypedArray | null;
    try {
      bands = await readWindow(file, info, level, w, signal);
      mask = await readMask(file, level, w, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RasterProblem(
        422,
        `The image data cannot be decoded (rows ${w.y0}–${w.y1 - 1} of ${levelIndex === 0 ? 'the full-resolution image' : `overview ${levelIndex}`}): ${plainReason(error)}`,
        'damaged',
      );
    }
    const size = (w.x1 - w.x0) * (w.y1 - w.y0);
    for (let i = 0; i < size; i++) {
      if (mask && mask[i] === 0) continue;
      if (alpha !== null && bands[alpha]![i] === 0) continue;
      const keep = seen++ % keepEvery === 0;
      for (let b = 0; b < n; b++) {
        const v = bands[b]![i]!;
        const nd = nodata[b];
        if (Number.isNaN(v) || v === nd) continue;
        const a = acc[b]!;
        a.count++;
        a.sum += v;
        a.sumSq += v * v;
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
        if (keep) samples[b]!.push(v);
      }
    }
  }
  const total = totalSampled;
  info.bands.forEach((band, b) => {
    const a = acc[b]!;
    if (a.count === 0) {
      band.statistics = { valid_percent: 0 };
      band.stretch = null;
      return;
    }
    const mean = a.sum / a.count;
    const stats: BandStatistics = {
      minimum: a.min,
      maximum: a.max,
      mean: round(mean),
      stddev: round(Math.sqrt(Math.max(0, a.sumSq / a.count - mean * mean))),
      valid_percent: round((100 * a.count) / total, 4),
    };
    band.statistics = stats;
    const sorted = Float64Array.from(samples[b]!).sort();
    const lo = percentile(sorted, 2);
    const hi = percentile(sorted, 98);
    band.stretch = hi > lo ? [lo, hi] : [a.min, a.max > a.min ? a.max : a.min + 1];
  });
  if (info.bands.every((b) => b.statistics?.valid_percent === 0)) info.warnings.push('every pixel is nodata');
}

function round(v: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// --- analysis -------------------------------------------------------------------------------

/**
 * Reads a GeoTIFF completely enough to publish it: structure (images, overviews, masks, block
 * table sanity), bands, CRS and geotransform, the WGS 84 footprint, statistics and a decode
 * check. Throws RasterProblem for a file that cannot be served.
 */
export async function analyseRaster(source: string | RasterUrl, fileSize: number, signal?: AbortSignal): Promise<RasterInfo> {
  let file: RasterFile;
  try {
    file = await RasterFile.open(source, signal);
  } catch (error) {
    throw new RasterProblem(422, `The TIFF header cannot be read: ${headerReason(error)}`, 'invalid_tiff');
  }
  try {
    return await analyseOpen(file, fileSize, signal);
  } catch (error) {
    if (error instanceof RasterProblem || signal?.aborted) throw error;
    throw new RasterProblem(422, `The file cannot be read: ${plainReason(error)}`, 'invalid_tiff');
  } finally {
    await file.close().catch(() => undefined);
  }
}

async function analyseOpen(file: RasterFile, fileSize: number, signal?: AbortSignal): Promise<RasterInfo> {
  const tiff = file.tiff;
  const { offsets: positions, looped, pastEnd } = await walkIfds(tiff, fileSize, signal);
  const count = positions.length;
  const summaries: IfdSummary[] = [];
  const tiledByIfd = new Map<number, boolean>();
  for (let i = 0; i < count; i++) {
    const image = await file.image(i);
    const fd = image.getFileDirectory();
    summaries.push({
      ifd: i,
      offset: positions[i]!,
      width: image.getWidth(),
      height: image.getHeight(),
      spp: image.getSamplesPerPixel(),
      subfile: Number((await tag(fd, 'NewSubfileType')) ?? 0),
      photometric: Number((await tag(fd, 'PhotometricInterpretation')) ?? 1),
    });
    tiledByIfd.set(i, image.isTiled);
  }
  const main = summaries[0]!;
  const image = await file.image(0);
  const fd = image.getFileDirectory();
  if (main.spp < 1) throw new RasterProblem(422, 'The raster has no bands (SamplesPerPixel is 0)', 'no_bands');
  if (main.width * main.height < 2) throw new RasterProblem(422, `The raster is ${main.width}×${main.height} pixel: too small to serve`, 'too_small');

  const firstData = await checkBlocks(file, summaries, fileSize, signal);

  // Overviews: reduced-resolution images of the same bands; masks: transparency masks.
  const overviews = summaries
    .filter((s) => s.ifd > 0 && (s.subfile & 1) === 1 && (s.subfile & 4) === 0 && s.spp === main.spp && s.width < main.width)
    .sort((a, b) => b.width - a.width);
  const masks = summaries.filter((s) => (s.subfile & 4) === 4 && s.spp === 1);
  const maskFor = (w: number, h: number) => masks.find((m) => m.width === w && m.height === h)?.ifd ?? null;
  const levels: LevelInfo[] = [main, ...overviews].map((s) => ({ ifd: s.ifd, width: s.width, height: s.height, maskIfd: maskFor(s.width, s.height) }));

  const bits = numbers(await tag(fd, 'BitsPerSample')) ?? [8];
  if (bits.some((b) => !(b >= 1 && b <= 128))) throw new RasterProblem(422, `The file is damaged: its samples are ${bits.join(', ')} bits wide`, 'damaged');
  const formats = numbers(await tag(fd, 'SampleFormat')) ?? [1];
  const extra = numbers(await tag(fd, 'ExtraSamples')) ?? [];
  const photometric = main.photometric;
  const { roles: bandRoles, render } = roles(photometric, main.spp, extra);
  const nodata = parseNodata(ascii(await tag(fd, 'GDAL_NODATA')));
  const ycbcr = photometric === 6;
  const bands: BandInfo[] = Array.from({ length: main.spp }, (_, i) => {
    const b = bits[i] ?? bits[0] ?? 8;
    return {
      index: i + 1,
      dataType: ycbcr && i < 3 ? 'uint8' : dataTypeOf(formats[i] ?? formats[0] ?? 1, b),
      bitsPerSample: ycbcr && i < 3 ? 8 : b,
      nodata,
      role: bandRoles[i]!,
      statistics: null,
      stretch: null,
    };
  });
  if (bands.some((b) => ['other', 'cint16', 'cint32', 'cfloat32', 'cfloat64', 'int64', 'uint64', 'float16'].includes(b.dataType))) {
    throw new RasterProblem(422, `Unsupported sample type (${bands.map((b) => b.dataType).join(', ')})`, 'unsupported');
  }
  const compression = Number((await tag(fd, 'Compression')) ?? 1);
  if (!DECODED_COMPRESSIONS.has(compression)) {
    throw new RasterProblem(
      422,
      `The file is compressed with ${COMPRESSION_NAMES[compression] ?? `an unknown method`} (TIFF compression ${compression}), which is not supported: rewrite it with DEFLATE, LZW, ZSTD or WEBP (e.g. gdal_translate -co COMPRESS=DEFLATE)`,
      'unsupported',
    );
  }
  const palette = photometric === 3 ? (numbers(await tag(fd, 'ColorMap')) ?? null) : null;
  if (photometric === 3 && !palette) throw new RasterProblem(422, 'A palette image without a colour map', 'damaged');

  const warnings: string[] = [];
  if (looped) warnings.push(`the image directories loop back after directory ${count}: the ${count} before are read`);
  if (pastEnd) warnings.push(`the image directory after directory ${count} lies past the end of the file: the ${count} before are read`);
  const geoKeys = image.getGeoKeys() as Record<string, unknown> | null;
  const pixelIsPoint = geoKeys?.GTRasterTypeGeoKey === 2;
  const { crs, problem: crsProblem } = crsFromGeoKeys(geoKeys);
  const { transform, problem: transformProblem } = await geotransform(fd, pixelIsPoint);
  if (crsProblem) warnings.push(crsProblem);
  if (transformProblem) warnings.push(transformProblem);

  let footprint = null;
  let resolutionMeters: number | null = null;
  const bounds = transform ? nativeBounds(transform, main.width, main.height) : null;
  const resolution = transform ? pixelSize(transform) : null;
  if (crs && transform) {
    const transformer = crsTransformer(crs);
    const outline = densifiedOutline(main.width, main.height).map(([col, row]) => {
      const x = transform[0] * col + transform[1] * row + transform[2];
      const y = transform[3] * col + transform[4] * row + transform[5];
      return transformer.toLonLat(x, y);
    });
    footprint = footprintFromOutline(outline);
    if (!footprint) warnings.push('the footprint could not be computed: the corners do not project to WGS 84');
    if (resolution) {
      if (crs.geographic) {
        const [cx, cy] = [(bounds![0] + bounds![2]) / 2, (bounds![1] + bounds![3]) / 2];
        const lat = transformer.toLonLat(cx, cy)[1];
        const metresPerDegree = 111_320;
        resolutionMeters = round(((resolution[0] * Math.cos((lat * Math.PI) / 180) + resolution[1]) / 2) * metresPerDegree * crs.unitScale[0], 6);
      } else {
        resolutionMeters = round((resolution[0] * crs.unitScale[0] + resolution[1] * crs.unitScale[1]) / 2, 6);
      }
    }
  }

  const info: RasterInfo = {
    version: 1,
    width: main.width,
    height: main.height,
    bandCount: main.spp,
    bands,
    photometric,
    compression,
    tiled: tiledByIfd.get(0) === true,
    blockWidth: image.getTileWidth(),
    blockHeight: image.getTileHeight(),
    byteOrder: tiff.littleEndian ? 'little-endian' : 'big-endian',
    bigTiff: tiff.bigTiff,
    levels,
    isCog: isCloudOptimized(levels, tiledByIfd, positions, firstData, main.width, main.height),
    render,
    palette,
    transform,
    sampling: pixelIsPoint ? 'point' : 'area',
    crs,
    nativeBounds: bounds,
    resolution,
    resolutionMeters,
    footprint,
    wgs84Bboxes: footprintBboxes(footprint),
    ...fileTimes(acquisitionTime(ascii(await tag(fd, 'DateTime')), ascii(await tag(fd, 'GDAL_METADATA')))),
    statisticsLevel: statisticsLevel(levels),
    warnings,
  };

  // Decode a few blocks of the full-resolution image: corners and centre.
  const probes: [number, number][] = [
    [0, 0],
    [main.width - 1, 0],
    [0, main.height - 1],
    [main.width - 1, main.height - 1],
    [Math.floor(main.width / 2), Math.floor(main.height / 2)],
  ];
  for (const [x, y] of probes) {
    try {
      await readWindow(file, info, levels[0]!, { x0: x, y0: y, x1: x + 1, y1: y + 1 }, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RasterProblem(422, `The image data cannot be decoded at pixel (${x}, ${y}): ${plainReason(error)}`, 'damaged');
    }
  }
  await computeStatistics(file, info, info.statisticsLevel, signal);
  return info;
}
