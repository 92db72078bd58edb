/**
 * Helpers of the datasets e2e tests: uploads, waiting for ingest, the expected geometry computed
 * independently from a file's own tags (geotiff + proj4, not the server's code), PNG checks,
 * (STAC documents are validated with test/support/stac-validate.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fromFile } from 'geotiff';
import proj4 from 'proj4';
import sharp from 'sharp';
import type { TestApi } from './support/app.js';
import type { TestUser } from './support/auth.js';
import { sharedPath } from './support/env.js';
import { json, waitFor } from './support/net.js';

export const GEOTIFF_DIR = sharedPath('fixtures', 'geotiff');

/** Proj4 definitions written out here, so the expectations do not come from the server's CRS reading. */
export const PROJ_DEFS: Record<number, string> = {
  4326: '+proj=longlat +datum=WGS84 +no_defs',
  3857: '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs',
  32618: '+proj=utm +zone=18 +datum=WGS84 +units=m +no_defs',
  32660: '+proj=utm +zone=60 +datum=WGS84 +units=m +no_defs',
};

export async function upload(api: TestApi, user: TestUser | undefined, content: Buffer | string, fileName: string, fields: Record<string, string> = {}): Promise<Response> {
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
      const raw = ycbcr
        ? Array.from((await image.readRGB({ window, interleave: true })) as ArrayLike<number>)
        : (await image.readRasters({ window })).map((band) => (band as ArrayLike<number>)[0]!);
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
