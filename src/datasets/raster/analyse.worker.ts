// Runs in a worker thread (see analyse-isolated.ts): reads one GeoTIFF and posts what it found.
// A file that makes the reader loop, block or eat memory takes down this thread, not the worker
// process and its other jobs.
import { parentPort, workerData } from 'node:worker_threads';
import { analyseRaster, type RasterUrl } from './geotiff-raster.js';
import { RasterProblem } from './raster-info.js';

const { path, fileSize } = workerData as { path: string | RasterUrl; fileSize: number };
analyseRaster(path, fileSize).then(
  (info) => parentPort!.postMessage({ ok: true, info }),
  (error: unknown) =>
    parentPort!.postMessage({
      ok: false,
      problem: error instanceof RasterProblem ? { status: error.status, code: error.code, message: error.message } : null,
      message: (error as Error)?.message ?? String(error),
    }),
);
