/**
 * Helpers of the datasets e2e tests: uploads, waiting for ingest, the expected geometry computed
 * independently from a file's own tags (geotiff + proj4, not the server's code), PNG checks,
 * and STAC validation with stac-node-validator against ../shared/stac-schemas only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fromFile } from 'geotiff';
import proj4 from 'proj4';
import sharp from 'sharp';
import type { TestApi } from './support/app.js';
import type { TestUser } from './support/auth.js';
import { PROJECT_ROOT, sharedPath } from './support/env.js';
import { json, waitFor } from './support/net.js';

export const GEOTIFF_DIR = sharedPath('fixtures', 'geotiff');

/** Proj4 definitions written out here, so the expectations do not come from the server's CRS reading. */
export const PROJ_DEFS: Record<number, string> = {
  4326: '+proj=longlat +datum=WGS84 +no_defs',
  3857: '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs',
  32618: '+proj=utm +zone=18 +datum=WGS84 +units=m +no_defs',
  32660: '+proj=utm +zone=60 +datum=WGS84 +units=m +no_defs',
};

export async function upload(
  api: TestApi,
  user: TestUser | undefined,
  content: Buffer | string,
  fileName: string,
  fields: Record<string, string> = {},
): Promise<Response> {
  const bytes = typeof content === 'string' ? await fs.readFile(content) : content;
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([bytes], { type: 'image/tiff' }), fileName);
  return api.fetch('/api/datasets', { method: 'POST', headers: user?.headers ?? {}, body: form });
}

export async function postJson(api: TestApi, user: TestUser | undefined, url: string, body: unknown, method = 'POST'): Promise<Response> {
  return api.fetch(url, { method, headers: { 'content-type': 'application/json', ...(user?.headers ?? {}) }, body: JSON.stringify(body) });
}

/** Polls the dataset (as its owner) until it is ready or broken. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function waitIngested(api: TestApi, user: TestUser, id: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(
    `dataset ${id} to be ingested`,
    async () => {
      const body = await json(await api.fetch(`/api/datasets/${id}`, { headers: user.headers }));
      return body.status === 'ready' || body.status === 'broken' ? body : undefined;
    },
    timeoutMs,
    150,
  );
}

export interface TiffTruth {
  width: number;
  height: number;
  epsg: number;
  /** x = c + col·a, y = f + row·e (north-up files). */
  origin: [number, number];
  scale: [number, number];
  toLonLat(x: number, y: number): [number, number];
  /** Lon/lat of a pixel's centre. */
  pixelCentre(col: number, row: number): [number, number];
  /** Lon/lat of the four outer corners. */
  corners(): [number, number][];
  /** Every band's value at a pixel (RGB for YCbCr JPEG files), nodata as null. */
  values(col: number, row: number): Promise<(number | null)[]>;
  close(): Promise<void>;
}

/** What the file itself says, read with geotiff and projected with proj4 here. */
export async function tiffTruth(file: string): Promise<TiffTruth> {
  const tiff = await fromFile(file);
  const image = await tiff.getImage(0);
  const fd = image.getFileDirectory();
  const tie = fd.getValue('ModelTiepoint') as ArrayLike<number>;
  const scale = fd.getValue('ModelPixelScale') as ArrayLike<number>;
  const keys = image.getGeoKeys() as Record<string, number>;
  const epsg = keys.ProjectedCSTypeGeoKey ?? keys.GeographicTypeGeoKey;
  const def = PROJ_DEFS[epsg];
  assert.ok(def, `the test knows EPSG:${epsg}`);
  const converter = proj4(def, PROJ_DEFS[4326]!);
  const origin: [number, number] = [tie[3]! - tie[0]! * scale[0]!, tie[4]! + tie[1]! * scale[1]!];
  const toLonLat = (x: number, y: number) => converter.forward([x, y]) as [number, number];
  const at = (col: number, row: number) => toLonLat(origin[0] + col * scale[0]!, origin[1] - row * scale[1]!);
  const nodata = image.getGDALNoData();
  const ycbcr = fd.getValue('PhotometricInterpretation') === 6;
  return {
    width: image.getWidth(),
    height: image.getHeight(),
    epsg,
    origin,
    scale: [scale[0]!, scale[1]!],
    toLonLat,
    pixelCentre: (col, row) => at(col + 0.5, row + 0.5),
    corners: () => [at(0, 0), at(image.getWidth(), 0), at(image.getWidth(), image.getHeight()), at(0, image.getHeight())],
    async values(col, row) {
      const window = [col, row, col + 1, row + 1];
      const raw = ycbcr ? Array.from(await image.readRGB({ window, interleave: true }) as ArrayLike<number>) : (await image.readRasters({ window })).map((band) => (band as ArrayLike<number>)[0]!);
      return raw.map((v) => (nodata !== null && v === nodata ? null : v));
    },
    close: async () => {
      await tiff.close();
    },
  };
}

/** Slippy-map tile holding a point. */
export function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
}

/** Size of a PNG and whether it shows something (visible pixels that are not all the same). */
export async function inspectPng(body: ArrayBuffer): Promise<{ width: number; height: number; visible: number; varied: boolean }> {
  const buf = Buffer.from(body);
  const meta = await sharp(buf).metadata();
  assert.equal(meta.format, 'png');
  const { data, info } = await sharp(buf).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let visible = 0;
  let min = 255;
  let max = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (data[i + 3]! === 0) continue;
    visible++;
    const grey = data[i]! + data[i + 1]! + data[i + 2]!;
    min = Math.min(min, grey);
    max = Math.max(max, grey);
  }
  return { width: info.width, height: info.height, visible, varied: visible > 0 && max > min };
}

/** Every file under `dir`, relative, to compare what storage holds before and after. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(d, e);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Validates STAC documents with stac-node-validator (its CLI: the library exits the process),
 * every schema URL mapped to ../shared/stac-schemas. The PROJJSON schema the projection
 * extension refers to is not there: it is mapped to a schema that rejects any value, so an item
 * using `proj:projjson` fails instead of reaching the network; outbound HTTP is blocked anyway.
 */
export async function validateStac(documents: Record<string, unknown>[]): Promise<{ valid: boolean[]; output: string }> {
  const root = sharedPath('stac-schemas');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stac-validate-'));
  try {
    const map: string[] = [];
    for (const rel of listFiles(root)) map.push(`https://${rel.split(path.sep).join('/')}=${path.join(root, rel)}`);
    const stub = path.join(dir, 'projjson.json');
    await fs.writeFile(stub, JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', not: {} }));
    for (const v of ['v0.2', 'v0.5', 'v0.7']) map.push(`https://proj.org/schemas/${v}/projjson.schema.json=${stub}`);
    const files: string[] = [];
    for (const [i, doc] of documents.entries()) {
      const f = path.join(dir, `doc-${i}.json`);
      await fs.writeFile(f, JSON.stringify(doc, null, 2));
      files.push(f);
    }
    const config = path.join(dir, 'config.json');
    await fs.writeFile(config, JSON.stringify({ files, schemaMap: map.join(';'), verbose: true, strict: false }));
    const cli = path.join(PROJECT_ROOT, 'node_modules/stac-node-validator/bin/cli.js');
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, '--config', config], {
        env: { ...process.env, HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('exit', () => resolve({ stdout: out, stderr: err }));
    });
    // stdout has one "- <file>" section per document; a failing schema prints "--- <schema>: invalid" in it.
    const valid = files.map((f) => {
      const start = stdout.indexOf(`- ${f}`);
      const next = files.map((g) => stdout.indexOf(`- ${g}`)).filter((i) => i > start).sort((a, b) => a - b)[0] ?? stdout.indexOf('Files:');
      const section = start >= 0 ? stdout.slice(start, next) : ': invalid';
      return !/: invalid/.test(section) && /--- Item: valid/.test(section);
    });
    const reported = Number(/Invalid: (\d+)/.exec(stdout)?.[1] ?? NaN);
    if (reported !== valid.filter((v) => !v).length) throw new Error(`stac-node-validator reported ${reported} invalid documents:\n${stdout}\n${stderr}`);
    return { valid, output: `${stdout}\n${stderr}` };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The STAC item of a dataset as the STAC layer publishes it, assembled from the item row. */
export function stacItemFromRow(
  row: { id: string; collection_id: string; datetime: Date; geometry: unknown; properties: Record<string, unknown>; assets: Record<string, Record<string, unknown>> },
  bbox: number[] | null,
  apiRoot: string,
): Record<string, unknown> {
  const properties: Record<string, unknown> = { ...row.properties, datetime: row.datetime.toISOString() };
  const extensions = (properties.stac_extensions as string[] | undefined) ?? [];
  const extraLinks = (properties['sightline:links'] as Record<string, string>[] | undefined) ?? [];
  delete properties.stac_extensions;
  delete properties['sightline:links'];
  const assets = Object.fromEntries(Object.entries(row.assets).map(([k, a]) => [k, { ...a, href: `${apiRoot}${a.href as string}` }]));
  return {
    type: 'Feature',
    stac_version: '1.0.0',
    stac_extensions: extensions,
    id: row.id,
    collection: row.collection_id,
    geometry: row.geometry,
    ...(row.geometry && bbox ? { bbox } : {}),
    properties,
    links: [
      { rel: 'self', href: `${apiRoot}collections/${row.collection_id}/items/${row.id}`, type: 'application/geo+json' },
      { rel: 'collection', href: `${apiRoot}collections/${row.collection_id}`, type: 'application/json' },
      ...extraLinks.map((l) => ({ ...l, href: `${apiRoot}${l.href}` })),
    ],
    assets,
  };
}
