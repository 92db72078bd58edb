import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GEOTIFF_DIR, inspectPng, postJson, upload, waitIngested } from './datasets-support.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { gdalNumbers as gdal, hasGdal, NO_GDAL, run } from './support/gdal.js';
import { json } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';

/**
 * Where GDAL (the oracle) and Sightline put the same places, CRS by CRS: GDAL warps a small WGS 84
 * raster into the CRS (2 m pixels), then says where the centres of a few pixels are, both in the
 * CRS and in longitude/latitude. Sightline, given that longitude/latitude, must land on the same
 * CRS coordinates. The tolerance is 1 m; datums that need a shift are within the accuracy of
 * the transformation GDAL uses too (the EPSG's published parameters), except where noted.
 */
const CASES: { epsg: number; at: [number, number]; what: string; toleranceM?: number }[] = [
  { epsg: 32601, at: [-177.5, 10.2], what: 'UTM 1N' },
  { epsg: 32633, at: [15.3, 50.1], what: 'UTM 33N' },
  { epsg: 32660, at: [177.2, 60.4], what: 'UTM 60N' },
  { epsg: 32701, at: [-176.9, -10.3], what: 'UTM 1S' },
  { epsg: 32733, at: [14.6, -30.2], what: 'UTM 33S' },
  { epsg: 32760, at: [176.8, -40.6], what: 'UTM 60S' },
  { epsg: 3031, at: [45.2, -75.3], what: 'Antarctic polar stereographic' },
  { epsg: 3976, at: [100.4, -70.2], what: 'NSIDC south polar stereographic' },
  { epsg: 3995, at: [30.1, 80.2], what: 'Arctic polar stereographic' },
  { epsg: 3413, at: [-45.3, 75.1], what: 'NSIDC north polar stereographic' },
  { epsg: 27700, at: [-1.5, 52.5], what: 'British National Grid (OSGB36)' },
  { epsg: 2056, at: [7.45, 46.95], what: 'Swiss LV95 (CH1903+)' },
  { epsg: 28992, at: [5.3, 52.1], what: 'Dutch RD New (Amersfoort)' },
  { epsg: 2154, at: [2.35, 48.85], what: 'French Lambert 93' },
  { epsg: 25832, at: [9.1, 50.2], what: 'ETRS89 UTM 32N' },
  { epsg: 3035, at: [10.2, 52.3], what: 'ETRS89 LAEA Europe' },
  { epsg: 26917, at: [-81.2, 35.3], what: 'NAD83 UTM 17N' },
  { epsg: 26711, at: [-117.2, 34.1], what: 'NAD27 UTM 11N', toleranceM: 10 },
  { epsg: 5070, at: [-96.3, 38.2], what: 'CONUS Albers (NAD83)' },
  { epsg: 3577, at: [133.1, -25.2], what: 'Australian Albers (GDA94)' },
  { epsg: 28355, at: [147.2, -35.3], what: 'GDA94 MGA 55' },
  { epsg: 2193, at: [174.8, -41.3], what: 'New Zealand TM 2000' },
  { epsg: 3857, at: [2.35, 48.85], what: 'Web Mercator' },
];

/** Pixel centres GDAL locates: corners (inset) and the middle of a 200 × 200 grid. */
const PIXELS: [number, number][] = [
  [10.5, 10.5],
  [189.5, 10.5],
  [10.5, 189.5],
  [189.5, 189.5],
  [100.5, 100.5],
];

describe('datasets: places on Earth against GDAL, CRS by CRS', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let scratch: string;
  let gdalAvailable = false;

  before(async () => {
    gdalAvailable = await hasGdal();
    if (!gdalAvailable) return;
    scratch = await mkdtemp(path.join(os.tmpdir(), 'crs-'));
    api = await startApi();
    worker = await startWorker();
    user = await createUser(api, 'surveyor');
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`EPSG:${c.epsg} ${c.what}: within ${c.toleranceM ?? 1} m of GDAL`, async (t) => {
      if (!gdalAvailable) return t.skip(NO_GDAL);
      const [lon, lat] = c.at;
      const source = path.join(scratch, `src-${c.epsg}.tif`);
      const target = path.join(scratch, `epsg-${c.epsg}.tif`);
      await run('gdal_create', [
        '-of',
        'GTiff',
        '-outsize',
        '64',
        '64',
        '-bands',
        '1',
        '-ot',
        'Byte',
        '-burn',
        '7',
        '-a_srs',
        'EPSG:4326',
        '-a_ullr',
        `${lon - 0.01}`,
        `${lat + 0.01}`,
        `${lon + 0.01}`,
        `${lat - 0.01}`,
        source,
      ]);
      // A 200 × 200 grid of 2 m pixels around the place, in the CRS (GDAL's own georeferencing).
      const [[cx, cy]] = await gdal('gdaltransform', ['-s_srs', 'OGC:CRS84', '-t_srs', `EPSG:${c.epsg}`], `${lon} ${lat}\n`);
      await run('gdalwarp', [
        '-q',
        '-s_srs',
        'EPSG:4326',
        '-t_srs',
        `EPSG:${c.epsg}`,
        '-r',
        'near',
        '-ts',
        '200',
        '200',
        '-te_srs',
        `EPSG:${c.epsg}`,
        '-te',
        `${cx - 200}`,
        `${cy - 200}`,
        `${cx + 200}`,
        `${cy + 200}`,
        '-of',
        'GTiff',
        source,
        target,
      ]);
      const input = PIXELS.map(([col, row]) => `${col} ${row}`).join('\n') + '\n';
      const inCrs = await gdal('gdaltransform', [target], input);
      const inLonLat = await gdal('gdaltransform', ['-t_srs', 'OGC:CRS84', target], input);

      const res = await upload(api, user, target, `epsg-${c.epsg}.tif`, { allow_duplicate: 'true' });
      assert.equal(res.status, 202, await res.clone().text());
      const dataset = await waitIngested(api, user, (await json(res)).id);
      assert.equal(dataset.status, 'ready', JSON.stringify(dataset.error));
      assert.equal(dataset.crs, `EPSG:${c.epsg}`);
      const sampled = await json(await postJson(api, user, `/api/datasets/${dataset.id}/sample`, { points: inLonLat.map(([x, y]) => ({ lon: x, lat: y })) }));
      const errors = sampled.samples.map((s: { coordinates: [number, number] | null }, i: number) => {
        assert.ok(s.coordinates, `pixel ${PIXELS[i]} is on the raster`);
        return Math.hypot(s.coordinates[0] - inCrs[i]![0]!, s.coordinates[1] - inCrs[i]![1]!);
      });
      const worst = Math.max(...errors);
      t.diagnostic(`largest distance from GDAL: ${worst.toFixed(3)} m`);
      assert.ok(worst <= (c.toleranceM ?? 1), `EPSG:${c.epsg}: ${worst.toFixed(3)} m from GDAL (${errors.map((e: number) => e.toFixed(3)).join(', ')})`);
      // Within 1 m of 2 m pixels' centres: Sightline lands on the very pixels GDAL named.
      if (!c.toleranceM) {
        assert.deepEqual(
          sampled.samples.map((s: { col: number; row: number }) => [s.col, s.row]),
          PIXELS.map(([col, row]) => [Math.floor(col), Math.floor(row)]),
        );
      }
    });
  }

  // Real files of classes that are easy to get wrong (../shared/fixtures/geotiff/hard): GDAL says where
  // their pixels are; Sightline must agree.
  for (const [file, what] of [
    ['goes.tif', 'a CRS given only as an ESRI PE string (geostationary)'],
    ['g34_27700_osgb.tif', 'OSGB36, which needs a datum shift'],
    ['g31_3995_arctic_pole.tif', 'polar stereographic with the pole inside'],
    ['g04_32760_antimeridian.tif', 'UTM 60S across the antimeridian'],
    ['g24_3857_beyond180.tif', 'Web Mercator with pixels east of 180°'],
  ] as const) {
    it(`${file}, ${what}: within 1 m of GDAL`, async (t) => {
      if (!gdalAvailable) return t.skip(NO_GDAL);
      const source = path.join(GEOTIFF_DIR, 'hard', file);
      const { stdout } = await run('gdalinfo', ['-json', source]);
      const [width, height] = (JSON.parse(stdout) as { size: [number, number] }).size;
      const pixels: [number, number][] = [
        [width / 2 + 0.5, height / 2 + 0.5],
        [width * 0.3 + 0.5, height * 0.3 + 0.5],
        [width * 0.7 + 0.5, height * 0.3 + 0.5],
        [width * 0.3 + 0.5, height * 0.7 + 0.5],
        [width * 0.7 + 0.5, height * 0.7 + 0.5],
      ].map(([c, r]) => [Math.floor(c) + 0.5, Math.floor(r) + 0.5]);
      const input = pixels.map(([col, row]) => `${col} ${row}`).join('\n') + '\n';
      const inCrs = await gdal('gdaltransform', [source], input);
      const inLonLat = await gdal('gdaltransform', ['-t_srs', 'OGC:CRS84', source], input);
      const res = await upload(api, user, source, file, { allow_duplicate: 'true' });
      assert.equal(res.status, 202, await res.clone().text());
      const dataset = await waitIngested(api, user, (await json(res)).id);
      assert.equal(dataset.status, 'ready', JSON.stringify(dataset.error));
      const sampled = await json(await postJson(api, user, `/api/datasets/${dataset.id}/sample`, { points: inLonLat.map(([x, y]) => ({ lon: x, lat: y })) }));
      const errors = sampled.samples.map((s: { coordinates: [number, number] | null }, i: number) => {
        assert.ok(s.coordinates, `pixel ${pixels[i]} is on the raster`);
        return Math.hypot(s.coordinates[0] - inCrs[i]![0]!, s.coordinates[1] - inCrs[i]![1]!);
      });
      const worst = Math.max(...errors);
      t.diagnostic(`largest distance from GDAL: ${worst.toFixed(3)} m`);
      assert.ok(worst <= 1, `${file}: ${worst.toFixed(3)} m from GDAL (${errors.map((e: number) => e.toFixed(3)).join(', ')})`);
      assert.deepEqual(
        sampled.samples.map((s: { col: number; row: number }) => [s.col, s.row]),
        pixels.map(([col, row]) => [Math.floor(col), Math.floor(row)]),
      );
      if (file === 'g24_3857_beyond180.tif') {
        // The map tile just east of the antimeridian shows the pixels there.
        const [lon, lat] = inLonLat[4]!;
        const z = 8;
        const tx = Math.floor(((lon! + 180) / 360) * 2 ** z);
        const ty = Math.floor(((1 - Math.log(Math.tan((lat! * Math.PI) / 180) + 1 / Math.cos((lat! * Math.PI) / 180)) / Math.PI) / 2) * 2 ** z);
        assert.ok(lon! < 0, `a point east of 180° (${lon})`);
        const tile = await api.fetch(`/api/datasets/${dataset.id}/tiles/${z}/${tx}/${ty}.png`, { headers: user.headers });
        assert.equal(tile.status, 200);
        assert.ok((await inspectPng(await tile.arrayBuffer())).visible > 0, 'the tile east of 180° is not blank');
      }
      if (file === 'g04_32760_antimeridian.tif') {
        // The STAC item's bbox crosses the antimeridian the RFC 7946 way, where GDAL's corners say.
        const corners = (JSON.parse(stdout) as { wgs84Extent: { coordinates: number[][][] } }).wgs84Extent.coordinates[0]!.map((p) => p[0]!);
        const item = await json(await api.fetch(`/api/collections/${dataset.collection_id}/items/${dataset.id}`, { headers: user.headers }));
        const [west, , east] = item.bbox as number[];
        assert.ok(west! > east!, `bbox ${item.bbox}`);
        assert.ok(Math.abs(west! - Math.min(...corners.filter((x) => x > 0))) < 0.01, `west ${west}`);
        assert.ok(Math.abs(east! - Math.max(...corners.filter((x) => x < 0))) < 0.01, `east ${east}`);
      }
    });
  }

  it('matches float32 nodata written as -3.4e+38 as GDAL does: statistics and samples', async (t) => {
    if (!gdalAvailable) return t.skip(NO_GDAL);
    const source = path.join(GEOTIFF_DIR, 'hard', 'float_raster_with_nodata.tif');
    const { stdout } = await run('gdalinfo', ['-stats', '-json', source]);
    // gdalinfo -stats writes an .aux.xml beside the file only when it may; the numbers come from its answer.
    const gdalBand = JSON.parse(stdout) as { size: [number, number]; bands: { metadata: Record<string, Record<string, string>> }[] };
    const stats = gdalBand.bands[0]!.metadata['']!;
    const res = await upload(api, user, source, 'float-nodata.tif', { allow_duplicate: 'true' });
    assert.equal(res.status, 202, await res.clone().text());
    const dataset = await waitIngested(api, user, (await json(res)).id);
    assert.equal(dataset.status, 'ready', JSON.stringify(dataset.error));
    const band = dataset.bands[0];
    assert.ok(
      Math.abs(band.statistics.valid_percent - Number(stats.STATISTICS_VALID_PERCENT)) < 0.1,
      `valid ${band.statistics.valid_percent} vs GDAL ${stats.STATISTICS_VALID_PERCENT}`,
    );
    assert.equal(band.statistics.minimum, Number(stats.STATISTICS_MINIMUM));
    assert.equal(band.statistics.maximum, Number(stats.STATISTICS_MAXIMUM));
    // Every pixel GDAL calls nodata samples as null; every other one as GDAL's value.
    const [width, height] = gdalBand.size;
    const pixels: [number, number][] = [];
    for (let row = 0; row < height; row += 3) for (let col = 0; col < width; col += 3) pixels.push([col + 0.5, row + 0.5]);
    const input = pixels.map(([c, r]) => `${c} ${r}`).join('\n') + '\n';
    const lonLat = await gdal('gdaltransform', ['-t_srs', 'OGC:CRS84', source], input);
    const expected = await Promise.all(
      pixels.map(async ([c, r]) => Number((await run('gdallocationinfo', ['-valonly', source, String(Math.floor(c)), String(Math.floor(r))])).stdout.trim())),
    );
    const sampled = await json(await postJson(api, user, `/api/datasets/${dataset.id}/sample`, { points: lonLat.map(([x, y]) => ({ lon: x, lat: y })) }));
    const got = sampled.samples.map((s: { values: (number | null)[] }) => s.values[0]);
    const want = expected.map((v) => (Math.abs(v) > 3e38 ? null : v));
    assert.ok(want.some((v) => v === null) && want.some((v) => v !== null), 'the points cover nodata and data');
    assert.deepEqual(got, want);
  });

  it('decodes WEBP-compressed GeoTIFFs to GDAL’s values, and names a compression it does not decode', async (t) => {
    if (!gdalAvailable) return t.skip(NO_GDAL);
    const source = path.join(GEOTIFF_DIR, 'hard', 'g20_webp.tif');
    const res = await upload(api, user, source, 'webp.tif', { allow_duplicate: 'true' });
    assert.equal(res.status, 202, await res.clone().text());
    const dataset = await waitIngested(api, user, (await json(res)).id);
    assert.equal(dataset.status, 'ready', JSON.stringify(dataset.error));
    const pixels: [number, number][] = [];
    for (let row = 5; row < dataset.height; row += Math.floor(dataset.height / 6))
      for (let col = 5; col < dataset.width; col += Math.floor(dataset.width / 6)) pixels.push([col + 0.5, row + 0.5]);
    const input = pixels.map(([c, r]) => `${c} ${r}`).join('\n') + '\n';
    const lonLat = await gdal('gdaltransform', ['-t_srs', 'OGC:CRS84', source], input);
    const expected = await Promise.all(
      pixels.map(async ([c, r]) => (await run('gdallocationinfo', ['-valonly', source, String(Math.floor(c)), String(Math.floor(r))])).stdout.trim().split('\n').map(Number)),
    );
    const sampled = await json(await postJson(api, user, `/api/datasets/${dataset.id}/sample`, { points: lonLat.map(([x, y]) => ({ lon: x, lat: y })) }));
    // The file's nodata is 0 in each band: Sightline samples it as null, GDAL prints it.
    assert.deepEqual(
      sampled.samples.map((s: { values: number[] }) => s.values.slice(0, 3)),
      expected.map((v) => v.slice(0, 3).map((x) => (x === 0 ? null : x))),
    );

    // LZMA: GDAL writes it, Sightline does not decode it, and says so.
    const lzma = path.join(scratch, 'lzma.tif');
    await run('gdal_translate', ['-q', '-co', 'COMPRESS=LZMA', source, lzma]);
    const refused = await upload(api, user, lzma, 'lzma.tif', { allow_duplicate: 'true' });
    const body = await json(refused);
    const message = refused.status === 202 ? JSON.stringify((await waitIngested(api, user, body.id)).error) : body.message;
    assert.match(String(message), /LZMA \(TIFF compression 34925\), which is not supported/);
  });
});
