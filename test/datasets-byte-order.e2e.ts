import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TypedArray } from 'geotiff';
import { RasterFile } from '../src/datasets/raster/geotiff-raster.js';
import { GEOTIFF_DIR, postJson, upload, waitIngested } from './datasets-support.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { gdalNumbers as gdal, hasGdal, NO_GDAL, run } from './support/gdal.js';
import { json } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';

/** GDAL's checksum of an integer band (GDALChecksumImage): values as Int32 modulo a cycle of primes, summed in 16 bits. */
function gdalChecksum(values: ArrayLike<number>): number {
  const primes = [7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43];
  let sum = 0;
  for (let i = 0, p = 0; i < values.length; i++, p = (p + 1) % primes.length) {
    const v = Math.max(-2147483648, Math.min(2147483647, values[i]!));
    sum = (sum + (v % primes[p]!)) & 0xffff;
  }
  return sum;
}

const SOURCE = path.join(GEOTIFF_DIR, 'RGB.byte.tif');

/**
 * Big-endian TIFFs in every layout (strips, tiles, BigTIFF, predictors, 16-bit and float samples)
 * written by GDAL from a real raster, and the real hard fixture: Sightline reads the same pixels
 * as GDAL (every pixel, checksums of integer bands, minimum and maximum, samples over a grid).
 */
const CASES: { name: string; options: string[] }[] = [
  { name: 'strips of one row (offsets beyond the directory)', options: ['-co', 'BLOCKYSIZE=1'] },
  { name: 'tiles 16 × 16', options: ['-co', 'TILED=YES', '-co', 'BLOCKXSIZE=16', '-co', 'BLOCKYSIZE=16'] },
  { name: 'BigTIFF, strips of 2 rows, DEFLATE', options: ['-co', 'BIGTIFF=YES', '-co', 'BLOCKYSIZE=2', '-co', 'COMPRESS=DEFLATE'] },
  {
    name: 'Int16, LZW with horizontal predictor',
    options: ['-ot', 'Int16', '-scale', '0', '255', '-1000', '3000', '-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=2', '-co', 'BLOCKYSIZE=4'],
  },
  // Not the floating-point predictor (3): GDAL 3.6 does not read back the big-endian files it writes with it.
  { name: 'Float32 tiles, DEFLATE', options: ['-ot', 'Float32', '-scale', '0', '255', '-1', '1', '-co', 'COMPRESS=DEFLATE', '-co', 'TILED=YES'] },
  {
    name: 'UInt32 bands apart, ZSTD with horizontal predictor',
    options: ['-ot', 'UInt32', '-scale', '0', '255', '0', '4000000000', '-co', 'COMPRESS=ZSTD', '-co', 'PREDICTOR=2', '-co', 'INTERLEAVE=BAND'],
  },
];

describe('datasets: big-endian TIFFs read as GDAL reads them', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let scratch: string;
  let skip: string | null = null;

  before(async () => {
    if (!(await hasGdal())) skip = NO_GDAL;
    else if (!existsSync(SOURCE)) skip = `${SOURCE} is absent (../shared holds the real rasters)`;
    if (skip) return;
    scratch = await mkdtemp(path.join(os.tmpdir(), 'byte-order-'));
    api = await startApi();
    worker = await startWorker();
    user = await createUser(api, 'byte-order');
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Upload, then compare with GDAL: whole-band checksums, statistics, and samples on a grid. */
  async function compareWithGdal(t: { diagnostic(message: string): void }, file: string): Promise<void> {
    // -mm computes the minimum and maximum (nodata left out) rather than quoting statistics stored in the file.
    const { stdout } = await run('gdalinfo', ['-json', '-checksum', '-mm', file], { maxBuffer: 1 << 26 });
    const info = JSON.parse(stdout) as { size: [number, number]; bands: { checksum: number; computedMin: number; computedMax: number; noDataValue?: number }[] };
    const [width, height] = info.size;

    // The server's reading code gives GDAL's pixels, bit for bit (GDAL writes them out raw,
    // band after band, in this machine's byte order), and GDAL's checksums of integer bands.
    const rawFile = path.join(scratch, `${path.basename(file)}.raw`);
    await run('gdal_translate', ['-q', '-of', 'ENVI', '-co', 'INTERLEAVE=BSQ', file, rawFile]);
    const raw = await readFile(rawFile);
    const raster = await RasterFile.open(file);
    let bands: TypedArray[];
    try {
      bands = Array.from((await (await raster.image(0)).readRasters({ interleave: false })) as unknown as TypedArray[]);
    } finally {
      await raster.close();
    }
    const ours = Buffer.concat(bands.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    assert.equal(ours.length, raw.length, 'as many bytes of pixels as GDAL');
    assert.ok(ours.equals(raw), 'every pixel equals GDAL’s');
    if (!(bands[0] instanceof Float32Array || bands[0] instanceof Float64Array)) {
      assert.deepEqual(
        bands.map((b) => gdalChecksum(b)),
        info.bands.map((b) => b.checksum),
        'band checksums equal GDAL’s',
      );
    }

    const res = await upload(api, user, file, path.basename(file), { allow_duplicate: 'true', visibility: 'owner-only' });
    assert.equal(res.status, 202, await res.clone().text());
    const dataset = await waitIngested(api, user, (await json(res)).id);
    assert.equal(dataset.status, 'ready', JSON.stringify(dataset.error));
    // gdalinfo -json prints a float band's minimum and maximum to 3 decimals.
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= (Number.isInteger(b) ? 0 : 5e-4), `${what}: ${a}, GDAL ${b}`);
    dataset.bands.forEach((band: { statistics: { minimum: number; maximum: number } }, i: number) => {
      close(band.statistics.minimum, info.bands[i]!.computedMin, `band ${i + 1} minimum`);
      close(band.statistics.maximum, info.bands[i]!.computedMax, `band ${i + 1} maximum`);
    });

    // A 25 × 25 grid of pixel centres: GDAL's values, nodata as null.
    const pixels: [number, number][] = [];
    for (let j = 0; j < 25; j++) for (let i = 0; i < 25; i++) pixels.push([Math.floor(((i + 0.5) * width) / 25) + 0.5, Math.floor(((j + 0.5) * height) / 25) + 0.5]);
    const input = pixels.map(([c, r]) => `${c} ${r}`).join('\n') + '\n';
    const lonLat = await gdal('gdaltransform', ['-t_srs', 'OGC:CRS84', file], input);
    const values = (await gdal('gdallocationinfo', ['-valonly', file], pixels.map(([c, r]) => `${Math.floor(c)} ${Math.floor(r)}`).join('\n') + '\n')).map((l) => l[0]!);
    const n = info.bands.length;
    const nodata = info.bands[0]!.noDataValue;
    const want = pixels.map((_, k) => values.slice(k * n, (k + 1) * n).map((v) => (v === nodata ? null : v)));
    const sampled = await json(await postJson(api, user, `/api/datasets/${dataset.id}/sample`, { points: lonLat.map(([x, y]) => ({ lon: x, lat: y })) }));
    const got = sampled.samples.map((s: { values: (number | null)[] }) => s.values.map((v) => (v === null ? null : Math.fround(v))));
    assert.deepEqual(
      got,
      want.map((v) => v.map((x) => (x === null ? null : Math.fround(x)))),
    );
    t.diagnostic(`${width}×${height}, ${n} bands: every pixel (checksums ${info.bands.map((b) => b.checksum).join('/')}) and ${pixels.length} samples equal GDAL’s`);
  }

  it('g13_bigendian.tif (striped, SHORT StripByteCounts) is ready and equals GDAL', async (t) => {
    if (skip) return t.skip(skip);
    const file = path.join(GEOTIFF_DIR, 'hard', 'g13_bigendian.tif');
    if (!existsSync(file)) return t.skip(`${file} is absent`);
    await compareWithGdal(t, file);
  });

  for (const c of CASES) {
    it(`big-endian, ${c.name}: equals GDAL`, async (t) => {
      if (skip) return t.skip(skip);
      const file = path.join(scratch, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.tif`);
      await run('gdal_translate', ['-q', '-co', 'ENDIANNESS=BIG', ...c.options, SOURCE, file]);
      const head = await run('head', ['-c', '2', file]);
      assert.equal(head.stdout, 'MM', 'GDAL wrote a big-endian file');
      await compareWithGdal(t, file);
    });
  }
});
