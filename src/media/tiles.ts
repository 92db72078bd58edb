import type { TileGrid } from './media.types.js';

/** Column counts Photo Sphere Viewer's equirectangular tiles adapter accepts. */
const POSSIBLE_COLS = [4, 8, 16, 32, 64];

/**
 * Panoramax's rule: about one column per 1024 px of width (an even number, between 4 and 64),
 * rounded down to a power of two the viewer accepts; rows are half the columns.
 */
export function tileGrid(width: number, height: number): TileGrid {
  const ideal = Math.max(Math.min(Math.floor(Math.floor(width / 512) / 2) * 2, 64), 4);
  let cols = POSSIBLE_COLS[0]!;
  for (const c of POSSIBLE_COLS) if (ideal >= c) cols = c;
  return { cols, rows: cols / 2, width, height };
}

/**
 * Pixel span of tile `index` out of `count` over `size` pixels. Unlike an equal floor split,
 * the remainder is spread over the tiles, so no column of pixels is dropped at the seam.
 */
export function tileSpan(size: number, count: number, index: number): { start: number; length: number } {
  const start = Math.floor((index * size) / count);
  const end = Math.floor(((index + 1) * size) / count);
  return { start, length: end - start };
}
