import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  assertBufferWithinLimit,
  assertValidKey,
  assertValidPrefix,
  bufferPutResult,
  ByteRange,
  PutOptions,
  PutResult,
  StorageDriver,
  StorageLimitError,
  StorageNotFoundError,
  StoredObject,
  TEMP_PREFIX,
} from './storage.types.js';

/**
 * Runs `work` (a write into `dir`), making `dir` first when it is missing. Deleting an object
 * removes the folders it leaves empty, so another request may remove `dir` between the two
 * steps: then `dir` is made again and `work` retried (while `retry` says so: the source of a
 * rename may really be gone). The folder usually exists: it is made only after a miss.
 */
async function inFolder<T>(dir: string, work: () => Promise<T>, retry: () => Promise<boolean> = async () => true): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      // Within the try: a folder above may be pruned while it is being made (ENOENT again).
      if (attempt > 1) await fs.mkdir(dir, { recursive: true });
      return await work();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10 || !(await retry())) throw error;
    }
  }
}

/** Bytes gathered before a write: one system call per 256 KiB rather than one per socket read. */
const WRITE_BATCH = 256 * 1024;

/** Writes every byte of `chunks` (a short write is continued). */
async function writeAll(handle: fs.FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks;
  while (rest.length) {
    const { bytesWritten } = await handle.writev(rest);
    if (bytesWritten === 0) throw new Error('The file system accepted no bytes');
    let skip = bytesWritten;
    const left: Buffer[] = [];
    for (const chunk of rest) {
      if (skip >= chunk.length) skip -= chunk.length;
      else {
        left.push(skip ? chunk.subarray(skip) : chunk);
        skip = 0;
      }
    }
    rest = left;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Files under one root folder. Writes go to `tmp/` first and are renamed into place. */
export class LocalStorageDriver implements StorageDriver {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  localPath(key: string): string {
    assertValidKey(key);
    const full = path.resolve(this.root, key);
    // Belt and braces: the key checks above already forbid this.
    if (full !== this.root && !full.startsWith(this.root + path.sep)) {
      throw new Error(`Key escapes the storage root: ${key}`);
    }
    return full;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    const target = this.localPath(key);
    const limit = options.maxBytes;
    if (Buffer.isBuffer(body)) assertBufferWithinLimit(body, limit);
    const tempDir = path.join(this.root, TEMP_PREFIX, 'writes');
    const temp = path.join(tempDir, `${randomUUID()}.part`);
    let result: PutResult;
    try {
      // Opened before anything is read, so that a folder removed meanwhile can be made again.
      const handle = await inFolder(tempDir, () => fs.open(temp, 'wx'));
      try {
        result = Buffer.isBuffer(body) ? await this.writeBuffer(handle, key, body) : await this.writeStream(handle, key, body, limit);
      } finally {
        await handle.close();
      }
      await inFolder(path.dirname(target), () => fs.rename(temp, target));
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    return result;
  }

  /** The stream's bytes, hashed and counted on the way, written in batches of WRITE_BATCH. */
  private async writeStream(handle: fs.FileHandle, key: string, body: Readable, limit: number | undefined): Promise<PutResult> {
    const hash = createHash('sha256');
    let size = 0;
    let batch: Buffer[] = [];
    let batched = 0;
    // Leaving the loop early (the limit, a failed write) destroys `body`.
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (limit !== undefined && size > limit) throw new StorageLimitError(limit);
      hash.update(chunk);
      batch.push(chunk);
      batched += chunk.length;
      // 1024 chunks at most: the system's limit of buffers per writev.
      if (batched >= WRITE_BATCH || batch.length >= 1024) {
        await writeAll(handle, batch);
        batch = [];
        batched = 0;
      }
    }
    if (batched) await writeAll(handle, batch);
    return { key, size, sha256: hash.digest('hex') };
  }

  /** A buffer in one write. */
  private async writeBuffer(handle: fs.FileHandle, key: string, body: Buffer): Promise<PutResult> {
    await writeAll(handle, [body]);
    return bufferPutResult(key, body);
  }

  async scratchFile(extension: string): Promise<{ key: string; path: string }> {
    if (!/^(\.[a-z0-9]{1,8})?$/i.test(extension)) throw new Error(`Not a file extension: ${JSON.stringify(extension)}`);
    const key = `${TEMP_PREFIX}writes/${randomUUID()}${extension}`;
    const file = this.localPath(key);
    // Made now, so that its folder is not removed before the writer opens it.
    await inFolder(path.dirname(file), async () => (await fs.open(file, 'wx')).close());
    return { key, path: file };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.localPath(key);
    const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') throw new StorageNotFoundError(key);
      throw error;
    });
    return createReadStream('', { fd: handle, start: range?.start, end: range?.end });
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const st = await fs.stat(this.localPath(key));
      if (!st.isFile()) return null;
      return { key, size: st.size, modifiedAt: st.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.localPath(from);
    const target = this.localPath(to);
    try {
      await inFolder(
        path.dirname(target),
        () => fs.rename(source, target),
        () => exists(source),
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageNotFoundError(from);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.localPath(key);
    await fs.rm(file, { force: true });
    // Drop folders left empty, up to (not including) the root.
    let dir = path.dirname(file);
    while (dir.startsWith(this.root + path.sep)) {
      try {
        await fs.rmdir(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    let n = 0;
    for await (const object of this.list(prefix)) {
      await this.delete(object.key);
      n++;
    }
    return n;
  }

  async presignedUrl(key: string): Promise<null> {
    assertValidKey(key);
    return null;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertValidPrefix(prefix);
    // Walk from the deepest folder the prefix names, then filter by the full prefix.
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash) : '';
    const start = base ? this.localPath(base) : this.root;
    yield* this.walk(start, prefix);
  }

  private async *walk(dir: string, prefix: string): AsyncIterable<StoredObject> {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const key = path.relative(this.root, full).split(path.sep).join('/');
      if (entry.isDirectory()) {
        if (prefix.startsWith(key + '/') || (key + '/').startsWith(prefix) || key.startsWith(prefix)) {
          yield* this.walk(full, prefix);
        }
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const st = await fs.stat(full).catch(() => null);
        if (st) yield { key, size: st.size, modifiedAt: st.mtime };
      }
    }
  }
}
