import type { TypedArray } from 'geotiff';
import { applyAffine, invertAffine } from './affine.js';
import { crsTransformer, mercatorToLonLat, periodicWidth, wrapX } from './crs.js';
import { type Bbox, bboxesIntersect } from './footprint.js';
import { type BlockLayout, blockStride, type DecodeMode } from './block-reader.js';
import { type BlockRequest, nodataNumber, RasterFile, readMask, readWindow, type Window } from './geotiff-raster.js';
import { RasterProblem, type RasterInfo } from './raster-info.js';

export type Resampling = 'nearest' | 'bilinear';

/**
 * Source positions (full-resolution pixel space, continuous; NaN = nothing there) of every output
 * pixel. renderGrid consumes it: it reuses the arrays, then hands them back for the next grid.
 */
export interface SourceGrid {
  width: number;
  height: number;
  sx: Float64Array;
  sy: Float64Array;
  /** Full-resolution pixels per output pixel, to pick the overview. */
  ratio: number;
}

export const TILE_SIZE = 256;
const EARTH_HALF = Math.PI * 6378137;

/**
 * Position arrays of recent grids, reused by the next ones of this thread: a tile's 1 MB of them,
 * new each time, had V8 run a full collection every few tiles (it counts memory outside its heap).
 */
const spareArrays: Float64Array[] = [];
const SPARE_ARRAYS = 8;

function positions(length: number): Float64Array {
  const i = spareArrays.findIndex((a) => a.length === length);
  return i >= 0 ? spareArrays.splice(i, 1)[0]! : new Float64Array(length);
}

function recycle(grid: SourceGrid): void {
  for (const a of [grid.sx, grid.sy]) if (spareArrays.length < SPARE_ARRAYS && !spareArrays.includes(a)) spareArrays.push(a);
}

/** Web Mercator bounds [minx, miny, maxx, maxy] of an XYZ tile. */
export function tileBounds(z: number, x: number, y: number): [number, number, number, number] {
  const span = (2 * EARTH_HALF) / 2 ** z;
  return [-EARTH_HALF + x * span, EARTH_HALF - (y + 1) * span, -EARTH_HALF + (x + 1) * span, EARTH_HALF - y * span];
}

/** WGS 84 bounds of an XYZ tile. */
export function tileLonLatBounds(z: number, x: number, y: number): Bbox {
  const [minx, miny, maxx, maxy] = tileBounds(z, x, y);
  const [w, s] = mercatorToLonLat(minx, miny);
  const [e, n] = mercatorToLonLat(maxx, maxy);
  return [w, s, e, n];
}

/** Whether a tile touches the box of the footprint (the 404 rule of the tile route). */
export function tileTouchesFootprint(info: RasterInfo, z: number, x: number, y: number): boolean {
  const tile = tileLonLatBounds(z, x, y);
  return info.wgs84Bboxes.some((b) => bboxesIntersect(tile, b));
}

/**
 * Where each pixel of a Web Mercator tile falls in the raster. Exact projections on a grid every
 * 16 pixels, interpolated in between; cells where the interpolation would be off by more than a
 * quarter of a source pixel are projected pixel by pixel.
 */
export function tileSourceGrid(info: RasterInfo, z: number, x: number, y: number, size = TILE_SIZE): SourceGrid | null {
  if (!info.crs || !info.transform) return null;
  const transformer = crsTransformer(info.crs);
  const inverse = invertAffine(info.transform);
  const [minx, , , maxy] = tileBounds(z, x, y);
  const res = (2 * EARTH_HALF) / 2 ** z / size;
  const period = periodicWidth(info.crs);
  const west = info.nativeBounds?.[0] ?? -180;

  const exact = (i: number, j: number): [number, number] => {
    const [lon, lat] = mercatorToLonLat(minx + (i + 0.5) * res, maxy - (j + 0.5) * res);
    let [nx, ny] = transformer.fromLonLat(lon, lat);
    // A raster may extend past ±180° (0…360 grids, antimeridian crossers, Web Mercator beyond 180°).
    nx = wrapX(nx, west, period);
    if (!Number.isFinite(nx) || !Number.isFinite(ny)) return [NaN, NaN];
    return applyAffine(inverse, nx, ny);
  };

  const step = 16;
  const cells = Math.ceil(size / step);
  const nodes = cells + 1;
  const gx = new Float64Array(nodes * nodes);
  const gy = new Float64Array(nodes * nodes);
  for (let l = 0; l < nodes; l++) {
    for (let k = 0; k < nodes; k++) {
      const [sx, sy] = exact(k * step, l * step);
      gx[l * nodes + k] = sx;
      gy[l * nodes + k] = sy;
    }
  }
  // Full-resolution pixels per output pixel, from the node spacing (median over the cells).
  const ratios: number[] = [];
  for (let l = 0; l < cells; l++) {
    for (let k = 0; k < cells; k++) {
      const a = l * nodes + k;
      const dxi = (gx[a + 1]! - gx[a]!) / step;
      const dyi = (gy[a + 1]! - gy[a]!) / step;
      const dxj = (gx[a + nodes]! - gx[a]!) / step;
      const dyj = (gy[a + nodes]! - gy[a]!) / step;
      const det = Math.abs(dxi * dyj - dyi * dxj);
      if (Number.isFinite(det) && det > 0) ratios.push(Math.sqrt(det));
    }
  }
  ratios.sort((p, q) => p - q);
  const ratio = ratios.length ? ratios[Math.floor(ratios.length / 2)]! : 1;
  const level = info.levels[chooseLevel(info, ratio)]!;
  const tolerance = 0.25 * (info.width / level.width);

  const sx = positions(size * size);
  const sy = positions(size * size);
  for (let l = 0; l < cells; l++) {
    for (let k = 0; k < cells; k++) {
      const a = l * nodes + k;
      const corners = [a, a + 1, a + nodes, a + nodes + 1];
      let interpolate = corners.every((c) => Number.isFinite(gx[c]!) && Number.isFinite(gy[c]!));
      if (interpolate) {
        const [cx, cy] = exact(k * step + step / 2, l * step + step / 2);
        const ix = (gx[a]! + gx[a + 1]! + gx[a + nodes]! + gx[a + nodes + 1]!) / 4;
        const iy = (gy[a]! + gy[a + 1]! + gy[a + nodes]! + gy[a + nodes + 1]!) / 4;
        interpolate = Number.isFinite(cx) && Math.hypot(cx - ix, cy - iy) <= tolerance;
      }
      for (let j = l * step; j < Math.min(size, (l + 1) * step); j++) {
        const ty = (j - l * step) / step;
        for (let i = k * step; i < Math.min(size, (k + 1) * step); i++) {
          const o = j * size + i;
          if (interpolate) {
            const tx = (i - k * step) / step;
            const w00 = (1 - tx) * (1 - ty);
            const w10 = tx * (1 - ty);
            const w01 = (1 - tx) * ty;
            const w11 = tx * ty;
            sx[o] = gx[a]! * w00 + gx[a + 1]! * w10 + gx[a + nodes]! * w01 + gx[a + nodes + 1]! * w11;
            sy[o] = gy[a]! * w00 + gy[a + 1]! * w10 + gy[a + nodes]! * w01 + gy[a + nodes + 1]! * w11;
          } else {
            const [px, py] = exact(i, j);
            sx[o] = px;
            sy[o] = py;
          }
        }
      }
    }
  }
  return { width: size, height: size, sx, sy, ratio };
}

/** The raster as an image of at most `maxSize` pixels on its longer side (never enlarged). */
export function thumbnailSourceGrid(info: RasterInfo, maxSize: number): SourceGrid {
  const scale = Math.min(1, maxSize / Math.max(info.width, info.height));
  const width = Math.max(1, Math.round(info.width * scale));
  const height = Math.max(1, Math.round(info.height * scale));
  const sx = positions(width * height);
  const sy = positions(width * height);
  const fx = info.width / width;
  const fy = info.height / height;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      sx[j * width + i] = (i + 0.5) * fx;
      sy[j * width + i] = (j + 0.5) * fy;
    }
  }
  return { width, height, sx, sy, ratio: Math.max(fx, fy) };
}

/** The coarsest level whose pixels are still at least as fine as `ratio` full-resolution pixels. */
export function chooseLevel(info: RasterInfo, ratio: number): number {
  let best = 0;
  info.levels.forEach((level, i) => {
    if (info.width / level.width <= ratio * 1.0001) best = i;
  });
  return best;
}

const MAX_WINDOW_PIXELS = 4_000_000;
/**
 * Most source pixels one image may read (16384²): a raster without overviews seen whole (its
 * thumbnail, a low-zoom tile) would otherwise be read entirely, for minutes, holding a render slot.
 */
export const MAX_RENDER_SOURCE_PIXELS = 16384 * 16384;

export interface RenderedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
  /** No pixel is transparent. */
  opaque: boolean;
  /** Every pixel is transparent. */
  empty: boolean;
}

/**
 * Draws the raster at the given source positions: picks the level, reads only the window it
 * needs (in stripes when large), resamples, applies nodata / mask / alpha transparency, the
 * palette or the 2–98 % stretch of non-byte data.
 */
export async function renderGrid(file: RasterFile, info: RasterInfo, grid: SourceGrid, resampling: Resampling, signal?: AbortSignal): Promise<RenderedImage> {
  try {
    return await drawGrid(file, info, grid, resampling, signal);
  } finally {
    recycle(grid);
  }
}

async function drawGrid(file: RasterFile, info: RasterInfo, grid: SourceGrid, resampling: Resampling, signal?: AbortSignal): Promise<RenderedImage> {
  const { width, height } = grid;
  const rgba = new Uint8Array(width * height * 4);
  const levelIndex = chooseLevel(info, grid.ratio);
  const level = info.levels[levelIndex]!;
  const fx = info.width / level.width;
  const fy = info.height / level.height;
  const mode = info.render.mode === 'palette' ? 'nearest' : resampling;
  const n = width * height;

  // Positions in level pixels, in place of the grid's; outside the raster → NaN.
  const lx = grid.sx;
  const ly = grid.sy;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let o = 0; o < n; o++) {
    const x = grid.sx[o]! / fx;
    const y = grid.sy[o]! / fy;
    if (!(x >= 0 && x < level.width && y >= 0 && y < level.height)) {
      lx[o] = NaN;
      continue;
    }
    lx[o] = x;
    ly[o] = y;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (minX === Infinity) return { width, height, rgba, opaque: false, empty: true };
  const x0 = Math.max(0, Math.floor(minX) - 1);
  const x1 = Math.min(level.width, Math.floor(maxX) + 2);
  const y0 = Math.max(0, Math.floor(minY) - 1);
  const y1 = Math.min(level.height, Math.floor(maxY) + 2);
  const windowPixels = (x1 - x0) * (y1 - y0);
  if (windowPixels > MAX_RENDER_SOURCE_PIXELS) {
    throw new RasterProblem(
      422,
      `Drawing this view would read ${windowPixels.toLocaleString('en')} pixels of the raster (more than ${MAX_RENDER_SOURCE_PIXELS.toLocaleString('en')}): ` +
        `it has no overview coarse enough. Add overviews (gdaladdo, or save it as a COG) or view it at a closer zoom.`,
      'unsupported',
    );
  }

  // Bucket output pixels by the source row they start from, then read stripe by stripe (one
  // stripe, the whole window, unless it is large).
  const rowsPerStripe = (x1 - x0) * (y1 - y0) <= MAX_WINDOW_PIXELS ? y1 - y0 : Math.max(info.blockHeight, Math.floor(MAX_WINDOW_PIXELS / (x1 - x0)));
  const stripeCount = Math.ceil((y1 - y0) / rowsPerStripe);
  let buckets: Int32Array[] | null = null;
  if (stripeCount > 1) {
    const stripeOf = new Int32Array(n).fill(-1);
    const counts = new Int32Array(stripeCount);
    for (let o = 0; o < n; o++) {
      if (Number.isNaN(lx[o]!)) continue;
      const top = Math.max(y0, Math.floor(mode === 'bilinear' ? ly[o]! - 0.5 : ly[o]!));
      const s = Math.min(stripeCount - 1, Math.floor((top - y0) / rowsPerStripe));
      stripeOf[o] = s;
      counts[s]!++;
    }
    buckets = Array.from(counts, (c) => new Int32Array(c));
    const fill = new Int32Array(stripeCount);
    for (let o = 0; o < n; o++) {
      const s = stripeOf[o]!;
      if (s >= 0) buckets[s]![fill[s]!++] = o;
    }
  }

  const bands = info.render.bands;
  const alphaBand = info.render.alpha;
  const nodata = bands.map((b) => nodataNumber(info.bands[b]!.nodata, info.bands[b]!.dataType));
  const stretch = bands.map((b) => {
    const band = info.bands[b]!;
    const isByte = band.dataType === 'uint8' && band.bitsPerSample === 8;
    // Byte data is shown as it is, unless it only uses a sliver of the range (a class map, a 0/1 mask).
    const narrow = isByte && band.statistics?.maximum !== undefined && band.statistics.maximum < 16;
    if (info.render.mode === 'palette' || (isByte && !narrow)) return null;
    const [lo, hi] = narrow ? [band.statistics!.minimum ?? 0, band.statistics!.maximum!] : (band.stretch ?? [band.statistics?.minimum ?? 0, band.statistics?.maximum ?? 1]);
    return [lo, 255 / (hi - lo || 1)] as const;
  });
  const palette = info.render.mode === 'palette' ? info.palette : null;
  const paletteSize = palette ? palette.length / 3 : 0;
  const invert = info.render.invert;
  const bilinear = mode === 'bilinear';
  const nb = bands.length;
  let opaque = true;
  let empty = true;

  for (let s = 0; s < stripeCount; s++) {
    const pixels = buckets ? buckets[s]! : null;
    const r0 = y0 + s * rowsPerStripe;
    const r1 = Math.min(y1, r0 + rowsPerStripe + 1);
    if (pixels && pixels.length === 0) continue;
    signal?.throwIfAborted();
    const w: Window = { x0, y0: r0, x1, y1: r1 };
    const data = await readWindow(file, info, level, w, signal);
    const mask = await readMask(file, level, w, signal);
    const ww = x1 - x0;
    const colour = bands.map((b) => data[b]!);
    const alpha = alphaBand !== null ? data[alphaBand]! : null;
    const c0 = colour[0]!;
    const c1 = colour[nb > 1 ? 1 : 0]!;
    const c2 = colour[nb > 2 ? 2 : 0]!;

    // Which source pixels of the window are valid (not masked, transparent or nodata in every band).
    const size = ww * (r1 - r0);
    const valid = new Uint8Array(size);
    let validCount = 0;
    const nd0 = nodata[0] ?? null;
    const nd1 = nodata[nb > 1 ? 1 : 0] ?? null;
    const nd2 = nodata[nb > 2 ? 2 : 0] ?? null;
    for (let i = 0; i < size; i++) {
      if ((mask && mask[i] === 0) || (alpha && alpha[i] === 0)) continue;
      const v0 = c0[i]!;
      let ok = !(Number.isNaN(v0) || v0 === nd0);
      if (!ok && nb > 1) {
        const v1 = c1[i]!;
        ok = !(Number.isNaN(v1) || v1 === nd1);
      }
      if (!ok && nb > 2) {
        const v2 = c2[i]!;
        ok = !(Number.isNaN(v2) || v2 === nd2);
      }
      if (ok) {
        valid[i] = 1;
        validCount++;
      }
    }
    // Every source pixel valid (the usual case): no neighbour needs checking.
    const allValid = validCount === size;

    const plain = allValid && !palette && !alpha && !invert && stretch.every((st) => st === null) && [c0, c1, c2].every((c) => c instanceof Uint8Array);
    const drawn = plain
      ? {
          opaque: true,
          empty: drawByteStripe({ pixels, n, lx, ly, x0, r0, xMax: x1 - 1, yMax: r1 - 1, ww, c0: c0 as Uint8Array, c1: c1 as Uint8Array, c2: c2 as Uint8Array, rgba }, bilinear),
        }
      : drawStripe({
          pixels,
          n,
          lx,
          ly,
          x0,
          r0,
          xMax: x1 - 1,
          yMax: r1 - 1,
          ww,
          valid,
          allValid,
          bilinear,
          c0,
          c1,
          c2,
          alpha,
          palette,
          paletteSize,
          stretch,
          nb,
          invert,
          rgba,
        });
    if (!drawn.opaque) opaque = false;
    if (!drawn.empty) empty = false;
  }
  for (let o = 0; o < n && opaque; o++) if (Number.isNaN(lx[o]!)) opaque = false;
  return { width, height, rgba, opaque, empty };
}

/**
 * drawStripe for the most common case, kept apart so that it compiles to a tight loop: byte
 * bands shown as they are, every source pixel valid, no alpha band. The same bytes as drawStripe
 * (the same sums in the same order: its zero terms add nothing). Returns whether nothing was drawn.
 */
function drawByteStripe(s: ByteStripe, bilinear: boolean): boolean {
  if (s.pixels) {
    let empty = true;
    for (let p = 0; p < s.pixels.length; p++) if (bilinear ? byteBilinear(s, s.pixels[p]!) : byteNearest(s, s.pixels[p]!)) empty = false;
    return empty;
  }
  return bilinear ? byteBilinearAll(s) : byteNearestAll(s);
}

interface ByteStripe {
  pixels: Int32Array | null;
  n: number;
  lx: Float64Array;
  ly: Float64Array;
  x0: number;
  r0: number;
  xMax: number;
  yMax: number;
  ww: number;
  c0: Uint8Array;
  c1: Uint8Array;
  c2: Uint8Array;
  rgba: Uint8Array;
}

function byteBilinearAll(s: ByteStripe): boolean {
  let empty = true;
  for (let o = 0; o < s.n; o++) if (byteBilinear(s, o)) empty = false;
  return empty;
}

function byteNearestAll(s: ByteStripe): boolean {
  let empty = true;
  for (let o = 0; o < s.n; o++) if (byteNearest(s, o)) empty = false;
  return empty;
}

/** Draws output pixel `o` (bilinear); false when it falls outside the raster. */
function byteBilinear(s: ByteStripe, o: number): boolean {
  const px = s.lx[o]!;
  if (px !== px) return false; // NaN: outside the raster
  const py = s.ly[o]!;
  const { x0, r0, xMax, yMax, ww, c0, c1, c2, rgba } = s;
  const u = px - 0.5;
  const v = py - 0.5;
  const ca = Math.floor(u);
  const ra = Math.floor(v);
  const tx = u - ca;
  const ty = v - ra;
  const cl = (ca < x0 ? x0 : ca > xMax ? xMax : ca) - x0;
  const cr = (ca + 1 < x0 ? x0 : ca + 1 > xMax ? xMax : ca + 1) - x0;
  const rt = ((ra < r0 ? r0 : ra > yMax ? yMax : ra) - r0) * ww;
  const rb = ((ra + 1 < r0 ? r0 : ra + 1 > yMax ? yMax : ra + 1) - r0) * ww;
  const i00 = rt + cl;
  const i10 = rt + cr;
  const i01 = rb + cl;
  const i11 = rb + cr;
  const w00 = (1 - tx) * (1 - ty);
  const w10 = tx * (1 - ty);
  const w01 = (1 - tx) * ty;
  const w11 = tx * ty;
  const total = w00 + w10 + w01 + w11;
  const out = o * 4;
  // A byte store truncates: + 0.5 rounds these non-negative values half up as Math.round does, without
  // its data-dependent branch (mispredicted on most pixels of real imagery: it made this loop 2.6× slower).
  rgba[out] = (c0[i00]! * w00 + c0[i10]! * w10 + c0[i01]! * w01 + c0[i11]! * w11) / total + 0.5;
  rgba[out + 1] = (c1[i00]! * w00 + c1[i10]! * w10 + c1[i01]! * w01 + c1[i11]! * w11) / total + 0.5;
  rgba[out + 2] = (c2[i00]! * w00 + c2[i10]! * w10 + c2[i01]! * w01 + c2[i11]! * w11) / total + 0.5;
  rgba[out + 3] = 255;
  return true;
}

/** Draws output pixel `o` (nearest); false when it falls outside the raster. */
function byteNearest(s: ByteStripe, o: number): boolean {
  const px = s.lx[o]!;
  if (px !== px) return false;
  const { x0, r0, xMax, yMax, ww, c0, c1, c2, rgba } = s;
  let fx = Math.floor(px);
  let fy = Math.floor(s.ly[o]!);
  fx = fx < x0 ? x0 : fx > xMax ? xMax : fx;
  fy = fy < r0 ? r0 : fy > yMax ? yMax : fy;
  const i = (fy - r0) * ww + (fx - x0);
  const out = o * 4;
  rgba[out] = c0[i]!;
  rgba[out + 1] = c1[i]!;
  rgba[out + 2] = c2[i]!;
  rgba[out + 3] = 255;
  return true;
}

/** What drawStripe needs: output positions, the stripe's window of source values and how to colour them. */
interface Stripe {
  /** Output pixels to draw (null: all of them). */
  pixels: Int32Array | null;
  n: number;
  lx: Float64Array;
  ly: Float64Array;
  x0: number;
  r0: number;
  xMax: number;
  yMax: number;
  ww: number;
  valid: Uint8Array;
  allValid: boolean;
  bilinear: boolean;
  c0: TypedArray;
  c1: TypedArray;
  c2: TypedArray;
  alpha: TypedArray | null;
  palette: number[] | null;
  paletteSize: number;
  stretch: (readonly [number, number] | null)[];
  nb: number;
  invert: boolean;
  rgba: Uint8Array;
}

/** Resamples one stripe into the image (a function of its own: compiled once, not inside a loop of an async function). */
function drawStripe(stripe: Stripe): { opaque: boolean; empty: boolean } {
  const { pixels, n, lx, ly, x0, r0, xMax, yMax, ww, valid, allValid, bilinear, c0, c1, c2, alpha, palette, paletteSize, stretch, nb, invert, rgba } = stripe;
  let opaque = true;
  let empty = true;
  const count = pixels ? pixels.length : n;
  for (let p = 0; p < count; p++) {
    const o = pixels ? pixels[p]! : p;
    const px = lx[o]!;
    if (Number.isNaN(px)) continue;
    const py = ly[o]!;
    let fx0 = Math.floor(px);
    let fy0 = Math.floor(py);
    fx0 = fx0 < x0 ? x0 : fx0 > xMax ? xMax : fx0;
    fy0 = fy0 < r0 ? r0 : fy0 > yMax ? yMax : fy0;
    const nearest = (fy0 - r0) * ww + (fx0 - x0);
    if (!allValid && valid[nearest] === 0) {
      opaque = false;
      continue;
    }
    let v0: number;
    let v1: number;
    let v2: number;
    if (!bilinear) {
      v0 = c0[nearest]!;
      v1 = c1[nearest]!;
      v2 = c2[nearest]!;
    } else {
      const u = px - 0.5;
      const v = py - 0.5;
      const ca = Math.floor(u);
      const ra = Math.floor(v);
      const tx = u - ca;
      const ty = v - ra;
      const cl = (ca < x0 ? x0 : ca > xMax ? xMax : ca) - x0;
      const cr = (ca + 1 < x0 ? x0 : ca + 1 > xMax ? xMax : ca + 1) - x0;
      const rt = ((ra < r0 ? r0 : ra > yMax ? yMax : ra) - r0) * ww;
      const rb = ((ra + 1 < r0 ? r0 : ra + 1 > yMax ? yMax : ra + 1) - r0) * ww;
      const i00 = rt + cl;
      const i10 = rt + cr;
      const i01 = rb + cl;
      const i11 = rb + cr;
      const w00 = (1 - tx) * (1 - ty);
      const w10 = tx * (1 - ty);
      const w01 = (1 - tx) * ty;
      const w11 = tx * ty;
      let total = 0;
      v0 = 0;
      v1 = 0;
      v2 = 0;
      if (w00 > 0 && (allValid || i00 === nearest || valid[i00] === 1)) {
        total += w00;
        v0 += c0[i00]! * w00;
        v1 += c1[i00]! * w00;
        v2 += c2[i00]! * w00;
      }
      if (w10 > 0 && (allValid || i10 === nearest || valid[i10] === 1)) {
        total += w10;
        v0 += c0[i10]! * w10;
        v1 += c1[i10]! * w10;
        v2 += c2[i10]! * w10;
      }
      if (w01 > 0 && (allValid || i01 === nearest || valid[i01] === 1)) {
        total += w01;
        v0 += c0[i01]! * w01;
        v1 += c1[i01]! * w01;
        v2 += c2[i01]! * w01;
      }
      if (w11 > 0 && (allValid || i11 === nearest || valid[i11] === 1)) {
        total += w11;
        v0 += c0[i11]! * w11;
        v1 += c1[i11]! * w11;
        v2 += c2[i11]! * w11;
      }
      if (total > 0) {
        v0 /= total;
        v1 /= total;
        v2 /= total;
      } else {
        v0 = c0[nearest]!;
        v1 = c1[nearest]!;
        v2 = c2[nearest]!;
      }
    }
    const out = o * 4;
    if (palette) {
      const k = Math.max(0, Math.min(paletteSize - 1, Math.round(v0)));
      rgba[out] = palette[k]! >> 8;
      rgba[out + 1] = palette[paletteSize + k]! >> 8;
      rgba[out + 2] = palette[2 * paletteSize + k]! >> 8;
    } else {
      rgba[out] = toByte(v0, stretch[0]!, invert);
      rgba[out + 1] = toByte(v1, stretch[nb > 1 ? 1 : 0]!, invert);
      rgba[out + 2] = toByte(v2, stretch[nb > 2 ? 2 : 0]!, invert);
    }
    const a = alpha ? Math.max(0, Math.min(255, alpha[nearest]!)) : 255;
    rgba[out + 3] = a;
    if (a < 255) opaque = false;
    if (a > 0) empty = false;
  }
  return { opaque, empty };
}

/** A band value as a byte of the image: stretched (non-byte data), rounded, clamped, inverted (white-is-zero). */
function toByte(value: number, stretch: readonly [number, number] | null, invert: boolean): number {
  let v = stretch ? (value - stretch[0]) * stretch[1] : value;
  // floor(v + 0.5) is Math.round for v >= 0, without its data-dependent branch.
  v = v < 0 ? 0 : v > 255 ? 255 : Math.floor(v + 0.5);
  return invert ? 255 - v : v;
}

/** Blocks read at once by samplePixels. */
const SAMPLE_READS_IN_FLIGHT = 8;

export interface PixelSample {
  col: number;
  row: number;
  /** One value per band; null for nodata, masked or alpha-transparent pixels. */
  values: (number | null)[];
}

/** Blocks decoded per batch by samplePixels (a batch's reads are made together). */
const SAMPLE_BATCH_BLOCKS = 48;

/**
 * Every band's value at full-resolution pixels, reading each needed block once, in block order
 * (row by row, as a tiled or stripped file stores them) and a few at a time: reads move forward
 * through the file, and on an object store their round trips overlap. A block is decoded only
 * down to the lowest row asked for in it. `mode`: see DecodeMode (`sync` in a render thread).
 */
export async function samplePixels(
  file: RasterFile,
  info: RasterInfo,
  pixels: { col: number; row: number }[],
  signal?: AbortSignal,
  mode: DecodeMode = 'async',
): Promise<PixelSample[]> {
  const level = info.levels[0]!;
  const across = Math.ceil(info.width / info.blockWidth);
  const groups = new Map<number, number[]>();
  pixels.forEach((p, i) => {
    const block = Math.floor(p.row / info.blockHeight) * across + Math.floor(p.col / info.blockWidth);
    const list = groups.get(block);
    if (list) list.push(i);
    else groups.set(block, [i]);
  });
  const order = [...groups.keys()].sort((a, b) => a - b);
  const nodata = info.bands.map((b) => nodataNumber(b.nodata, b.dataType));
  const results: PixelSample[] = new Array(pixels.length);
  const alphaBand = info.render.alpha;
  const layout = await file.layout(level.ifd);

  const record = (m: number, value: (band: number) => number, hidden: boolean) => {
    const { col, row } = pixels[m]!;
    results[m] = {
      col,
      row,
      values: info.bands.map((_, b) => {
        const v = value(b);
        const nd = nodata[b];
        if (hidden || Number.isNaN(v) || v === nd) return null;
        return v;
      }),
    };
  };

  /** The members' bounding window within their block. */
  const windowOf = (members: number[]): Window => {
    const w: Window = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    for (const m of members) {
      const { col, row } = pixels[m]!;
      w.x0 = Math.min(w.x0, col);
      w.y0 = Math.min(w.y0, row);
      w.x1 = Math.max(w.x1, col + 1);
      w.y1 = Math.max(w.y1, row + 1);
    }
    return w;
  };

  // Blocks read straight from the file: a batch of blocks at a time, each decoded once.
  const sampleDirect = async (batch: number[], blockLayout: BlockLayout) => {
    const planes = blockLayout.planar ? blockLayout.samples : 1;
    const wanted: BlockRequest[] = [];
    for (const block of batch) {
      const by = Math.floor(block / across);
      const bx = block % across;
      let lowest = 0;
      for (const m of groups.get(block)!) lowest = Math.max(lowest, pixels[m]!.row - by * blockLayout.blockHeight + 1);
      for (let plane = 0; plane < planes; plane++) wanted.push({ bx, by, plane, rows: lowest });
    }
    const blocks = await file.blocks(level.ifd, blockLayout, wanted, signal, mode);
    const stride = blockStride(blockLayout);
    for (let k = 0; k < batch.length; k++) {
      const block = batch[k]!;
      const members = groups.get(block)!;
      const { bx, by } = wanted[k * planes]!;
      const mw = windowOf(members);
      const mask = level.maskIfd !== null ? await readMask(file, level, mw, signal) : null;
      for (const m of members) {
        const { col, row } = pixels[m]!;
        const at = (row - by * blockLayout.blockHeight) * blockLayout.blockWidth + (col - bx * blockLayout.blockWidth);
        const value = (b: number) => (planes > 1 ? blocks[k * planes + b]!.data[at]! : blocks[k * planes]!.data[at * stride + b]!);
        const hidden = (mask !== null && mask[(row - mw.y0) * (mw.x1 - mw.x0) + (col - mw.x0)] === 0) || (alphaBand !== null && value(alphaBand) === 0);
        record(m, value, hidden);
      }
    }
  };

  // Anything else, through geotiff.js: only the pixels asked for within each block (decoded once either way).
  const sampleWindow = async (block: number) => {
    const members = groups.get(block)!;
    const w = windowOf(members);
    const data = await readWindow(file, info, level, w, signal);
    const mask = await readMask(file, level, w, signal);
    for (const m of members) {
      const { col, row } = pixels[m]!;
      const i = (row - w.y0) * (w.x1 - w.x0) + (col - w.x0);
      const hidden = (mask && mask[i] === 0) || (alphaBand !== null && data[alphaBand]![i] === 0);
      record(m, (b) => (data[b] as TypedArray)[i]!, Boolean(hidden));
    }
  };

  const batches: number[][] = [];
  const perBatch = layout ? SAMPLE_BATCH_BLOCKS : 1;
  for (let i = 0; i < order.length; i += perBatch) batches.push(order.slice(i, i + perBatch));
  // Two batches at a time: one's reads overlap the other's decoding. Reads move forward through the file.
  let next = 0;
  const reader = async () => {
    try {
      while (next < batches.length) {
        signal?.throwIfAborted();
        const batch = batches[next++]!;
        if (layout) await sampleDirect(batch, layout);
        else await sampleWindow(batch[0]!);
      }
    } catch (error) {
      next = batches.length; // the others stop too
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(layout ? 2 : SAMPLE_READS_IN_FLIGHT, batches.length) }, reader));
  return results;
}
