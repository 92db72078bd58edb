import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { LocalStorageDriver } from './local-storage.driver.js';
import { InvalidStorageKeyError, StorageLimitError, StorageNotFoundError } from './storage.types.js';

describe('LocalStorageDriver', () => {
  let root: string;
  let storage: LocalStorageDriver;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'storage-spec-'));
    storage = new LocalStorageDriver(root);
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('writes, hashes, stats and reads back an object', async () => {
    const result = await storage.put('a/b/hello.txt', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    assert.equal(result.size, 11);
    assert.equal(result.sha256, 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    assert.equal((await storage.stat('a/b/hello.txt'))?.size, 11);
    assert.equal(await text(await storage.get('a/b/hello.txt')), 'hello world');
  });

  it('makes an empty scratch file under tmp/ that a writer fills by path and move() puts in place', async () => {
    const scratch = await storage.scratchFile('.jpg');
    assert.match(scratch.key, /^tmp\/writes\/[0-9a-f-]{36}\.jpg$/);
    assert.equal(scratch.path, storage.localPath(scratch.key));
    assert.equal((await fs.stat(scratch.path)).size, 0);
    await fs.writeFile(scratch.path, 'pixels');
    await storage.move(scratch.key, 'scratch/sd.jpg');
    assert.equal(await text(await storage.get('scratch/sd.jpg')), 'pixels');
    assert.equal(await storage.stat(scratch.key), null);
    await assert.rejects(storage.scratchFile('/../x'), /Not a file extension/);
  });

  it('reads a byte range (inclusive end)', async () => {
    assert.equal(await text(await storage.get('a/b/hello.txt', { start: 6, end: 10 })), 'world');
  });

  it('replaces atomically and leaves no partial file when the body fails', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('half'));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(storage.put('a/b/hello.txt', failing), /client went away/);
    assert.equal(await text(await storage.get('a/b/hello.txt')), 'hello world', 'the old content is intact');
    const scratch = await fs.readdir(path.join(root, 'tmp/writes'));
    assert.deepEqual(scratch, []);
  });

  it('stops past maxBytes and leaves nothing behind', async () => {
    await assert.rejects(storage.put('big.bin', Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1000 }), StorageLimitError);
    assert.equal(await storage.stat('big.bin'), null);
    assert.deepEqual(await fs.readdir(path.join(root, 'tmp/writes')), []);
  });

  for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a\0b', 'a//b', './a', 'a\\..\\b', '', 'C:/x']) {
    it(`refuses the key ${JSON.stringify(key)}`, async () => {
      await assert.rejects(storage.put(key, Readable.from([Buffer.from('x')])), InvalidStorageKeyError);
      assert.throws(() => storage.localPath(key), InvalidStorageKeyError);
    });
  }

  it('moves an object into place, replacing the target, and says when the source is missing', async () => {
    await storage.put('tmp/uploads/u1.jpg', Readable.from([Buffer.from('new')]));
    await storage.put('final/a/hd.jpg', Readable.from([Buffer.from('old')]));
    await storage.move('tmp/uploads/u1.jpg', 'final/a/hd.jpg');
    assert.equal(await text(await storage.get('final/a/hd.jpg')), 'new');
    assert.equal(await storage.stat('tmp/uploads/u1.jpg'), null);
    await storage.move('tmp/uploads/u2.jpg', 'final/b/hd.jpg').then(
      () => assert.fail('moved a missing object'),
      (error) => assert.ok(error instanceof StorageNotFoundError),
    );
    await assert.rejects(storage.move('../x', 'final/c.jpg'), InvalidStorageKeyError);
  });

  it('lists by prefix and deletes (idempotently), pruning empty folders', async () => {
    await storage.put('p/1/x.jpg', Readable.from([Buffer.from('1')]));
    await storage.put('p/1/y.jpg', Readable.from([Buffer.from('22')]));
    await storage.put('p/2/z.jpg', Readable.from([Buffer.from('333')]));
    await storage.put('q/other.jpg', Readable.from([Buffer.from('4')]));
    const keys = async (prefix: string) => {
      const out: string[] = [];
      for await (const o of storage.list(prefix)) out.push(o.key);
      return out.sort();
    };
    assert.deepEqual(await keys('p/'), ['p/1/x.jpg', 'p/1/y.jpg', 'p/2/z.jpg']);
    assert.deepEqual(await keys('p/1/'), ['p/1/x.jpg', 'p/1/y.jpg']);
    assert.deepEqual(await keys('p/1/x'), ['p/1/x.jpg']);
    await storage.delete('p/2/z.jpg');
    await storage.delete('p/2/z.jpg');
    assert.equal(await fs.stat(path.join(root, 'p/2')).catch(() => null), null, 'empty folder removed');
    await assert.rejects(storage.get('p/2/z.jpg'), StorageNotFoundError);
  });

  it('writes while other writes delete the folders they share (no ENOENT from a folder pruned meanwhile)', async () => {
    // Uploads land in tmp/originals/ and leave it by delete or move: each delete of the last file
    // removes the folder while other writes are renaming into it.
    const failures: string[] = [];
    const one = async (i: number) => {
      const key = `tmp/originals/race-${i}.jpg`;
      try {
        await storage.put(key, Readable.from([Buffer.alloc(64, i & 0xff)]));
        if (i % 2) await storage.delete(key);
        else {
          await storage.move(key, `race/${i % 7}/${i}.jpg`);
          await storage.delete(`race/${i % 7}/${i}.jpg`);
        }
      } catch (error) {
        failures.push(`${i}: ${(error as Error).message}`);
      }
    };
    for (let round = 0; round < 40; round++) await Promise.all(Array.from({ length: 25 }, (_, j) => one(round * 25 + j)));
    assert.deepEqual(failures, []);
  });
});
