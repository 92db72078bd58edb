import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import sharp from 'sharp';
import { syntheticJpeg } from '../../scripts/bench/ingest-images.js';
import { Visibility } from '../../src/auth/visibility.js';
import { PictureIntakeRejection, PictureIntakeService } from '../../src/pictures/picture-intake.service.js';
import { PictureSourceHandler, type PictureRejection, type PictureSource, type PictureSourceRef } from '../../src/pictures/picture-source.js';
import { originalTempKey } from '../../src/pictures/picture-storage.js';
import { PictureProcessor } from '../../src/pictures/picture.processor.js';
import { SequencesService, type SequencingOptions } from '../../src/pictures/sequences.service.js';
import { JobQueueService } from '../../src/queue/job-queue.service.js';
import { JobName } from '../../src/queue/queue.constants.js';
import { StorageService } from '../../src/storage/storage.service.js';
import { startApi, type TestApi } from '../support/app.js';
import { createUser, type TestUser } from '../support/auth.js';
import { startBlurServer } from '../support/blur-server.js';
import { inProcessJobContext } from '../support/jobs.js';
import { json } from '../support/net.js';

const KIND = 'test-dropbox';

/** A source of pictures that is not an upload set (a shared folder a camera drops files into), defined only here. */
@Injectable()
@PictureSourceHandler()
class DropboxSource implements PictureSource {
  readonly pictureSourceKind = KIND;
  readonly settled: (string | null)[] = [];
  readonly rejected: PictureRejection[] = [];

  async onPicturesSettled(batchId: string | null): Promise<void> {
    this.settled.push(batchId);
  }

  async onPicturesRejected(_batchId: string | null, rejections: PictureRejection[]): Promise<void> {
    this.rejected.push(...rejections);
  }
}

@Module({ providers: [DropboxSource] })
class DropboxModule {}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('pictures from a source other than an upload set', () => {
  let api: TestApi;
  let owner: TestUser;
  let blur: Awaited<ReturnType<typeof startBlurServer>>;
  const batch: PictureSourceRef = { kind: KIND, id: randomUUID() };
  const lon = -150 + Math.random() * 290;
  const lat = -50 + Math.random() * 90;
  const ids: string[] = [];
  let sequenceId = '';

  before(async () => {
    blur = await startBlurServer();
    api = await startApi({ env: { LOG_LEVEL: 'error', BLUR_PROVIDER: 'http', BLUR_URL: blur.url, BLUR_TIMEOUT_MS: '5000', BLUR_RETRIES: '0' }, extraModules: [DropboxModule] });
    owner = await createUser(api, 'dropbox');
  });
  after(async () => {
    await api?.close();
    await blur?.close();
  });

  /** Stores a file where a receiver would, and takes it in for the dropbox batch. */
  async function drop(file: Buffer, fileName: string) {
    const pictureId = randomUUID();
    const storageKey = originalTempKey(pictureId);
    await api.app.get(StorageService).put(storageKey, Readable.from([file]));
    const draft = await api.app.get(PictureIntakeService).intake({
      pictureId,
      storageKey,
      fileName,
      size: file.length,
      sha256: sha256(file),
      source: batch,
      ownerId: owner.id,
    });
    // Processing runs here, in-process; the job the intake queued is not needed.
    await api.app.get(JobQueueService).remove(JobName.PictureProcess, { pictureId, generation: 1 });
    return draft;
  }

  it('takes in geotagged JPEGs, and turns away a duplicate and a file that is not a JPEG with the reason', async () => {
    const files: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      files.push(await syntheticJpeg({ width: 640, height: 480, lon: lon + i * 0.0001, lat, time: new Date(Date.UTC(2024, 3, 2, 9, 0, i * 3)), seed: i + 1, pattern: 'checker' }));
      const draft = await drop(files[i]!, `DROP_${i}.jpg`);
      assert.equal(draft.status, 'pending');
      assert.deepEqual([draft.sourceKind, draft.sourceId], [batch.kind, batch.id]);
      ids.push(draft.id);
    }
    await assert.rejects(drop(files[0]!, 'again.jpg'), (e: unknown) => e instanceof PictureIntakeRejection && e.reason === 'file_duplicate' && e.status === 409);
    await assert.rejects(drop(Buffer.from('not a picture at all'), 'notes.txt'), (e: unknown) => e instanceof PictureIntakeRejection && e.reason === 'invalid_file');
  });

  it('blurs each picture and makes its derivatives; the source hears when each is done', async () => {
    const processor = api.app.get(PictureProcessor);
    for (const pictureId of ids) {
      const outcome = await processor.process({ pictureId, generation: 1 }, inProcessJobContext());
      assert.deepEqual(outcome, { ready: true, blurred: true });
    }
    assert.equal(blur.state.requests, ids.length, 'every picture went through the blur service');
    const source = api.app.get(DropboxSource);
    assert.deepEqual(
      source.settled,
      ids.map(() => batch.id),
    );
    for (const pictureId of ids) {
      const status = await json(await api.fetch(`/api/pictures/${pictureId}/status`, { headers: owner.headers }));
      assert.equal(status.status, 'ready');
      assert.equal(status.blurred, true);
      assert.deepEqual(status.source, batch);
      assert.equal(status.upload_set_id, null);
    }
  });

  it('cuts the batch into a sequence published as STAC items, in capture order, with headings from the path', async () => {
    const sequences = api.app.get(SequencesService);
    const db = api.app.get(DataSource);
    const options: SequencingOptions = {
      title: 'Dropbox walk',
      ownerId: owner.id,
      visibility: Visibility.Anyone,
      params: { sortMethod: 'time-asc', splitDistance: 100, splitTime: 300, duplicateDistance: null, duplicateRotation: null },
      relativeHeading: 0,
      properties: { 'sightline:dropbox': batch.id },
    };
    const { report, duplicateIds } = await db.transaction((m) => sequences.cut(batch, options, m));
    assert.deepEqual(
      report.sequences.map((s) => s.length),
      [4],
    );
    assert.deepEqual(duplicateIds, []);
    assert.equal(await sequences.hasUnfinished(batch), false);
    const finalized = await db.transaction((m) => sequences.finalize(batch, options, m));
    assert.equal(finalized, 1);

    const search = await json(await api.fetch(`/api/search?${new URLSearchParams({ ids: ids.join(','), limit: '10' })}`));
    assert.equal(search.features.length, 4);
    sequenceId = search.features[0].collection;
    const items = await json(await api.fetch(`/api/collections/${sequenceId}/items?limit=10`));
    assert.deepEqual(
      items.features.map((f: { id: string }) => f.id),
      ids,
      'ranked in capture order',
    );
    const [first, second] = items.features;
    assert.equal(first.links.find((l: { rel: string }) => l.rel === 'next')?.href.endsWith(`/items/${ids[1]}`), true);
    assert.equal(second.links.find((l: { rel: string }) => l.rel === 'prev')?.href.endsWith(`/items/${ids[0]}`), true);
    // Walking east: the derived heading is about 90°.
    assert.ok(Math.abs(first.properties['view:azimuth'] - 90) < 1, String(first.properties['view:azimuth']));
    assert.equal(first.properties['sightline:blurred'], true);

    const collection = await json(await api.fetch(`/api/collections/${sequenceId}`));
    assert.equal(collection['sightline:kind'], 'sequence');
    assert.equal(collection['sightline:dropbox'], batch.id);
    assert.equal(collection['sightline:sort_method'], 'time_asc', 'the vocabulary collection editing uses');
    assert.equal(collection.assets.thumbnail.href, first.assets.thumb.href, 'an ordered collection shows its first picture');
    assert.equal(collection.extent.temporal.interval[0][0], '2024-04-02T09:00:00Z');

    // The served hd file is the blurred one, and the thumbnail a 500 px derivative.
    const hd = await api.fetch(new URL(first.assets.hd.href).pathname);
    assert.equal(hd.status, 200);
    assert.equal(blur.state.received.includes(sha256(Buffer.from(await hd.arrayBuffer()))), false, 'hd is not the unblurred original');
    const thumb = await api.fetch(new URL(first.assets.thumb.href).pathname);
    assert.equal((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width, 500);
  });

  it('removes the batch: its sequence, its pictures and their files', async () => {
    const removed = await api.app.get(SequencesService).removeSource(batch, inProcessJobContext());
    assert.equal(removed.pictures, 4);
    assert.ok(removed.files >= 12, `hd, sd and thumb of each picture (${removed.files})`);
    assert.equal((await api.fetch(`/api/collections/${sequenceId}`)).status, 404);
    assert.equal((await api.fetch(`/api/pictures/${ids[0]}/status`, { headers: owner.headers })).status, 404);
  });
});
