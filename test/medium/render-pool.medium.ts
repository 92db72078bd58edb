import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BlockCache } from '../../src/datasets/raster/block-cache.js';
import { analyseRaster, RasterFile } from '../../src/datasets/raster/geotiff-raster.js';
import { samplePixels } from '../../src/datasets/raster/render.js';
import { RenderPool } from '../../src/datasets/raster/render-pool.js';
import { GEOTIFF_DIR } from '../datasets-support.js';
import { waitFor } from '../support/net.js';

const FILE = path.join(GEOTIFF_DIR, 'RGB.byte.tif');

/** Render threads (real worker threads on a real GeoTIFF): samples shared between them, stopped when idle, started again. */
describe('render threads', { skip: existsSync(FILE) ? undefined : `${FILE} is absent (../shared is not beside the project)` }, () => {
  it('samples a batch split between threads as one thread reading the file directly would', async () => {
    const info = await analyseRaster(FILE, statSync(FILE).size);
    let seed = 3;
    const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const pixels = Array.from({ length: 500 }, () => ({ col: Math.floor(random() * info.width), row: Math.floor(random() * info.height) }));
    const file = await RasterFile.open(FILE, undefined, new BlockCache(16 * 1024 * 1024));
    const expected = await samplePixels(file, info, pixels);
    await file.close();
    const pool = new RenderPool(3, 8 * 1024 * 1024);
    try {
      assert.deepEqual(await pool.sample('rgb:1', FILE, info, pixels), expected);
      // Again, from the threads' caches.
      assert.deepEqual(await pool.sample('rgb:1', FILE, info, pixels), expected);
    } finally {
      await pool.close();
    }
  });

  it('stops its threads when idle and starts them again for the next job', async () => {
    const info = await analyseRaster(FILE, statSync(FILE).size);
    const pixels = [{ col: 10, row: 20 }];
    const pool = new RenderPool(2, 8 * 1024 * 1024, 1000);
    try {
      const first = await pool.sample('rgb:1', FILE, info, pixels);
      assert.equal(pool.running, true);
      await waitFor('the idle threads to stop', async () => !pool.running, 15_000);
      assert.deepEqual(await pool.sample('rgb:1', FILE, info, pixels), first);
      assert.equal(pool.running, true);
    } finally {
      await pool.close();
    }
  });
});
