import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GEOTIFF_DIR, upload, waitIngested } from './datasets-support.js';
import { startApi, type TestApi } from './support/app.js';
import { createUser, type TestUser } from './support/auth.js';
import { hasGdal, NO_GDAL, run } from './support/gdal.js';
import { json, waitFor } from './support/net.js';
import { type ChildHandle, startWorker } from './support/processes.js';

/** One TIFF field: tag, type (2 ASCII, 3 SHORT, 4 LONG, 12 DOUBLE, 16 LONG8), values; `count` overrides the real count. */
type Field = { tag: number; type: number; values: number[] | string; count?: number };

const SIZES: Record<number, number> = { 2: 1, 3: 2, 4: 4, 12: 8, 16: 8 };

/**
 * A little-endian classic TIFF written by hand: `data` at byte 8, then one directory, then the
 * long values. `patch` may rewrite the result (next-directory pointers, header).
 */
function handTiff(fields: Field[], data: Buffer, patch?: (tiff: Buffer, ifdOffset: number) => void): Buffer {
  const sorted = [...fields].sort((a, b) => a.tag - b.tag);
  const ifdOffset = 8 + data.length + (data.length & 1);
  const ifdSize = 2 + sorted.length * 12 + 4;
  const longValues: Buffer[] = [];
  let valueAt = ifdOffset + ifdSize;
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(sorted.length, 0);
  sorted.forEach((f, i) => {
    const at = 2 + i * 12;
    const bytes = typeof f.values === 'string' ? Buffer.from(`${f.values}\0`, 'latin1') : encode(f.type, f.values);
    ifd.writeUInt16LE(f.tag, at);
    ifd.writeUInt16LE(f.type, at + 2);
    ifd.writeUInt32LE(f.count ?? bytes.length / SIZES[f.type]!, at + 4);
    if (bytes.length <= 4) bytes.copy(ifd, at + 8);
    else {
      ifd.writeUInt32LE(valueAt, at + 8);
      const padded = Buffer.concat([bytes, Buffer.alloc(bytes.length & 1)]);
      longValues.push(padded);
      valueAt += padded.length;
    }
  });
  const header = Buffer.from([0x49, 0x49, 42, 0, 0, 0, 0, 0]);
  header.writeUInt32LE(ifdOffset, 4);
  const tiff = Buffer.concat([header, data, Buffer.alloc(data.length & 1), ifd, ...longValues]);
  patch?.(tiff, ifdOffset);
  return tiff;
}

function encode(type: number, values: number[]): Buffer {
  const out = Buffer.alloc(values.length * SIZES[type]!);
  values.forEach((v, i) => {
    if (type === 3) out.writeUInt16LE(v, i * 2);
    else if (type === 4) out.writeUInt32LE(v, i * 4);
    else if (type === 12) out.writeDoubleLE(v, i * 8);
    else if (type === 16) out.writeBigUInt64LE(BigInt(v), i * 8);
  });
  return out;
}

/** An 8 × 8 one-band byte GeoTIFF (UTM 33N), fields replaceable. */
function grey(overrides: Partial<Record<number, Field>> = {}, data = Buffer.from(Array.from({ length: 64 }, (_, i) => i * 3))): Buffer {
  const base = fieldsOf();
  base[279] = { tag: 279, type: 4, values: [data.length] };
  const fields = { ...base, ...overrides };
  return handTiff(
    Object.values(fields).filter((f): f is Field => !!f),
    data,
  );
}

/** What a person may read: no library internals, stack traces or JavaScript error names. */
const TECHNICAL =
  /DataView|typed array|Invalid field type|Could not get value|unexpected marker|Unsupported data format|bitsPerSample|TypeError|RangeError|ReferenceError|undefined|null|NaN|Cannot read|is not a function|Offset is outside|EOI_CODE|incorrect header check|unexpected end|invalid (code|distance|block type|stored block)|zlib|Maximum call stack|heap|ENOENT|EBADF|at .*\.js|\bError:/i;

/** Outcomes: `ready` (read as GDAL reads it), `refused` (4xx or broken, with a reason), `either` (a warning may do). */
type Expect = 'ready' | 'refused' | 'either';

describe('datasets: a hostile-TIFF corpus never takes the worker down', () => {
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let scratch: string;
  let skip: string | false = false;
  const source = path.join(GEOTIFF_DIR, 'RGB.byte.tif');

  before(async () => {
    if (!(await hasGdal())) skip = NO_GDAL;
    else if (!existsSync(source)) skip = `${source} is absent (../shared holds the real rasters)`;
    if (skip) return;
    scratch = await mkdtemp(path.join(os.tmpdir(), 'hostile-'));
    api = await startApi();
    worker = await startWorker();
    user = await createUser(api, 'hostile');
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** A small real raster written by GDAL with creation options. */
  async function gdalFile(name: string, options: string[]): Promise<Buffer | null> {
    const file = path.join(scratch, `${name}.tif`);
    try {
      await run('gdal_translate', ['-q', '-srcwin', '300', '300', '96', '80', ...options, source, file]);
    } catch {
      return null; // This GDAL build does not write it.
    }
    return readFile(file);
  }

  it('every file ends ready, refused (4xx) or broken with a plain reason; the worker stays healthy; a normal dataset ingests after', async (t) => {
    if (skip) return t.skip(skip);
    const corpus: { name: string; bytes: Buffer; expect: Expect }[] = [];
    const add = (name: string, bytes: Buffer | null, expect: Expect) => {
      if (bytes) corpus.push({ name, bytes, expect });
      else t.diagnostic(`${name}: GDAL does not write it here, left out`);
    };

    // Directory chains.
    add(
      'ifd-loop-self',
      handTiff(Object.values(fieldsOf()), pixels(), (b, at) => b.writeUInt32LE(at, at + 2 + 12 * 12)),
      'either',
    );
    add(
      'ifd-first-past-end',
      withHeader(grey(), (b) => b.writeUInt32LE(0x7ffffff0, 4)),
      'refused',
    );
    add(
      'ifd-first-odd-inside-data',
      withHeader(grey(), (b) => b.writeUInt32LE(9, 4)),
      'refused',
    );
    add(
      'ifd-next-past-end',
      handTiff(Object.values(fieldsOf()), pixels(), (b, at) => b.writeUInt32LE(0x7ffffff0, at + 2 + 12 * 12)),
      'either',
    );
    add(
      'ifd-65535-entries',
      withHeader(grey(), (b) => b.writeUInt16LE(65535, b.readUInt32LE(4))),
      'refused',
    );
    add('bigtiff-first-ifd-2^60', Buffer.from([0x49, 0x49, 43, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]), 'refused');
    // Block tables.
    add('strip-offset-past-end', grey({ 273: { tag: 273, type: 4, values: [0x7fff0000] } }), 'refused');
    add('strip-bytecount-4gb', grey({ 279: { tag: 279, type: 4, values: [0xfffffff0] } }), 'refused');
    add('strip-table-2^31-entries', grey({ 273: { tag: 273, type: 4, values: [8, 8], count: 0x7fffffff } }), 'refused');
    add('strip-table-short', grey({ 278: { tag: 278, type: 3, values: [1] } }), 'refused');
    add('no-strip-offsets', grey({ 273: undefined }), 'refused');
    const tiles = (w: number, h: number) =>
      grey({
        273: undefined,
        278: undefined,
        279: undefined,
        322: { tag: 322, type: 4, values: [w] },
        323: { tag: 323, type: 4, values: [h] },
        324: { tag: 324, type: 4, values: [8] },
        325: { tag: 325, type: 4, values: [64] },
      });
    add('tile-width-zero', tiles(0, 8), 'refused');
    add('tile-4gb-square', tiles(0xfffffff0, 0xfffffff0), 'refused');
    // Dimensions and samples.
    add('dimensions-4gb-square', grey({ 256: { tag: 256, type: 4, values: [0xffffffff] }, 257: { tag: 257, type: 4, values: [0xffffffff] } }), 'refused');
    add('dimensions-zero-width', grey({ 256: { tag: 256, type: 3, values: [0] } }), 'refused');
    add('dimensions-1x1', grey({ 256: { tag: 256, type: 3, values: [1] }, 257: { tag: 257, type: 3, values: [1] }, 279: { tag: 279, type: 4, values: [1] } }), 'refused');
    add('samples-per-pixel-0', grey({ 277: { tag: 277, type: 3, values: [0] } }), 'refused');
    add('samples-per-pixel-65535', grey({ 277: { tag: 277, type: 3, values: [65535] } }), 'refused');
    add('bits-per-sample-0', grey({ 258: { tag: 258, type: 3, values: [0] } }), 'refused');
    add('bits-per-sample-64-unsigned', grey({ 258: { tag: 258, type: 3, values: [64] } }), 'refused');
    add('compression-unknown-12345', grey({ 259: { tag: 259, type: 3, values: [12345] } }), 'refused');
    add('geokeys-count-huge', grey({ 34735: { tag: 34735, type: 3, values: [1, 1, 0, 4000, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633] } }), 'either');
    add('geokeys-point-past-end', grey({ 34735: { tag: 34735, type: 3, values: [1, 1, 0, 1, 3072, 34737, 5000, 0] } }), 'either');
    // Not TIFFs, or barely.
    add('empty', Buffer.alloc(0), 'refused');
    add('header-only', Buffer.from([0x49, 0x49, 42, 0]), 'refused');
    add('png', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'refused');
    add('random-bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)), 'refused');

    // The hard fixtures of this class: a 326-byte directory loop, a sparse 200,000 × 200,000 GeoTIFF.
    for (const name of ['b09_ifd_loop.tif', 'b07_huge_sparse.tif']) {
      const file = path.join(GEOTIFF_DIR, 'hard', name);
      if (existsSync(file)) add(name, await readFile(file), 'either');
    }

    // Every compression GDAL writes: decoded to GDAL's values, or refused by name.
    for (const c of ['NONE', 'LZW', 'DEFLATE', 'PACKBITS', 'JPEG', 'LZMA', 'ZSTD', 'WEBP', 'LERC', 'LERC_DEFLATE', 'LERC_ZSTD', 'JXL']) {
      const supported = ['NONE', 'LZW', 'DEFLATE', 'PACKBITS', 'JPEG', 'ZSTD', 'WEBP', 'LERC', 'LERC_DEFLATE', 'LERC_ZSTD'].includes(c);
      add(`compression-${c.toLowerCase()}`, await gdalFile(`c-${c}`, ['-co', `COMPRESS=${c}`]), supported ? 'ready' : 'refused');
    }
    add('compression-ccittfax4-1bit', await gdalFile('fax4', ['-b', '1', '-co', 'NBITS=1', '-co', 'COMPRESS=CCITTFAX4']), 'refused');
    add('nbits-12', await gdalFile('nbits12', ['-ot', 'UInt16', '-co', 'NBITS=12']), 'either');
    add('complex-cint16', await gdalFile('cint16', ['-ot', 'CInt16']), 'refused');

    // Damaged real files: truncated, and compressed data overwritten.
    const deflate = (await gdalFile('base-deflate', ['-co', 'COMPRESS=DEFLATE', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=32', '-co', 'BLOCKYSIZE=32']))!;
    for (const keep of [8, 100, 0.5, -1]) {
      const end = keep === -1 ? deflate.length - 1 : keep < 1 ? Math.floor(deflate.length * keep) : keep;
      add(`truncated-at-${end}-of-${deflate.length}`, deflate.subarray(0, end), 'refused');
    }
    for (const c of ['DEFLATE', 'LZW', 'JPEG', 'ZSTD', 'PACKBITS', 'WEBP', 'LERC', 'LERC_ZSTD']) {
      const bytes = await gdalFile(`garbled-${c}`, ['-co', `COMPRESS=${c}`]);
      if (!bytes) continue;
      // Overwrite the middle of the file (image data: GDAL writes the directory first, data after) with noise.
      const garbled = Buffer.from(bytes);
      for (let i = Math.floor(garbled.length * 0.4); i < Math.floor(garbled.length * 0.9); i++) garbled[i] = (i * 2654435761) >>> 24;
      add(`garbled-${c.toLowerCase()}`, garbled, 'either');
    }

    const outcomes: string[] = [];
    const problems: string[] = [];
    for (const c of corpus) {
      const res = await upload(api, user, c.bytes, `${c.name}.tif`, { allow_duplicate: 'true', visibility: 'owner-only' });
      const body = await json(res);
      let outcome: 'ready' | 'refused';
      let reason: string;
      if (res.status === 202) {
        const dataset = await waitIngested(api, user, body.id, 90_000).catch(() => null);
        if (!dataset) {
          problems.push(`${c.name}: still not ingested after 90 s`);
          console.error(`hostile corpus: ${c.name} still not ingested after 90 s`);
          continue;
        }
        outcome = dataset.status === 'ready' ? 'ready' : 'refused';
        reason = outcome === 'refused' ? String(dataset.error) : (dataset.warnings ?? []).join('; ');
        // A view of a huge raster without overviews would read every block under it (the sparse
        // 200,000 × 200,000 file: hours): it is refused at once, saying why.
        const huge = dataset.width * dataset.height > 2 ** 28 && (dataset.overviews ?? []).length === 0;
        if (outcome === 'ready' && huge) {
          const served = await api.fetch(`/api/datasets/${dataset.id}/thumbnail.png`, { headers: user.headers });
          const answer = await json(served);
          if (served.status !== 422 || !/no overview coarse enough/.test(answer.message)) problems.push(`${c.name}: thumbnail answered ${served.status} ${JSON.stringify(answer)}`);
        }
        if (outcome === 'ready' && !huge) {
          // What is published serves: thumbnail, a tile and a sample answer, never a 500.
          const [west, south, east, north] = dataset.bbox ?? [0, 0, 0, 0];
          const [lon, lat] = [(west + (east < west ? east + 360 : east)) / 2, (south + north) / 2];
          const z = 10;
          const x = Math.floor(((((lon + 540) % 360) - 180 + 180) / 360) * 2 ** z);
          const y = Math.floor(((1 - Math.log(Math.tan((lat * Math.PI) / 180) + 1 / Math.cos((lat * Math.PI) / 180)) / Math.PI) / 2) * 2 ** z);
          for (const url of [
            `/api/datasets/${dataset.id}/thumbnail.png`,
            `/api/datasets/${dataset.id}/tiles/${z}/${x}/${y}.png`,
            `/api/datasets/${dataset.id}/sample?lon=${((lon + 540) % 360) - 180}&lat=${lat}`,
          ]) {
            const served = await api.fetch(url, { headers: user.headers });
            await served.arrayBuffer();
            if (served.status >= 500) problems.push(`${c.name}: ${url} answered ${served.status}`);
          }
        }
      } else {
        assert.ok(res.status >= 400 && res.status < 500, `${c.name}: answered ${res.status} ${JSON.stringify(body)}`);
        outcome = 'refused';
        reason = `${res.status} ${body.message}`;
      }
      outcomes.push(`${c.name}: ${outcome}${reason ? ` — ${reason}` : ''}`);
      if (c.expect !== 'either' && outcome !== c.expect) problems.push(`${c.name}: ${outcome}, expected ${c.expect} (${reason})`);
      if (outcome === 'refused' && !(reason.length > 10 && reason.length < 500 && !TECHNICAL.test(reason))) problems.push(`${c.name}: not a reason a person can read: ${reason}`);
      // The worker is alive after every file.
      assert.equal(worker.proc.exitCode, null, `${c.name}: the worker died`);
    }
    for (const line of outcomes) t.diagnostic(line);
    t.diagnostic(`${corpus.length} hostile files`);
    assert.deepEqual(problems, []);

    // The worker still beats, and a normal dataset registered afterwards is ingested.
    const pid = worker.proc.pid;
    await waitFor('the worker to beat', async () => {
      const workers = (await json(await api.fetch('/api/health/ready'))).details.workers;
      return workers.workers.some((w: { id: string }) => w.id.endsWith(`:${pid}`)) && !workers.stale.some((w: { id: string }) => w.id.endsWith(`:${pid}`));
    });
    // A GDAL-written file of its own (the shared fixture itself is registered by other tests of the run).
    const normal = await upload(api, user, (await gdalFile('normal', ['-co', 'TILED=YES']))!, 'normal.tif', { allow_duplicate: 'true', visibility: 'owner-only' });
    assert.equal(normal.status, 202);
    const dataset = await waitIngested(api, user, (await json(normal)).id);
    assert.equal(dataset.status, 'ready', JSON.stringify(dataset.error));
    assert.equal(worker.proc.exitCode, null);
  });
});

function pixels(): Buffer {
  return Buffer.from(Array.from({ length: 64 }, (_, i) => i * 3));
}

/** The fields of grey(), for files whose directory is patched. */
function fieldsOf(): Record<number, Field> {
  return {
    256: { tag: 256, type: 3, values: [8] },
    257: { tag: 257, type: 3, values: [8] },
    258: { tag: 258, type: 3, values: [8] },
    259: { tag: 259, type: 3, values: [1] },
    262: { tag: 262, type: 3, values: [1] },
    273: { tag: 273, type: 4, values: [8] },
    277: { tag: 277, type: 3, values: [1] },
    278: { tag: 278, type: 3, values: [8] },
    279: { tag: 279, type: 4, values: [64] },
    33550: { tag: 33550, type: 12, values: [10, 10, 0] },
    33922: { tag: 33922, type: 12, values: [0, 0, 0, 500000, 5500000, 0] },
    34735: { tag: 34735, type: 3, values: [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633] },
  };
}

function withHeader(tiff: Buffer, patch: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(tiff);
  patch(copy);
  return copy;
}
