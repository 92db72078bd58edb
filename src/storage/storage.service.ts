import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { AppConfig } from '../config/app-config.js';
import { S3StorageDriver } from './s3-storage.driver.js';
import { assumeUploadRole, TemporaryCredentialsUnavailableError, type TemporaryUploadCredentials } from './temporary-credentials.js';
import { ByteRange, PutOptions, PutResult, STORAGE_DRIVER, StorageDriver, StoredObject, TEMP_PREFIX } from './storage.types.js';

const ignoreError = (): void => undefined;

/** The application's view of storage: the driver plus the housekeeping built on it. */
@Injectable()
export class StorageService {
  private readonly logger = new Logger(StorageService.name);
  private fallbackWarned = false;

  constructor(
    @Inject(STORAGE_DRIVER) private readonly driver: StorageDriver,
    private readonly config: AppConfig,
  ) {}

  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult> {
    if (Buffer.isBuffer(body)) return this.driver.put(key, body, options);
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

  /**
   * A new, empty scratch file on the local file system for a writer that needs a path, when the
   * driver keeps local files (null otherwise): write it, then move() its key into place, or
   * delete() it. Scratch files left behind go with the temp cleanup.
   */
  async scratchFile(extension = ''): Promise<{ key: string; path: string } | null> {
    return this.driver.scratchFile ? this.driver.scratchFile(extension) : null;
  }

  /** Deletes every object under `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number> {
    return this.driver.deletePrefix(prefix);
  }

  /** A short-lived URL that reads the object without credentials; null when the driver has none (local files). */
  presignedUrl(key: string, expiresInSeconds: number): Promise<string | null> {
    return this.driver.presignedUrl(key, expiresInSeconds);
  }

  /**
   * Credentials with which a client (DJI Pilot 2) uploads straight into the bucket, under
   * `prefix` (a key prefix relative to the storage, ending with `/`), for about `ttlSeconds`
   * (at least 900, AWS's minimum). With an STS endpoint (S3_STS_ENDPOINT, or AWS with
   * S3_STS_ROLE_ARN): real AssumeRole credentials whose session policy allows writes under the
   * prefix only. Without one: the storage's own key, only when S3_STS_DEV_FALLBACK=true
   * (development). TemporaryCredentialsUnavailableError otherwise, and with the local driver.
   */
  async temporaryUploadCredentials(prefix: string, ttlSeconds: number): Promise<TemporaryUploadCredentials> {
    const config = this.config;
    if (!(this.driver instanceof S3StorageDriver)) {
      throw new TemporaryCredentialsUnavailableError(
        'Direct uploads need an S3 bucket: this instance keeps its files on the local file system (STORAGE_DRIVER=local). Set STORAGE_DRIVER=s3 and an STS endpoint (S3_STS_ENDPOINT)',
        501,
      );
    }
    const fullPrefix = this.driver.prefix + prefix;
    const endpoint = config.S3_ENDPOINT ?? `https://s3.${config.S3_REGION}.amazonaws.com`;
    const provider = !config.S3_ENDPOINT || /\.amazonaws\.com(:\d+)?\/?$/i.test(new URL(config.S3_ENDPOINT).host + '/') ? 'aws' : 'minio';
    const base = { provider, endpoint, region: config.S3_REGION, bucket: this.driver.bucket, object_key_prefix: fullPrefix } as const;
    const ownKey = config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } : undefined;
    if (config.S3_STS_ENDPOINT || config.S3_STS_ROLE_ARN) {
      const c = await assumeUploadRole(
        { endpoint: config.S3_STS_ENDPOINT, region: config.S3_REGION, roleArn: config.S3_STS_ROLE_ARN, credentials: ownKey },
        { bucket: this.driver.bucket, fullPrefix },
        ttlSeconds,
      );
      return { ...base, credentials: { access_key_id: c.accessKeyId, secret_access_key: c.secretAccessKey, session_token: c.sessionToken, expire: c.expire }, source: 'sts' };
    }
    if (!config.S3_STS_DEV_FALLBACK) {
      throw new TemporaryCredentialsUnavailableError(
        "No STS endpoint is configured for temporary upload credentials: set S3_STS_ENDPOINT (MinIO, Ceph RGW) or S3_STS_ROLE_ARN (AWS); for development only, S3_STS_DEV_FALLBACK=true hands out the storage's own key",
        501,
      );
    }
    if (config.NODE_ENV === 'production' || !this.fallbackWarned) {
      this.fallbackWarned = true;
      this.logger.warn(
        { nodeEnv: config.NODE_ENV },
        "S3_STS_DEV_FALLBACK: handing the storage's own S3 key to an upload client (not limited to a prefix, never expiring): development only, configure S3_STS_ENDPOINT",
      );
    }
    const key = ownKey ?? (await this.driver.client.config.credentials());
    return {
      ...base,
      credentials: {
        access_key_id: key.accessKeyId,
        secret_access_key: key.secretAccessKey,
        session_token: (key as { sessionToken?: string }).sessionToken ?? '',
        expire: Math.max(900, Math.round(ttlSeconds)),
      },
      source: 'development-fallback',
    };
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
    await this.driver.put(key, Buffer.from('ok'));
    await this.driver.delete(key);
  }
}
