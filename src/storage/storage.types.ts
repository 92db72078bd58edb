import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface StoredObject {
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface PutOptions {
  /** Abort the write (and leave nothing behind) past this many bytes. */
  maxBytes?: number;
  contentType?: string;
  /** The bytes' SHA-256 when known beforehand: kept with the object where the store has metadata (S3). Not checked. */
  sha256?: string;
}

export interface PutResult {
  key: string;
  size: number;
  /** Hex SHA-256 of the bytes written: computed on the way for a stream, when first read for a buffer. */
  sha256: string;
}

/**
 * What a driver answers for a buffer it stored: the buffer's SHA-256 is computed when first read,
 * since most callers (derivatives, renders) never ask for it.
 */
export function bufferPutResult(key: string, body: Buffer): PutResult {
  let sha256: string | undefined;
  return {
    key,
    size: body.length,
    get sha256() {
      return (sha256 ??= createHash('sha256').update(body).digest('hex'));
    },
  };
}

/** StorageLimitError when a buffer is longer than `maxBytes` (nothing is written then). */
export function assertBufferWithinLimit(body: Buffer, maxBytes: number | undefined): void {
  if (maxBytes !== undefined && body.length > maxBytes) throw new StorageLimitError(maxBytes);
}

/**
 * Where files live. Keys are relative, `/`-separated paths (`pictures/ab/cd/…/sd.jpg`);
 * a driver maps them to a folder, a bucket or anything else. Writes are atomic: a reader sees
 * the old object or the complete new one, never a partial file.
 */
export interface StorageDriver {
  /** A stream is read once, hashed on the way; a buffer (small, in memory) goes in one write. */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** null when the object does not exist. */
  stat(key: string): Promise<StoredObject | null>;
  /** Removes the object; no error when it is already gone. */
  delete(key: string): Promise<void>;
  /**
   * Moves an object to another key, replacing what is there (a rename on a file system, a copy
   * and delete on an object store). StorageNotFoundError when `from` does not exist.
   */
  move(from: string, to: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Deletes every object whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A URL anyone may read the object from for `expiresInSeconds`, when the store can sign one
   * (an object store); null otherwise.
   */
  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null>;
  /**
   * A path on the local file system for the object, when the driver keeps one there
   * (lets decoders seek instead of streaming). Drivers without local files return null.
   */
  localPath(key: string): string | null;
  /**
   * A new, empty file under `tmp/` on the local file system, for a writer that needs a path
   * (libvips); move() it to its key when complete. Only drivers that keep local files have it.
   */
  scratchFile?(extension: string): Promise<{ key: string; path: string }>;
}

export const STORAGE_DRIVER = Symbol('STORAGE_DRIVER');

/** Keys under this prefix are scratch space: partial writes and uploads in progress. */
export const TEMP_PREFIX = 'tmp/';

export class InvalidStorageKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`Invalid storage key ${JSON.stringify(key)}: ${reason}`);
  }
}

export class StorageLimitError extends Error {
  constructor(readonly limit: number) {
    super(`The file is larger than the limit of ${limit} bytes`);
  }
}

export class StorageNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No stored object at ${key}`);
  }
}

/** Rejects keys that could escape the storage root or are ambiguous. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidStorageKeyError(String(key), 'empty');
  if (key.length > 1024) throw new InvalidStorageKeyError(key.slice(0, 32), 'longer than 1024 characters');
  if (key.includes('\0')) throw new InvalidStorageKeyError(key, 'contains NUL');
  if (key.includes('\\')) throw new InvalidStorageKeyError(key, 'contains a backslash');
  if (key.startsWith('/')) throw new InvalidStorageKeyError(key, 'absolute path');
  if (/^[a-zA-Z]:/.test(key)) throw new InvalidStorageKeyError(key, 'drive letter');
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new InvalidStorageKeyError(key, 'empty, "." or ".." path segment');
    }
  }
}

/** Like assertValidKey, for list prefixes: empty allowed, a trailing `/` allowed. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}
