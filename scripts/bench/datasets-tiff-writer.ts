/**
 * A small GeoTIFF writer for the datasets benchmark and tests: tiled or stripped, optional
 * deflate, internal overviews, cloud-optimized layout (every IFD before the image data), EPSG
 * GeoKeys and an affine geotransform. It can also write deliberately odd files (0 bands, 1×1).
 */
import { open } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';

export type TiffDataType = 'uint8' | 'uint16' | 'int16' | 'float32';

export interface TiffSpec {
  width: number;
  height: number;
  /** Samples per pixel; 0 writes a broken file on purpose. */
  bands: number;
  dataType: TiffDataType;
  /** 1 = grey, 2 = RGB; default RGB for 3+ bands. */
  photometric?: number;
  /** Tile size (square); omitted: strips of 16 rows. */
  tile?: number;
  compression?: 'none' | 'deflate';
  /** Overview decimation factors, e.g. [2, 4, 8]. */
  overviews?: number[];
  /** EPSG code and geotransform [a, b, c, d, e, f] (x = a·col + b·row + c, y = d·col + e·row + f). */
  geo?: { epsg: number; geographic?: boolean; transform: [number, number, number, number, number, number] };
  nodata?: string;
  /** TIFF DateTime, `YYYY:MM:DD HH:MM:SS`. */
  datetime?: string;
  /** Value of `band` at full-resolution pixel (col, row); overviews sample it at their pixel centres. */
  pixel: (band: number, col: number, row: number) => number;
}

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const DOUBLE = 12;
const TYPE_SIZE: Record<number, number> = { [SHORT]: 2, [LONG]: 4, [ASCII]: 1, [DOUBLE]: 8 };

interface Entry {
  tag: number;
  type: number;
  values: number[] | string;
}

function bytesPer(dataType: TiffDataType): number {
  return dataType === 'uint8' ? 1 : dataType === 'float32' ? 4 : 2;
}

function sampleFormat(dataType: TiffDataType): number {
  return dataType === 'float32' ? 3 : dataType === 'int16' ? 2 : 1;
}

interface Level {
  factor: number;
  width: number;
  height: number;
  blocks: Buffer[];
  blockWidth: number;
  blockHeight: number;
}

function encodeBlock(spec: TiffSpec, level: Level, bx: number, by: number): Buffer {
  const { blockWidth: bw, blockHeight: bh } = level;
  const spp = Math.max(1, spec.bands);
  const size = bytesPer(spec.dataType);
  const h = spec.tile ? bh : Math.min(bh, level.height - by * bh);
  const buf = Buffer.alloc(bw * h * spp * size);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const f = level.factor;
  let o = 0;
  for (let r = 0; r < h; r++) {
    const row = by * bh + r;
    for (let c = 0; c < bw; c++) {
      const col = bx * bw + c;
      const inside = row < level.height && col < level.width && spec.bands > 0;
      // Overview pixel centre in full-resolution pixels.
      const fc = Math.min(spec.width - 1, Math.floor((col + 0.5) * f));
      const fr = Math.min(spec.height - 1, Math.floor((row + 0.5) * f));
      for (let b = 0; b < spp; b++) {
        const v = inside ? spec.pixel(b, fc, fr) : 0;
        switch (spec.dataType) {
          case 'uint8':
            buf[o] = v;
            break;
          case 'uint16':
            view.setUint16(o, v, true);
            break;
          case 'int16':
            view.setInt16(o, v, true);
            break;
          case 'float32':
            view.setFloat32(o, v, true);
            break;
        }
        o += size;
      }
    }
  }
  return spec.compression === 'deflate' ? deflateSync(buf, { level: 1 }) : buf;
}

function geoEntries(geo: NonNullable<TiffSpec['geo']>): Entry[] {
  const [a, b, c, d, e, f] = geo.transform;
  const keys = geo.geographic ? [1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, geo.epsg] : [1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, geo.epsg];
  const entries: Entry[] = [{ tag: 34735, type: SHORT, values: [1, 1, 0, keys.length / 4, ...keys] }];
  if (b === 0 && d === 0) {
    entries.push({ tag: 33550, type: DOUBLE, values: [a, -e, 0] }, { tag: 33922, type: DOUBLE, values: [0, 0, 0, c, f, 0] });
  } else {
    entries.push({ tag: 34264, type: DOUBLE, values: [a, b, 0, c, d, e, 0, f, 0, 0, 0, 0, 0, 0, 0, 1] });
  }
  return entries;
}

function ifdEntries(spec: TiffSpec, level: Level, isOverview: boolean, offsets: number[]): Entry[] {
  const spp = spec.bands;
  const bits = Array.from({ length: Math.max(1, spp) }, () => bytesPer(spec.dataType) * 8);
  const tiled = spec.tile !== undefined;
  const entries: Entry[] = [
    { tag: 256, type: LONG, values: [level.width] },
    { tag: 257, type: LONG, values: [level.height] },
    { tag: 258, type: SHORT, values: bits },
    { tag: 259, type: SHORT, values: [spec.compression === 'deflate' ? 8 : 1] },
    { tag: 262, type: SHORT, values: [spec.photometric ?? (spp >= 3 ? 2 : 1)] },
    { tag: 277, type: SHORT, values: [spp] },
    { tag: 284, type: SHORT, values: [1] },
    { tag: 339, type: SHORT, values: bits.map(() => sampleFormat(spec.dataType)) },
  ];
  if (isOverview) entries.push({ tag: 254, type: LONG, values: [1] });
  if (tiled) {
    entries.push(
      { tag: 322, type: SHORT, values: [level.blockWidth] },
      { tag: 323, type: SHORT, values: [level.blockHeight] },
      { tag: 324, type: LONG, values: offsets },
      { tag: 325, type: LONG, values: level.blocks.map((b) => b.length) },
    );
  } else {
    entries.push(
      { tag: 273, type: LONG, values: offsets },
      { tag: 278, type: LONG, values: [level.blockHeight] },
      { tag: 279, type: LONG, values: level.blocks.map((b) => b.length) },
    );
  }
  if (spp > 3 && (spec.photometric ?? 2) === 2) entries.push({ tag: 338, type: SHORT, values: Array.from({ length: spp - 3 }, () => 0) });
  if (!isOverview) {
    if (spec.datetime) entries.push({ tag: 306, type: ASCII, values: `${spec.datetime}\0` });
    if (spec.geo) entries.push(...geoEntries(spec.geo));
  }
  if (spec.nodata !== undefined) entries.push({ tag: 42113, type: ASCII, values: `${spec.nodata}\0` });
  return entries.sort((x, y) => x.tag - y.tag);
}

function count(entry: Entry): number {
  return typeof entry.values === 'string' ? Buffer.byteLength(entry.values, 'latin1') : entry.values.length;
}

/** Bytes an IFD takes, out-of-line values included (word aligned). */
function ifdSize(entries: Entry[]): number {
  let size = 2 + entries.length * 12 + 4;
  for (const e of entries) {
    const bytes = count(e) * TYPE_SIZE[e.type]!;
    if (bytes > 4) size += bytes + (bytes % 2);
  }
  return size;
}

function writeIfd(buf: Buffer, at: number, entries: Entry[], next: number): void {
  buf.writeUInt16LE(entries.length, at);
  let extra = at + 2 + entries.length * 12 + 4;
  entries.forEach((e, i) => {
    const p = at + 2 + i * 12;
    const n = count(e);
    const bytes = n * TYPE_SIZE[e.type]!;
    buf.writeUInt16LE(e.tag, p);
    buf.writeUInt16LE(e.type, p + 2);
    buf.writeUInt32LE(n, p + 4);
    let target = p + 8;
    if (bytes > 4) {
      buf.writeUInt32LE(extra, p + 8);
      target = extra;
      extra += bytes + (bytes % 2);
    }
    if (typeof e.values === 'string') buf.write(e.values, target, 'latin1');
    else
      e.values.forEach((v, k) => {
        if (e.type === SHORT) buf.writeUInt16LE(v, target + k * 2);
        else if (e.type === LONG) buf.writeUInt32LE(v, target + k * 4);
        else if (e.type === DOUBLE) buf.writeDoubleLE(v, target + k * 8);
      });
  });
  buf.writeUInt32LE(next, at + 2 + entries.length * 12);
}

/** Writes the TIFF to `path`; returns its size. */
export async function writeTiff(path: string, spec: TiffSpec): Promise<{ size: number }> {
  const factors = [1, ...(spec.overviews ?? [])];
  const levels: Level[] = factors.map((factor) => {
    const width = Math.max(1, Math.ceil(spec.width / factor));
    const height = Math.max(1, Math.ceil(spec.height / factor));
    const blockWidth = spec.tile ?? width;
    const blockHeight = spec.tile ?? Math.min(16, height);
    return { factor, width, height, blocks: [], blockWidth, blockHeight };
  });
  for (const level of levels) {
    const across = Math.ceil(level.width / level.blockWidth);
    const down = Math.ceil(level.height / level.blockHeight);
    for (let by = 0; by < down; by++) for (let bx = 0; bx < across; bx++) level.blocks.push(encodeBlock(spec, level, bx, by));
  }
  // Layout: header, every IFD, then the image data from the coarsest overview to full resolution.
  const sizes = levels.map((level, i) =>
    ifdSize(
      ifdEntries(
        spec,
        level,
        i > 0,
        level.blocks.map(() => 0),
      ),
    ),
  );
  const header = 8;
  const ifdStarts: number[] = [];
  let at = header;
  for (const s of sizes) {
    ifdStarts.push(at);
    at += s;
  }
  const dataOffsets: number[][] = levels.map(() => []);
  for (let i = levels.length - 1; i >= 0; i--) {
    for (const block of levels[i]!.blocks) {
      dataOffsets[i]!.push(at);
      at += block.length;
    }
  }
  const head = Buffer.alloc(ifdStarts[ifdStarts.length - 1]! + sizes[sizes.length - 1]!);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(header, 4);
  levels.forEach((level, i) => writeIfd(head, ifdStarts[i]!, ifdEntries(spec, level, i > 0, dataOffsets[i]!), ifdStarts[i + 1] ?? 0));
  const file = await open(path, 'w');
  try {
    await file.write(head);
    for (let i = levels.length - 1; i >= 0; i--) for (const block of levels[i]!.blocks) await file.write(block);
  } finally {
    await file.close();
  }
  return { size: at };
}
