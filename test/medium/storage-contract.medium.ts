import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { LocalStorageDriver } from '../../src/storage/local-storage.driver.js';
import { S3StorageDriver, StorageUnavailableError } from '../../src/storage/s3-storage.driver.js';
import { InvalidStorageKeyError, StorageDriver, StorageLimitError, StorageNotFoundError } from '../../src/storage/storage.types.js';
import { freePort } from '../support/net.js';
import { S3RVER_CREDENTIALS, startS3, TestS3 } from '../support/s3.js';

interface Subject {
  driver: StorageDriver;
  /** Anything a failed write could have left: scratch files, objects, pending multipart uploads. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const keysOf = async (driver: StorageDriver, prefix: string) => {
  const out: string[] = [];
  for await (const o of driver.list(prefix)) out.push(o.key);
  return out.sort();
};
/** A body of `size` pseudo-random bytes, produced in small chunks (never whole in memory). */
function generated(size: number, seed = 1): { body: Readable; sha256: string } {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let x = seed;
  for (let offset = 0; offset < size; offset += 65536) {
    const chunk = Buffer.alloc(Math.min(65536, size - offset));
    for (let i = 0; i < chunk.length; i += 4) {
      x = (x * 1103515245 + 12345) >>> 0;
      chunk.writeUInt32LE(x, i - (i + 4 > chunk.length ? i + 4 - chunk.length : 0));
    }
    hash.update(chunk);
    chunks.push(chunk);
  }
  return { body: Readable.from(chunks), sha256: hash.digest('hex') };
}

/** The same cases for every driver: what the application relies on, whatever holds the files. */
function contract(name: string, setup: () => Promise<Subject>) {
  describe(`storage contract: ${name}`, () => {
    let s: Subject;
    let driver: StorageDriver;
    before(async () => {
      s = await setup();
      driver = s.driver;
    });
    after(() => s.close());

    it('puts a stream, computing size and SHA-256 on the way, and reads it back whole', async () => {
      const result = await driver.put('a/b/hello.txt', Readable.from([Buffer.from('hello '), Buffer.from('world')]), { contentType: 'text/plain' });
      assert.deepEqual(result, { key: 'a/b/hello.txt', size: 11, sha256: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9' });
      assert.equal(await text(await driver.get('a/b/hello.txt')), 'hello world');
    });

    it('reads byte ranges (inclusive end), a range past the end giving no bytes', async () => {
      assert.equal(await text(await driver.get('a/b/hello.txt', { start: 6, end: 10 })), 'world');
      assert.equal(await text(await driver.get('a/b/hello.txt', { start: 0, end: 0 })), 'h');
      assert.equal(await text(await driver.get('a/b/hello.txt', { start: 4, end: 100 })), 'o world');
      assert.equal(await text(await driver.get('a/b/hello.txt', { start: 11, end: 20 })), '');
    });

    it('stats an object (size, modification time) and answers null for none', async () => {
      const st = await driver.stat('a/b/hello.txt');
      assert.equal(st?.key, 'a/b/hello.txt');
      assert.equal(st?.size, 11);
      assert.ok(st && Math.abs(st.modifiedAt.getTime() - Date.now()) < 120_000, 'modifiedAt is about now');
      assert.equal(await driver.stat('a/b/nothing.txt'), null);
      assert.equal(await driver.stat('a/b'), null, 'a "folder" is not an object');
    });

    it('says not found for a missing object', async () => {
      await assert.rejects(driver.get('a/b/nothing.txt'), StorageNotFoundError);
      await assert.rejects(driver.get('a/b/nothing.txt', { start: 0, end: 3 }), StorageNotFoundError);
      await assert.rejects(driver.move('a/b/nothing.txt', 'a/b/other.txt'), StorageNotFoundError);
      await driver.delete('a/b/nothing.txt'); // idempotent
    });

    it('hashes a multi-part object on the way and keeps it byte for byte', async () => {
      const size = 12 * 1024 * 1024 + 12345; // three parts of 5 MiB on S3
      const { body, sha256 } = generated(size, 7);
      const result = await driver.put('big/multi.bin', body);
      assert.equal(result.size, size);
      assert.equal(result.sha256, sha256);
      assert.equal(sha(await buffer(await driver.get('big/multi.bin'))), sha256);
      assert.equal((await driver.stat('big/multi.bin'))?.size, size);
      const tail = await buffer(await driver.get('big/multi.bin', { start: size - 100, end: size - 1 }));
      assert.equal(tail.length, 100);
      await driver.delete('big/multi.bin');
    });

    it('puts a buffer in one write: the same object, size and SHA-256 as a stream of it; past maxBytes nothing is written', async () => {
      const data = Buffer.from('a derivative, whole in memory');
      const result = await driver.put('buf/sd.jpg', data, { contentType: 'image/jpeg' });
      assert.equal(result.key, 'buf/sd.jpg');
      assert.equal(result.size, data.length);
      assert.equal(result.sha256, sha(data));
      assert.deepEqual(await buffer(await driver.get('buf/sd.jpg')), data);
      await driver.put('buf/sd.jpg', Buffer.from('replaced'));
      assert.equal(await text(await driver.get('buf/sd.jpg')), 'replaced');
      await assert.rejects(driver.put('buf/big.jpg', Buffer.alloc(1001), { maxBytes: 1000 }), StorageLimitError);
      assert.equal(await driver.stat('buf/big.jpg'), null);
      await driver.deletePrefix('buf/');
      assert.deepEqual(await s.leftovers(), []);
    });

    it('keeps a stream of thousands of tiny chunks byte for byte', async () => {
      const chunks = Array.from({ length: 5000 }, (_, i) => Buffer.from([i & 0xff, (i >> 8) & 0xff, 7]));
      const whole = Buffer.concat(chunks);
      const result = await driver.put('tiny/chunks.bin', Readable.from(chunks));
      assert.equal(result.size, whole.length);
      assert.equal(result.sha256, sha(whole));
      assert.deepEqual(await buffer(await driver.get('tiny/chunks.bin')), whole);
      await driver.delete('tiny/chunks.bin');
    });

    it('stops past maxBytes (one part or many) and leaves nothing behind', async () => {
      await assert.rejects(driver.put('limit/small.bin', Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1000 }), StorageLimitError);
      assert.equal(await driver.stat('limit/small.bin'), null);
      // Past the first parts: a multipart upload has begun on S3 and must be aborted.
      await assert.rejects(driver.put('limit/large.bin', generated(16 * 1024 * 1024).body, { maxBytes: 11 * 1024 * 1024 }), StorageLimitError);
      assert.equal(await driver.stat('limit/large.bin'), null);
      assert.deepEqual(await keysOf(driver, 'limit/'), []);
      assert.deepEqual(await s.leftovers(), []);
    });

    it('leaves nothing behind when the body fails mid-way, and keeps the old object', async () => {
      await driver.put('fail/x.bin', Readable.from([Buffer.from('old')]));
      let sent = 0;
      const failing = new Readable({
        read() {
          if (sent >= 11 * 1024 * 1024) return this.destroy(new Error('client went away'));
          sent += 1024 * 1024;
          this.push(Buffer.alloc(1024 * 1024, 1));
        },
      });
      await assert.rejects(driver.put('fail/x.bin', failing), /client went away/);
      assert.equal(await text(await driver.get('fail/x.bin')), 'old', 'the old content is intact');
      assert.deepEqual(await s.leftovers(), []);
    });

    for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a\0b', 'a//b', './a', 'a\\..\\b', '', 'C:/x']) {
      it(`refuses the key ${JSON.stringify(key)}`, async () => {
        await assert.rejects(driver.put(key, Readable.from([Buffer.from('x')])), InvalidStorageKeyError);
        await assert.rejects(driver.get(key), InvalidStorageKeyError);
        await assert.rejects(driver.stat(key), InvalidStorageKeyError);
        await assert.rejects(driver.delete(key), InvalidStorageKeyError);
        await assert.rejects(driver.move('a/b/hello.txt', key), InvalidStorageKeyError);
        assert.throws(() => driver.localPath(key), InvalidStorageKeyError);
      });
    }

    it('refuses list prefixes that could escape', async () => {
      await assert.rejects(keysOf(driver, '../'), InvalidStorageKeyError);
      await assert.rejects(driver.deletePrefix('a/../..'), InvalidStorageKeyError);
    });

    it('moves an object, replacing the target', async () => {
      await driver.put('tmp/uploads/u1.jpg', Readable.from([Buffer.from('new')]));
      await driver.put('final/a/hd.jpg', Readable.from([Buffer.from('old')]));
      await driver.move('tmp/uploads/u1.jpg', 'final/a/hd.jpg');
      assert.equal(await text(await driver.get('final/a/hd.jpg')), 'new');
      assert.equal(await driver.stat('tmp/uploads/u1.jpg'), null);
    });

    it('lists by prefix (across pages) and deletes a prefix of more than 1000 objects', async () => {
      await driver.put('p/1/x.jpg', Readable.from([Buffer.from('1')]));
      await driver.put('p/1/y.jpg', Readable.from([Buffer.from('22')]));
      await driver.put('p/2/z.jpg', Readable.from([Buffer.from('333')]));
      await driver.put('q/other.jpg', Readable.from([Buffer.from('4')]));
      assert.deepEqual(await keysOf(driver, 'p/'), ['p/1/x.jpg', 'p/1/y.jpg', 'p/2/z.jpg']);
      assert.deepEqual(await keysOf(driver, 'p/1/'), ['p/1/x.jpg', 'p/1/y.jpg']);
      assert.deepEqual(await keysOf(driver, 'p/1/x'), ['p/1/x.jpg']);
      const sizes: number[] = [];
      for await (const o of driver.list('p/')) sizes.push(o.size);
      assert.deepEqual(sizes.sort(), [1, 2, 3]);

      const n = 1205;
      for (let i = 0; i < n; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => driver.put(`many/${String(i + j).padStart(5, '0')}.txt`, Readable.from([Buffer.from('m')]))));
      }
      const listed = await keysOf(driver, 'many/');
      assert.equal(listed.length, n, 'every object listed, past the first page of 1000');
      assert.equal(new Set(listed).size, n);
      assert.equal(await driver.deletePrefix('many/'), n);
      assert.deepEqual(await keysOf(driver, 'many/'), []);
      assert.deepEqual(await keysOf(driver, 'q/'), ['q/other.jpg'], 'other prefixes untouched');
    });
  });
}

contract('local', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'storage-contract-'));
  return {
    driver: new LocalStorageDriver(root),
    leftovers: async () => fs.readdir(path.join(root, 'tmp/writes')).catch(() => []),
    close: () => fs.rm(root, { recursive: true, force: true }),
  };
});

contract('s3 (s3rver)', async () => {
  const s3 = await startS3();
  // Small parts, so that a dozen MiB makes a real multipart upload.
  const driver = new S3StorageDriver({ ...s3Options(s3), prefix: 'inst/a', partSize: 5 * 1024 * 1024, queueSize: 2 });
  return {
    driver,
    leftovers: async () => [...(await s3.pendingUploads()).map((id) => `upload ${id}`), ...(await bucketKeys(s3.client, s3.bucket, 'inst/a/limit/'))],
    close: async () => {
      driver.close();
      await s3.close();
    },
  };
});

function s3Options(t: TestS3) {
  return { endpoint: t.endpoint, region: 'us-east-1', bucket: t.bucket, credentials: S3RVER_CREDENTIALS, forcePathStyle: true };
}

async function bucketKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const answer = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (answer.Contents ?? []).map((o) => o.Key!);
}

describe('S3 driver specifics (s3rver)', () => {
  let t: TestS3;
  before(async () => {
    t = await startS3('specifics');
  });
  after(() => t.close());

  it('keeps every key under S3_PREFIX and sees nothing outside it', async () => {
    const driver = new S3StorageDriver({ ...s3Options(t), prefix: 'one/' });
    await driver.put('pictures/a.jpg', Readable.from([Buffer.from('a')]));
    await t.client.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'other/pictures/b.jpg', Body: 'b' }));
    assert.deepEqual(await bucketKeys(t.client, t.bucket, ''), ['one/pictures/a.jpg', 'other/pictures/b.jpg']);
    assert.deepEqual(await keysOf(driver, ''), ['pictures/a.jpg']);
    assert.equal(await driver.stat('../other/pictures/b.jpg').catch((e: Error) => e.constructor), InvalidStorageKeyError);
    assert.equal(await driver.deletePrefix(''), 1);
    assert.deepEqual(await bucketKeys(t.client, t.bucket, ''), ['other/pictures/b.jpg']);
    driver.close();
  });

  it('moves an object bigger than one copy may take (a multipart copy), leaving no upload behind', async () => {
    // The limit is lowered from S3's 5 GiB so that a dozen MiB exercises the path. s3rver has no
    // UploadPartCopy (NotImplemented), so this also covers the streamed fallback.
    const driver = new S3StorageDriver({ ...s3Options(t), prefix: 'big', partSize: 5 * 1024 * 1024, singleCopyLimit: 6 * 1024 * 1024 });
    const bytes = Buffer.alloc(13 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251;
    const put = await driver.put('tmp/upload.bin', Readable.from([bytes]), { contentType: 'application/octet-stream' });
    await driver.move('tmp/upload.bin', 'datasets/final.bin');
    assert.equal(await driver.stat('tmp/upload.bin'), null);
    const chunks: Buffer[] = [];
    for await (const c of await driver.get('datasets/final.bin')) chunks.push(c as Buffer);
    const moved = Buffer.concat(chunks);
    assert.equal(moved.length, bytes.length);
    assert.equal(createHash('sha256').update(moved).digest('hex'), put.sha256);
    assert.deepEqual(await t.pendingUploads(), []);
    await assert.rejects(driver.move('tmp/none.bin', 'x.bin'), StorageNotFoundError);
    driver.close();
  });

  it('presigns a GET anyone can follow for a while', async () => {
    const driver = new S3StorageDriver({ ...s3Options(t), prefix: 'signed' });
    await driver.put('x/file.txt', Readable.from([Buffer.from('signed content')]));
    const url = await driver.presignedUrl('x/file.txt', 60);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'signed content');
    driver.close();
  });

  it('checks at start that the bucket exists, the credentials are accepted and the endpoint answers', async () => {
    const missing = new S3StorageDriver({ ...s3Options(t), bucket: 'no-such-bucket' });
    await assert.rejects(missing.init(), (e: Error) => e instanceof StorageUnavailableError && /bucket "no-such-bucket" .*does not exist/.test(e.message));
    const refused = new S3StorageDriver({ ...s3Options(t), credentials: { accessKeyId: 'UNKNOWN', secretAccessKey: 'wrong-secret' } });
    await assert.rejects(refused.init(), (e: Error) => e instanceof StorageUnavailableError && /refused the credentials/.test(e.message) && !e.message.includes('wrong-secret'));
    const port = await freePort();
    const unreachable = new S3StorageDriver({ ...s3Options(t), endpoint: `http://127.0.0.1:${port}` });
    await assert.rejects(unreachable.init(), (e: Error) => e instanceof StorageUnavailableError && /unreachable.*S3_ENDPOINT/.test(e.message));
    const fine = new S3StorageDriver(s3Options(t));
    await fine.init();
    for (const d of [missing, refused, unreachable, fine]) d.close();
  });
});
