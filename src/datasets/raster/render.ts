import type { TypedArray } from 'geotiff';
import { applyAffine, invertAffine } from './affine.js';
import { crsTransformer, mercatorToLonLat, periodicWidth, wrapX } from './crs.js';
import { type Bbox, bboxesIntersect } from './footprint.js';
import { nodataNumber, RasterFile, readMask, readWindow, type Window } from './geotiff-raster.js';
import { RasterProblem, type RasterInfo } from './raster-info.js';

export type Resampling = 'nearest' | 'bilinear';

/** Source positions (full-resolution pixel space, continuous; NaN = nothing there) of every output pixel. */
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

  const sx = new Float64Array(size * size);
  const sy = new Float64Array(size * size);
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
  const sx = new Float64Array(width * height);
  const sy = new Float64Array(width * height);
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
  const { width, height } = grid;
  const rgba = new Uint8Array(width * height * 4);
  const levelIndex = chooseLevel(info, grid.ratio);
  const level = info.levels[levelIndex]!;
  const fx = info.width / level.width;
  const fy = info.height / level.height;
  const mode = info.render.mode === 'palette' ? 'nearest' : resampling;
  const n = width * height;

  // Positions in level pixels; outside the raster → NaN.
  const lx = new Float64Array(n);
  const ly = new Float64Array(n);
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

  // Bucket output pixels by the source row they start from, then read stripe by stripe.
  const topRow = (o: number) => Math.max(y0, Math.floor(mode === 'bilinear' ? ly[o]! - 0.5 : ly[o]!));
  const rowsPerStripe = (x1 - x0) * (y1 - y0) <= MAX_WINDOW_PIXELS ? y1 - y0 : Math.max(info.blockHeight, Math.floor(MAX_WINDOW_PIXELS / (x1 - x0)));
  const stripeCount = Math.ceil((y1 - y0) / rowsPerStripe);
  const buckets: number[][] = Array.from({ length: stripeCount }, () => []);
  for (let o = 0; o < n; o++) {
    if (Number.isNaN(lx[o]!)) continue;
    buckets[Math.min(stripeCount - 1, Math.floor((topRow(o) - y0) / rowsPerStripe))]!.push(o);
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
  const palette = info.palette;
  const paletteSize = palette ? palette.length / 3 : 0;
  let opaque = true;
  let empty = true;

  for (let s = 0; s < stripeCount; s++) {
    const pixels = buckets[s]!;
    const r0 = y0 + s * rowsPerStripe;
    const r1 = Math.min(y1, r0 + rowsPerStripe + 1);
    if (pixels.length === 0) continue;
    signal?.throwIfAborted();
    const w: Window = { x0, y0: r0, x1, y1: r1 };
    const data = await readWindow(file, info, level, w, signal);
    const mask = await readMask(file, level, w, signal);
    const ww = x1 - x0;
    const colour = bands.map((b) => data[b]!);
    const alpha = alphaBand !== null ? data[alphaBand]! : null;

    const at = (c: number, r: number) => (r - r0) * ww + (c - x0);
    const isValid = (i: number): boolean => {
      if (mask && mask[i] === 0) return false;
      if (alpha && alpha[i] === 0) return false;
      for (let b = 0; b < colour.length; b++) {
        const v = colour[b]![i]!;
        const nd = nodata[b];
        if (!(Number.isNaN(v) || v === nd)) return true;
      }
      return false;
    };
    const clampC = (c: number) => (c < x0 ? x0 : c >= x1 ? x1 - 1 : c);
    const clampR = (r: number) => (r < r0 ? r0 : r >= r1 ? r1 - 1 : r);

    const values = new Float64Array(3);
    const idx = new Int32Array(4);
    const wts = new Float64Array(4);
    for (const o of pixels) {
      const px = lx[o]!;
      const py = ly[o]!;
      const nearest = at(clampC(Math.floor(px)), clampR(Math.floor(py)));
      if (!isValid(nearest)) {
        opaque = false;
        continue;
      }
      values.fill(0);
      if (mode === 'nearest') {
        for (let b = 0; b < colour.length; b++) values[b] = colour[b]![nearest]!;
      } else {
        const u = px - 0.5;
        const v = py - 0.5;
        const c0 = Math.floor(u);
        const rr0 = Math.floor(v);
        const tx = u - c0;
        const ty = v - rr0;
        idx[0] = at(clampC(c0), clampR(rr0));
        idx[1] = at(clampC(c0 + 1), clampR(rr0));
        idx[2] = at(clampC(c0), clampR(rr0 + 1));
        idx[3] = at(clampC(c0 + 1), clampR(rr0 + 1));
        wts[0] = (1 - tx) * (1 - ty);
        wts[1] = tx * (1 - ty);
        wts[2] = (1 - tx) * ty;
        wts[3] = tx * ty;
        let total = 0;
        for (let k = 0; k < 4; k++) {
          if (wts[k]! <= 0 || (idx[k] !== nearest && !isValid(idx[k]!))) continue;
          total += wts[k]!;
          for (let b = 0; b < colour.length; b++) values[b]! += colour[b]![idx[k]!]! * wts[k]!;
        }
        for (let b = 0; b < colour.length; b++) values[b] = total > 0 ? values[b]! / total : colour[b]![nearest]!;
      }
      const out = o * 4;
      if (info.render.mode === 'palette' && palette) {
        const k = Math.max(0, Math.min(paletteSize - 1, Math.round(values[0]!)));
        rgba[out] = palette[k]! >> 8;
        rgba[out + 1] = palette[paletteSize + k]! >> 8;
        rgba[out + 2] = palette[2 * paletteSize + k]! >> 8;
      } else {
        for (let b = 0; b < 3; b++) {
          const src = colour.length === 1 ? 0 : b;
          const st = stretch[src];
          let value = values[src]!;
          if (st) value = (value - st[0]) * st[1];
          value = value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
          rgba[out + b] = info.render.invert ? 255 - value : value;
        }
      }
      const a = alpha ? Math.max(0, Math.min(255, alpha[nearest]!)) : 255;
      rgba[out + 3] = a;
      if (a < 255) opaque = false;
      if (a > 0) empty = false;
    }
  }
  for (let o = 0; o < n && opaque; o++) if (Number.isNaN(lx[o]!)) opaque = false;
  return { width, height, rgba, opaque, empty };
}

/** Blocks read at once by samplePixels. */
const SAMPLE_READS_IN_FLIGHT = 8;

export interface PixelSample {
  col: number;
  row: number;
  /** One value per band; null for nodata, masked or alpha-transparent pixels. */
  values: (number | null)[];
}

/**
 * Every band's value at full-resolution pixels, reading each needed block once, in block order
 * (row by row, as a tiled or stripped file stores them) and a few at a time: reads move forward
 * through the file, and on an object store their round trips overlap.
 */
export async function samplePixels(file: RasterFile, info: RasterInfo, pixels: { col: number; row: number }[], signal?: AbortSignal): Promise<PixelSample[]> {
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
  // A few blocks in flight: reads from an object store wait on the network, not on this process.
  let next = 0;
  const reader = async () => {
    try {
      while (next < order.length) await sampleBlock(groups.get(order[next++]!)!);
    } catch (error) {
      next = order.length; // the others stop too
      throw error;
    }
  };
  const sampleBlock = async (members: number[]) => {
    signal?.throwIfAborted();
    // Only the pixels asked for within the block (the block is decoded once either way).
    const w: Window = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    for (const m of members) {
      const { col, row } = pixels[m]!;
      w.x0 = Math.min(w.x0, col);
      w.y0 = Math.min(w.y0, row);
      w.x1 = Math.max(w.x1, col + 1);
      w.y1 = Math.max(w.y1, row + 1);
    }
    const data = await readWindow(file, info, level, w, signal);
    const mask = await readMask(file, level, w, signal);
    for (const m of members) {
      const { col, row } = pixels[m]!;
      const i = (row - w.y0) * (w.x1 - w.x0) + (col - w.x0);
      const hidden = (mask && mask[i] === 0) || (info.render.alpha !== null && data[info.render.alpha]![i] === 0);
      results[m] = {
        col,
        row,
        values: data.map((band: TypedArray, b) => {
          const v = band[i]!;
          const nd = nodata[b];
          if (hidden || Number.isNaN(v) || v === nd) return null;
          return v;
        }),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(SAMPLE_READS_IN_FLIGHT, order.length) }, reader));
  return results;
}
