import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { AppConfig } from '../config/app-config.js';
import { ByteRange, PutOptions, PutResult, STORAGE_DRIVER, StorageDriver, StoredObject, TEMP_PREFIX } from './storage.types.js';

const ignoreError = (): void => undefined;

/** The application's view of storage: the driver plus the housekeeping built on it. */
@Injectable()
export class StorageService {
  constructor(
    @Inject(STORAGE_DRIVER) private readonly driver: StorageDriver,
    private readonly config: AppConfig,
  ) {}

  put(key: string, body: Readable, options?: PutOptions): Promise<PutResult> {
    // The body may fail (a client's broken multipart, a closed socket) while the driver is still
    // getting ready to read it: an 'error' without a listener would end the process. The driver's
    // pipeline sees the stream's error when it attaches, and rejects with it.
    body.on('error', ignoreError);
    return this.driver.put(key, body, options);
  }

  get(key: string, range?: ByteRange): Promise<Readable> {
    return this.driver.get(key, range);
  }

  stat(key: string): Promise<StoredObject | null> {
    return this.driver.stat(key);
  }

  delete(key: string): Promise<void> {
    return this.driver.delete(key);
  }

  move(from: string, to: string): Promise<void> {
    return this.driver.move(from, to);
  }

  list(prefix: string): AsyncIterable<StoredObject> {
    return this.driver.list(prefix);
  }

  localPath(key: string): string | null {
    return this.driver.localPath(key);
  }

  /** Deletes every object under `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number> {
    return this.driver.deletePrefix(prefix);
  }

  /** A short-lived URL that reads the object without credentials; null when the driver has none (local files). */
  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null> {
    return this.driver.presignedUrl(key, expiresInSeconds);
  }

  /** Removes scratch files older than `maxAgeSeconds` (partial writes, abandoned uploads). */
  async cleanupTemp(maxAgeSeconds = this.config.TEMP_MAX_AGE_SECONDS, signal?: AbortSignal): Promise<{ removed: number; bytes: number }> {
    const cutoff = Date.now() - maxAgeSeconds * 1000;
    let removed = 0;
    let bytes = 0;
    for await (const object of this.driver.list(TEMP_PREFIX)) {
      signal?.throwIfAborted();
      if (object.modifiedAt.getTime() < cutoff) {
        await this.driver.delete(object.key);
        removed++;
        bytes += object.size;
      }
    }
    return { removed, bytes };
  }

  /** Writes, reads back and deletes a small object: the readiness probe. */
  async checkWritable(): Promise<void> {
    const key = `${TEMP_PREFIX}health/${process.pid}-${Date.now()}`;
    const { Readable } = await import('node:stream');
    await this.driver.put(key, Readable.from([Buffer.from('ok')]));
    await this.driver.delete(key);
  }
}
