import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { syntheticJpeg } from '../scripts/bench/ingest-images.js';
import { GEOTIFF_DIR, inspectPng, tiffTruth, tileOf, upload, waitIngested } from './datasets-support.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { json } from './support/net.js';
import { ChildHandle, spawnEntry, startWorker } from './support/processes.js';
import { startS3, TestS3 } from './support/s3.js';
import { createUploadSet, getFiles, uploadPicture, waitUntilReady } from './upload-support.js';

const PREFIX = 'instance-a';
const sha = (data: Buffer | ArrayBuffer) =>
  createHash('sha256')
    .update(Buffer.from(data as ArrayBuffer))
    .digest('hex');

/** What a user sees when the API and the worker keep their files in a bucket (s3rver). */
describe('STORAGE_DRIVER=s3', () => {
  let s3: TestS3;
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let dataDir: string;
  let env: Record<string, string>;
  const pictures: { id: string; collectionId: string; sd: Buffer }[] = [];

  before(async () => {
    s3 = await startS3();
    // An empty DATA_DIR of their own: nothing may land there.
    dataDir = await fs.mkdtemp(path.join(process.env.DATA_DIR!, 's3-run-'));
    env = { ...s3.env(PREFIX), DATA_DIR: dataDir };
    api = await startApi({ env });
    worker = await startWorker(env);
    user = await createUser(api, 'surveyor');
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
    await s3?.close();
  });

  const bucketKeys = async (prefix: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  };

  it('pictures: uploaded, processed into derivatives in the bucket, served with ETag, 304 and ranges, linked from STAC', async () => {
    const set = await createUploadSet(api, user, { title: 'Bucket walk', estimated_nb_files: 2 });
    for (let i = 0; i < 2; i++) {
      const data = await syntheticJpeg({ width: 800, height: 600, lon: 2.35 + i * 0.0001, lat: 48.85, time: new Date(Date.UTC(2024, 4, 1, 10, 0, i)), seed: 40 + i });
      const res = await uploadPicture(api, user, set.id, { name: `p${i}.jpg`, data });
      assert.equal(res.status, 202, await res.clone().text());
    }
    const ready = await waitUntilReady(api, user, set.id, 90_000);
    const files = await getFiles(api, user, set.id);
    assert.equal(files.length, 2);
    const collectionId = ready.associated_collections[0].id;
    for (const f of files) {
      const id = f.picture_id as string;
      const keys = await bucketKeys(`${PREFIX}/`);
      for (const variant of ['hd', 'sd', 'thumb']) {
        assert.ok(
          keys.some((k) => k.includes(id) && k.includes(variant)),
          `${variant} of ${id} is in the bucket under ${PREFIX}/`,
        );
      }

      const sd = await api.fetch(`/api/pictures/${id}/sd.jpg`, { headers: user.headers });
      assert.equal(sd.status, 200);
      assert.equal(sd.headers.get('content-type'), 'image/jpeg');
      const body = Buffer.from(await sd.arrayBuffer());
      assert.equal(Number(sd.headers.get('content-length')), body.length);
      const meta = await sharp(body).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.ok(meta.width! <= 2048 && meta.width! > 0);
      const etag = sd.headers.get('etag')!;
      assert.ok(etag);

      const again = await api.fetch(`/api/pictures/${id}/sd.jpg`, { headers: { ...user.headers, 'if-none-match': etag } });
      assert.equal(again.status, 304);
      const part = await api.fetch(`/api/pictures/${id}/sd.jpg`, { headers: { ...user.headers, range: 'bytes=0-0' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 0-0/${body.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), body.subarray(0, 1));
      pictures.push({ id, collectionId, sd: body });
      const tail = await api.fetch(`/api/pictures/${id}/sd.jpg`, { headers: { ...user.headers, range: 'bytes=-100' } });
      assert.equal(tail.status, 206);
      assert.deepEqual(Buffer.from(await tail.arrayBuffer()), body.subarray(body.length - 100));

      const item = await json(await api.fetch(`/api/collections/${collectionId}/items/${id}`, { headers: user.headers }));
      for (const name of ['hd', 'sd', 'thumb']) {
        const href: string = item.assets?.[name]?.href;
        assert.ok(href, `the STAC item has a ${name} asset`);
        const res = await fetch(href, { headers: user.headers });
        assert.equal(res.status, 200, `${name} asset ${href}`);
        assert.equal((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format, 'jpeg');
      }
    }
    assert.deepEqual(await fs.readdir(dataDir), [], 'nothing written to DATA_DIR');
  });

  it('with S3_PRESIGNED_REDIRECTS, sends public picture files straight from the bucket and keeps serving restricted ones', async () => {
    const redirecting = await startApi({ env: { ...env, S3_PRESIGNED_REDIRECTS: 'true', S3_PRESIGNED_TTL_SECONDS: '60' } });
    try {
      const [first] = pictures;
      assert.ok(first, 'the pictures test ran first');
      const res = await redirecting.fetch(`/api/pictures/${first.id}/sd.jpg`, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const location = res.headers.get('location')!;
      assert.ok(location.startsWith(s3.endpoint), location);
      assert.match(location, /X-Amz-Expires=60/);
      const direct = await fetch(location);
      assert.equal(direct.status, 200);
      assert.deepEqual(Buffer.from(await direct.arrayBuffer()), first.sd, 'the same bytes as served through the API');

      // A collection only signed-in users may see: its files go through the API, never to a shareable URL.
      const patch = await redirecting.fetch(`/api/collections/${first.collectionId}`, {
        method: 'PATCH',
        headers: { ...user.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ visibility: 'logged-only' }),
      });
      assert.equal(patch.status, 200);
      const restricted = await redirecting.fetch(`/api/pictures/${first.id}/sd.jpg`, { headers: user.headers, redirect: 'manual' });
      assert.equal(restricted.status, 200);
      assert.deepEqual(Buffer.from(await restricted.arrayBuffer()), first.sd);
    } finally {
      await redirecting.close();
    }
  });

  it(
    'datasets: a COG uploaded to the bucket, ingested from byte ranges, with thumbnail, tiles, samples and a ranged download',
    { skip: existsSync(GEOTIFF_DIR) ? false : `${GEOTIFF_DIR} is absent (../shared is not beside the project)` },
    async () => {
      const file = path.join(GEOTIFF_DIR, 'cogeo.tif');
      const bytes = await fs.readFile(file);
      const res = await upload(api, user, file, 'cogeo.tif', { visibility: 'anyone', allow_duplicate: 'true' });
      assert.equal(res.status, 202, await res.clone().text());
      const id = (await json(res)).id as string;
      const d = await waitIngested(api, user, id, 90_000);
      assert.equal(d.status, 'ready', JSON.stringify(d.error));
      assert.equal(d.is_cog, true);
      assert.equal(d.sha256, sha(bytes));
      assert.ok(
        (await bucketKeys(`${PREFIX}/`)).some((k) => k.includes(id)),
        'the file is in the bucket',
      );

      const thumb = await api.fetch(`/api/datasets/${id}/thumbnail.png?size=128`);
      assert.equal(thumb.status, 200);
      assert.ok((await inspectPng(await thumb.arrayBuffer())).varied, 'the thumbnail shows something');

      const truth = await tiffTruth(file);
      try {
        const [lon, lat] = truth.pixelCentre(Math.floor(truth.width / 2), Math.floor(truth.height / 2));
        const [x, y] = tileOf(lon, lat, 16);
        const tile = await api.fetch(`/api/datasets/${id}/tiles/16/${x}/${y}.png`);
        assert.equal(tile.status, 200);
        const png = await inspectPng(await tile.arrayBuffer());
        assert.deepEqual([png.width, png.height], [256, 256]);
        assert.ok(png.varied, 'the tile shows something');

        for (const [col, row] of [
          [10, 10],
          [512, 700],
        ] as const) {
          const [plon, plat] = truth.pixelCentre(col, row);
          const sample = await json(await api.fetch(`/api/datasets/${id}/sample?lon=${plon}&lat=${plat}`));
          assert.deepEqual([sample.samples[0].col, sample.samples[0].row], [col, row]);
          assert.deepEqual(sample.samples[0].values, await truth.values(col, row));
        }
      } finally {
        await truth.close();
      }

      const whole = await api.fetch(`/api/datasets/${id}/data.tif`);
      assert.equal(whole.status, 200);
      assert.equal(sha(await whole.arrayBuffer()), sha(bytes));
      const range = await api.fetch(`/api/datasets/${id}/data.tif`, { headers: { range: 'bytes=100-1123' } });
      assert.equal(range.status, 206);
      assert.equal(range.headers.get('content-range'), `bytes 100-1123/${bytes.length}`);
      assert.deepEqual(Buffer.from(await range.arrayBuffer()), bytes.subarray(100, 1124));

      const gone = await api.fetch(`/api/datasets/${id}`, { method: 'DELETE', headers: user.headers });
      assert.ok(gone.status === 204 || gone.status === 200, `delete answered ${gone.status}`);
    },
  );

  it('refuses to start, naming the problem, when the bucket is missing', async () => {
    const child = spawnEntry('main', { env: { ...s3.env(), S3_BUCKET: 'no-such-bucket' } });
    const code = await new Promise<number | null>((resolve) => child.proc.on('exit', resolve));
    assert.equal(code, 78);
    assert.match(child.output(), /bucket "no-such-bucket" .*does not exist/);
  });
});
