/**
 * The affine geotransform of a raster, in the order rasterio and the STAC projection extension
 * use: x = a·col + b·row + c, y = d·col + e·row + f (col/row in pixels from the top-left corner
 * of the top-left pixel).
 */
export type Affine = [a: number, b: number, c: number, d: number, e: number, f: number];

export function applyAffine(t: Affine, col: number, row: number): [number, number] {
  return [t[0] * col + t[1] * row + t[2], t[3] * col + t[4] * row + t[5]];
}

/** The inverse transform (CRS coordinates → pixel coordinates); throws for a degenerate one. */
export function invertAffine(t: Affine): Affine {
  const [a, b, c, d, e, f] = t;
  const det = a * e - b * d;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-300) throw new Error('The geotransform is not invertible');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** Pixel size along columns and rows, in CRS units (positive). */
export function pixelSize(t: Affine): [number, number] {
  return [Math.hypot(t[0], t[3]), Math.hypot(t[1], t[4])];
}

/** [minx, miny, maxx, maxy] of the raster's four corners in its CRS. */
export function nativeBounds(t: Affine, width: number, height: number): [number, number, number, number] {
  const corners = [applyAffine(t, 0, 0), applyAffine(t, width, 0), applyAffine(t, width, height), applyAffine(t, 0, height)];
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}
