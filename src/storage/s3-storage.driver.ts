import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
} from './storage.types.js';

export interface S3StorageOptions {
  /** Unset: AWS for `region`. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Every key is stored under this prefix (`sightline/`); '' for none. */
  prefix?: string;
  /** Unset: the SDK's default chain (AWS_* variables, instance roles…). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle?: boolean;
  /** Bytes per multipart part (≥ 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once; an upload holds at most (queueSize + 1) × partSize bytes in memory. */
  queueSize?: number;
  /** Objects larger than this are moved by a multipart copy (S3 allows one CopyObject up to 5 GiB). */
  singleCopyLimit?: number;
}

/** Why the store cannot be used, said so that an operator can fix it. */
export class StorageUnavailableError extends Error {}

/** The largest object a single CopyObject may copy. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
/** Parts of a multipart copy: at least this big, and at most 10,000 of them. */
const COPY_PART_BYTES = 512 * 1024 ** 2;
const MAX_PARTS = 10_000;
/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

function status(error: unknown): number | undefined {
  return (error as S3ServiceException)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || status(error) === 404;
}

/** The bytes of `body` from `skip` on, `length` of them. */
function slice(body: Readable, skip: number, length: number): Readable {
  let position = 0;
  let ended = false;
  const end = skip + length;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(0, skip - position);
      const to = Math.min(chunk.length, end - position);
      position += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      if (position >= end && !ended) {
        ended = true;
        this.push(null);
        body.destroy();
      }
      done();
    },
  });
  body.on('error', (error) => out.destroy(error));
  return body.pipe(out);
}

/** Objects in an S3-compatible bucket (AWS, MinIO, Ceph RGW, Garage…), all under one key prefix. */
export class S3StorageDriver implements StorageDriver {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly endpoint: string;
  private readonly singleCopyLimit: number;

  constructor(options: S3StorageOptions) {
    this.singleCopyLimit = Math.min(MAX_COPY_BYTES, options.singleCopyLimit ?? MAX_COPY_BYTES);
    this.bucket = options.bucket;
    const prefix = options.prefix ?? '';
    if (prefix) assertValidPrefix(prefix);
    this.prefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
    this.partSize = Math.max(5 * 1024 * 1024, options.partSize ?? 8 * 1024 * 1024);
    this.queueSize = Math.max(1, options.queueSize ?? 3);
    this.endpoint = options.endpoint ?? `AWS S3 (${options.region})`;
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      credentials: options.credentials,
      forcePathStyle: options.forcePathStyle ?? true,
      // Checksums only where the API requires them: S3-compatible servers differ in what else they accept.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5000, requestTimeout: 120_000 },
      maxAttempts: 3,
    });
  }

  private fullKey(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  private relativeKey(fullKey: string): string {
    return fullKey.slice(this.prefix.length);
  }

  /**
   * Checks at start-up that the bucket answers to these credentials; a StorageUnavailableError
   * names what is wrong (endpoint unreachable, credentials refused, bucket missing).
   */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const code = status(error);
      const where = `bucket "${this.bucket}" at ${this.endpoint}`;
      if (code === 404 || (error as Error).name === 'NoSuchBucket') throw new StorageUnavailableError(`S3 ${where} does not exist: create it or fix S3_BUCKET`);
      if (code === 403 || code === 401)
        throw new StorageUnavailableError(`S3 ${where} refused the credentials (HTTP ${code}): check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the key's rights on the bucket`);
      if (code === 301 || code === 400) throw new StorageUnavailableError(`S3 ${where} refused the request (HTTP ${code}): check S3_REGION and S3_FORCE_PATH_STYLE`);
      if (code !== undefined) throw new StorageUnavailableError(`S3 ${where} answered HTTP ${code}: ${(error as Error).message}`);
      const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new StorageUnavailableError(`S3 endpoint ${this.endpoint} is unreachable (${cause}): check S3_ENDPOINT`);
    }
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    const Key = this.fullKey(key);
    if (Buffer.isBuffer(body)) return this.putBuffer(key, Key, body, options);
    const hash = createHash('sha256');
    let size = 0;
    const limit = options.maxBytes;
    let limitError: StorageLimitError | undefined;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (limit !== undefined && size > limit) return done((limitError = new StorageLimitError(limit)));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    // A failed upload is aborted, so that no object and no pending parts are left behind.
    const upload = this.upload(Key, meter, options);
    // Whichever side fails first stops the other: a failed upload stops reading the body.
    let failure: unknown;
    const results = await Promise.allSettled([
      pipeline(body, meter).catch((error: unknown) => {
        failure ??= error;
        throw error;
      }),
      upload.done().catch((error: unknown) => {
        failure ??= error;
        meter.destroy();
        throw error;
      }),
    ]);
    if (results.some((r) => r.status === 'rejected')) {
      await this.abortPending(upload, Key);
      throw limitError ?? failure;
    }
    return { key, size, sha256: hash.digest('hex') };
  }

  /** A buffer as it is: one PutObject up to partSize. */
  private async putBuffer(key: string, Key: string, body: Buffer, options: PutOptions): Promise<PutResult> {
    assertBufferWithinLimit(body, options.maxBytes);
    const upload = this.upload(Key, body, options);
    try {
      await upload.done();
    } catch (error) {
      await this.abortPending(upload, Key);
      throw error;
    }
    return bufferPutResult(key, body);
  }

  /**
   * Objects up to partSize go up in one PutObject; larger ones as a multipart upload that holds at
   * most (queueSize + 1) parts in memory.
   */
  private upload(Key: string, Body: Readable | Buffer, options: PutOptions): Upload {
    return new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body, ContentType: options.contentType, Metadata: options.sha256 ? { sha256: options.sha256 } : undefined },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
  }

  /**
   * Aborts the upload's multipart upload, if it started one: lib-storage tries too, but a server
   * that failed mid-way may have refused that attempt.
   */
  private async abortPending(upload: Upload, Key: string): Promise<void> {
    if (!upload.uploadId) return;
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: upload.uploadId })).catch(() => undefined);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.fullKey(key);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      const body = answer.Body as Readable;
      if (!range) return body;
      // Some servers answer more than asked (s3rver reads `bytes=0-0` as the whole object): trim to the range.
      const served = /^bytes (\d+)-(\d+)\//.exec(answer.ContentRange ?? '');
      const first = served ? Number(served[1]) : 0;
      const last = served ? Number(served[2]) : Infinity;
      return first === range.start && last <= range.end ? body : slice(body, range.start - first, range.end - range.start + 1);
    } catch (error) {
      if (isNotFound(error)) throw new StorageNotFoundError(key);
      // A range starting past the end: no bytes, as a file read there gives.
      if ((error as Error).name === 'InvalidRange' || status(error) === 416) return Readable.from([]);
      throw error;
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      return { key, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Size and, when it was given at write time, the SHA-256 kept with the object; null when there is none. */
  async head(key: string): Promise<{ size: number; sha256: string | null } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      return { size: head.ContentLength ?? 0, sha256: head.Metadata?.sha256 ?? null };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.fullKey(from);
    const target = this.fullKey(to);
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: source })).catch((error: unknown) => {
      throw isNotFound(error) ? new StorageNotFoundError(from) : error;
    });
    const size = head.ContentLength ?? 0;
    const copySource = `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`;
    try {
      if (size <= this.singleCopyLimit) await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: copySource }));
      else await this.copyLarge(source, target, copySource, size, head.ContentType, head.Metadata);
    } catch (error) {
      if (isNotFound(error)) throw new StorageNotFoundError(from);
      throw error;
    }
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: source }));
  }

  /**
   * Copies an object too big for one CopyObject: a multipart upload whose parts are server-side
   * copies of byte ranges (UploadPartCopy). Servers without UploadPartCopy get the bytes streamed
   * through this process instead (a multipart upload, never the whole object in memory). A copy
   * that fails is aborted: no partial upload is left behind.
   */
  private async copyLarge(source: string, target: string, copySource: string, size: number, contentType?: string, metadata?: Record<string, string>): Promise<void> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: target, ContentType: contentType, Metadata: metadata }));
    const partSize = Math.max(Math.min(COPY_PART_BYTES, this.singleCopyLimit), Math.ceil(size / MAX_PARTS));
    const parts: { ETag: string; PartNumber: number }[] = [];
    try {
      for (let start = 0, n = 1; start < size; start += partSize, n++) {
        const end = Math.min(size, start + partSize) - 1;
        const out = await this.client.send(
          new UploadPartCopyCommand({ Bucket: this.bucket, Key: target, UploadId, PartNumber: n, CopySource: copySource, CopySourceRange: `bytes=${start}-${end}` }),
        );
        parts.push({ ETag: out.CopyPartResult!.ETag!, PartNumber: n });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: target, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: target, UploadId })).catch(() => undefined);
      if ((error as Error)?.name !== 'NotImplemented') throw error;
      await this.copyThrough(source, target, contentType, metadata);
    }
  }

  /** Streams an object into another key (a multipart upload of `partSize` parts). */
  private async copyThrough(source: string, target: string, contentType?: string, metadata?: Record<string, string>): Promise<void> {
    const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: source }));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: target, Body: got.Body as Readable, ContentType: contentType, Metadata: metadata },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    let removed = 0;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const answer = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const failed = answer.Errors ?? [];
      if (failed.length > 0) throw new Error(`Could not delete ${failed.length} objects under ${prefix}: ${failed[0]!.Key} (${failed[0]!.Code} ${failed[0]!.Message})`);
      removed += batch.length;
      batch = [];
    };
    // Each page is listed before its keys are deleted: deleting while paging would shift pages.
    for await (const page of this.pages(prefix)) {
      for (const object of page) {
        batch.push(this.prefix + object.key);
        if (batch.length === DELETE_BATCH) await flush();
      }
    }
    await flush();
    return removed;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    for await (const page of this.pages(prefix)) yield* page;
  }

  private async *pages(prefix: string): AsyncIterable<StoredObject[]> {
    assertValidPrefix(prefix);
    let token: string | undefined;
    do {
      const answer = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      yield (answer.Contents ?? [])
        .filter((o) => o.Key !== undefined)
        .map((o) => ({ key: this.relativeKey(o.Key!), size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) }));
      token = answer.IsTruncated ? answer.NextContinuationToken : undefined;
    } while (token);
  }

  localPath(key: string): null {
    assertValidKey(key);
    return null;
  }

  /** A URL that reads the object without credentials for `expiresInSeconds`. */
  presignedUrl(key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), { expiresIn: expiresInSeconds });
  }

  close(): void {
    this.client.destroy();
  }
}
