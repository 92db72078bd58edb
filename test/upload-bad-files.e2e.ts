import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pictureKey } from '../src/pictures/picture-storage.js';
import { startApi, TestApi } from './support/app.js';
import { createUser, TestUser } from './support/auth.js';
import { sharedPath } from './support/env.js';
import { json, waitFor } from './support/net.js';
import { ChildHandle, startWorker } from './support/processes.js';
import { createUploadSet, getFiles, uploadPicture } from './upload-support.js';

const FIXTURES = sharedPath('fixtures/photos');
const dirs = ['invalid', 'odd-exif'];
const skip = dirs.every((d) => existsSync(path.join(FIXTURES, d))) ? false : `${FIXTURES}/{invalid,odd-exif} are absent (../shared is not beside the project)`;
const dataDir = process.env.DATA_DIR!;

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('truncated, corrupted and malformed-EXIF files', { skip }, () => {
  let api: TestApi;
  let worker: ChildHandle;
  let user: TestUser;
  let setId: string;
  const outcome = new Map<string, { status: number; reason?: string }>();
  let originalsBefore: string[];
  let writesBefore: string[];

  before(async () => {
    api = await startApi();
    worker = await startWorker();
    user = await createUser(api, 'tester');
    setId = (await createUploadSet(api, user, { title: 'Bad files', no_deduplication: true })).id;
    // Other files' pictures may wait under tmp/ on purpose, and a worker killed by another file
    // leaves its scratch files for the scheduled cleanup; only ours must not stay.
    originalsBefore = await filesUnder(path.join(dataDir, 'tmp/originals'));
    writesBefore = await filesUnder(path.join(dataDir, 'tmp/writes'));
  });
  after(async () => {
    await worker?.stop();
    await api?.close();
  });

  it('answers each with 202 or a clear 4xx carrying the reason — never a 500', async () => {
    for (const dir of dirs) {
      for (const name of readdirSync(path.join(FIXTURES, dir)).sort()) {
        const res = await uploadPicture(api, user, setId, path.join(FIXTURES, dir, name));
        const body = await json(res);
        assert.ok([202, 400, 409].includes(res.status), `${dir}/${name}: ${res.status} ${JSON.stringify(body)}`);
        if (res.status !== 202) {
          assert.equal(body.statusCode, res.status);
          assert.ok(body.message.length > 10, `${dir}/${name} says why`);
          assert.ok(['invalid_file', 'invalid_metadata'].includes(body.details.reason), `${dir}/${name}: ${body.details.reason}`);
        }
        outcome.set(`${dir}/${name}`, { status: res.status, reason: body.details?.reason });
      }
    }
    // Without GPS position or capture time, these photos cannot be placed on a map.
    assert.deepEqual(outcome.get('odd-exif/67-0_length_string.jpg'), { status: 400, reason: 'invalid_metadata' });
    assert.equal(outcome.get('odd-exif/87_OSError.jpg')!.status, 202, 'a photo with position and time is accepted despite odd EXIF');
    assert.equal((await api.fetch('/api/health')).status, 200, 'the server keeps serving');
  });

  it('takes the metadata-less ones with overrides; a corrupt one is then rejected by processing as invalid_file', async () => {
    let i = 0;
    for (const [file, o] of outcome) {
      if (o.reason !== 'invalid_metadata') continue;
      const res = await uploadPicture(api, user, setId, path.join(FIXTURES, file), {
        override_capture_time: new Date(Date.UTC(2020, 0, 1, 0, 0, i)).toISOString(),
        override_longitude: String(1 + i++ * 0.001),
        override_latitude: '45',
      });
      assert.ok([202, 400].includes(res.status), `${file} with overrides: ${res.status}`);
      outcome.set(file, { status: res.status, reason: res.status === 202 ? undefined : (await json(res)).details.reason });
    }
    assert.equal(outcome.get('invalid/corrupted.jpg')!.status, 202, 'its header is fine: only decoding tells');
    assert.equal((await api.fetch(`/api/upload_sets/${setId}/complete`, { method: 'POST', headers: user.headers })).status, 200);
    const files = await waitFor(
      'every picture to be processed',
      async () => {
        const list = await getFiles(api, user, setId);
        return list.every((f) => f.rejected || ['ready', 'broken'].includes(f.processing?.status)) ? list : undefined;
      },
      60_000,
      250,
    );
    const corrupted = files.find((f) => f.file_name === 'corrupted.jpg');
    assert.equal(corrupted.rejected.reason, 'invalid_file');
    assert.match(corrupted.rejected.message, /cannot be decoded/);
    const broken = files.filter((f) => f.processing?.status === 'broken');
    assert.deepEqual(broken, [], 'no picture broken by odd metadata');
    const ready = files.filter((f) => f.processing?.status === 'ready');
    assert.ok(ready.length >= 15, `${ready.length} odd files became pictures`);
    for (const f of ready) assert.ok(existsSync(path.join(dataDir, pictureKey(f.picture_id, 'thumb'))), `${f.file_name} has a thumbnail`);
  });

  it('leaves nothing half-written: no partial writes, no stray originals, no files of rejected pictures', async () => {
    await waitFor('our originals to leave tmp/', async () => (await filesUnder(path.join(dataDir, 'tmp/originals'))).every((f) => originalsBefore.includes(f)), 20_000);
    assert.deepEqual(
      (await filesUnder(path.join(dataDir, 'tmp/writes'))).filter((f) => !writesBefore.includes(f)),
      [],
    );
    const files = await getFiles(api, user, setId);
    const ready = new Set(files.filter((f) => f.processing?.status === 'ready').map((f) => f.picture_id));
    const folders = new Set((await filesUnder(path.join(dataDir, 'pictures'))).map((f) => path.basename(path.dirname(f))));
    for (const f of files.filter((x) => x.rejected && x.picture_id)) assert.equal(folders.has(f.picture_id), false, `${f.file_name} left files`);
    const corruptId = files.find((f) => f.file_name === 'corrupted.jpg').picture_id;
    assert.equal(corruptId, null, 'the rejected picture is gone, its file record stays');
    assert.ok(ready.size > 0);
  });
});
