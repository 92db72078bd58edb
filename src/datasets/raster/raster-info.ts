import type { Geometry } from '../../database/geometry.js';
import type { Affine } from './affine.js';
import type { CrsInfo } from './crs.js';
import type { Bbox } from './footprint.js';

/** Data types of the STAC raster extension. */
export type RasterDataType =
  'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'float16' | 'float32' | 'float64' | 'cint16' | 'cint32' | 'cfloat32' | 'cfloat64' | 'other';

export type BandRole = 'gray' | 'red' | 'green' | 'blue' | 'alpha' | 'palette' | 'undefined';

export interface BandStatistics {
  minimum?: number;
  maximum?: number;
  mean?: number;
  stddev?: number;
  /** Share of pixels that are not nodata (nor masked), 0–100. */
  valid_percent: number;
}

export interface BandInfo {
  /** 1-based, as GDAL and the sampling API number bands. */
  index: number;
  dataType: RasterDataType;
  bitsPerSample: number;
  /** GDAL nodata value: a number, `nan`, or null when the file declares none. */
  nodata: number | 'nan' | 'inf' | '-inf' | null;
  role: BandRole;
  statistics: BandStatistics | null;
  /** 2nd and 98th percentiles, the display stretch of non-byte data. */
  stretch: [number, number] | null;
}

/** One resolution of the raster: the full image (level 0) or an internal overview. */
export interface LevelInfo {
  /** Image file directory index in the TIFF. */
  ifd: number;
  width: number;
  height: number;
  /** IFD of the internal transparency mask with the same size, when the file has one. */
  maskIfd: number | null;
}

/** Everything ingest learns about a GeoTIFF; stored with the dataset and used to serve it. */
export interface RasterInfo {
  version: 1;
  width: number;
  height: number;
  bandCount: number;
  bands: BandInfo[];
  /** TIFF PhotometricInterpretation of the file (YCbCr data is served as RGB). */
  photometric: number;
  compression: number;
  tiled: boolean;
  blockWidth: number;
  blockHeight: number;
  byteOrder: 'little-endian' | 'big-endian';
  bigTiff: boolean;
  levels: LevelInfo[];
  isCog: boolean;
  /** How the picture is drawn: which bands make the colour, which one is alpha. */
  render: { mode: 'rgb' | 'gray' | 'palette'; bands: number[]; alpha: number | null; invert: boolean };
  /** 16-bit TIFF colour map (3 × 2^bits entries) of a palette image. */
  palette: number[] | null;
  transform: Affine | null;
  /** GeoTIFF raster type: pixel values cover an area (the usual) or sit at a point. */
  sampling: 'area' | 'point';
  crs: CrsInfo | null;
  /** [minx, miny, maxx, maxy] in the raster's CRS. */
  nativeBounds: [number, number, number, number] | null;
  /** Pixel size in CRS units [x, y]. */
  resolution: [number, number] | null;
  /** Approximate pixel size in metres (for geographic CRSs, at the centre latitude). */
  resolutionMeters: number | null;
  footprint: Geometry | null;
  /** One WGS 84 box per footprint polygon (two when split at the antimeridian). */
  wgs84Bboxes: Bbox[];
  /** When the raster was acquired, as the file says (ISO 8601; see acquisition-time.ts); null when it does not. */
  datetime: string | null;
  /** The acquisition interval, when the file gives one (absent in what older versions stored). */
  startDatetime?: string | null;
  endDatetime?: string | null;
  /** The metadata item or tag `datetime` was read from (`ACQUISITIONDATETIME`, `DateTime`…). */
  datetimeSource?: string | null;
  /** The level statistics were computed from (0 = full resolution). */
  statisticsLevel: number;
  /** Things a user should know: no CRS, all nodata… */
  warnings: string[];
}

/** A reason a file cannot be registered; `status` is the HTTP answer when checked during the request. */
export class RasterProblem extends Error {
  constructor(
    readonly status: 400 | 415 | 422,
    message: string,
    readonly code: 'empty_file' | 'not_tiff' | 'invalid_tiff' | 'no_bands' | 'too_small' | 'damaged' | 'unsupported',
  ) {
    super(message);
  }
}
