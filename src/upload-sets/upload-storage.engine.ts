import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { originalTempKey } from '../pictures/picture-storage.js';
import { StorageService } from '../storage/storage.service.js';
import { PutResult, StorageLimitError } from '../storage/storage.types.js';

/** What the engine adds to multer's file object. */
export interface ReceivedPicture {
  /** The id the picture will have if accepted. */
  pictureId: string;
  /** Temporary storage key of the bytes received. */
  key: string;
  size: number;
  sha256: string;
  /** Starts with a JPEG start-of-image marker. */
  jpegStart: boolean;
  /** Ends with a JPEG end-of-image marker (a truncated upload does not). */
  jpegEnd: boolean;
}

/**
 * Uploads pushed from their staging file into an object store at once (see PictureStorageEngine):
 * each push holds up to 32 MiB (S3 multipart parts in flight).
 */
const OBJECT_STORE_PUSHES = 1;

/** Runs at most `limit` tasks at a time, the others in order of arrival. */
class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * A multer storage engine that streams the file part into storage under `tmp/`, hashed on the
 * way and cut off past `maxBytes`: the body is never held in memory, and a failed write leaves
 * nothing behind. It also notes the JPEG start and end markers, so a truncated upload is caught
 * without decoding it.
 *
 * With local storage the part goes straight to its file. An object store's multipart upload
 * holds up to (queue + 1) parts of each upload in memory (32 MiB on S3), so there the part is
 * first staged in a file of the system's temporary folder, at the client's pace, and then pushed
 * to the store OBJECT_STORE_PUSHES at a time: many large uploads at once cost disk, not
 * memory, and a slow client holds no push.
 */
export class PictureStorageEngine implements StorageEngine {
  private readonly pushes = new Limiter(OBJECT_STORE_PUSHES);

  constructor(
    private readonly storage: StorageService,
    private readonly maxBytes: number,
    private readonly stagingDir: string = os.tmpdir(),
  ) {}

  _handleFile(_req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const pictureId = randomUUID();
    const key = originalTempKey(pictureId);
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    // Notes the JPEG markers on the way. The chunks go on as they came (the socket's, up to
    // 64 KiB); the local driver writes them in batches of 256 KiB.
    const peek = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (head.length < 3) head = Buffer.concat([head, chunk.subarray(0, 3 - head.length)]);
        tail = tail.length + chunk.length <= 2 ? Buffer.concat([tail, chunk]) : Buffer.concat([tail, chunk.subarray(-2)]).subarray(-2);
        done(null, chunk);
      },
    });
    // Piped, not pipelined: when storage stops early (size limit) it destroys `peek`, and the
    // multipart part must not be destroyed with it (multer would answer before storage removed
    // its partial write); it is drained below instead. The part's own failure is handed on.
    peek.on('error', () => undefined);
    file.stream.on('error', (error) => peek.destroy(error));
    file.stream.pipe(peek);
    const body = peek;
    const stored = this.storage.localPath(key) ? this.storage.put(key, body, { maxBytes: this.maxBytes, contentType: 'image/jpeg' }) : this.stageAndPush(key, body);
    stored.then(
      (result) => {
        const info: ReceivedPicture = {
          pictureId,
          key,
          size: result.size,
          sha256: result.sha256,
          jpegStart: head.length === 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff,
          jpegEnd: tail.length === 2 && tail[0] === 0xff && tail[1] === 0xd9,
        };
        callback(null, { ...info, size: result.size } as Partial<Express.Multer.File>);
      },
      (error: unknown) => {
        // Stop reading this part; multer drains the rest of the request before answering.
        file.stream.unpipe(peek);
        file.stream.resume();
        callback(error);
      },
    );
  }

  /** Writes `body` to a staging file (within maxBytes), then pushes that file to storage. */
  private async stageAndPush(key: string, body: Readable): Promise<PutResult> {
    const staged = path.join(this.stagingDir, `sightline-upload-${randomUUID()}.part`);
    const limit = this.maxBytes;
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > limit) return done(new StorageLimitError(limit));
        done(null, chunk);
      },
    });
    try {
      await pipelineAsync(body, meter, createWriteStream(staged, { flags: 'wx' }));
      return await this.pushes.run(() => this.storage.put(key, createReadStream(staged), { maxBytes: limit, contentType: 'image/jpeg' }));
    } finally {
      await rm(staged, { force: true });
    }
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const key = (file as unknown as Partial<ReceivedPicture>).key;
    if (!key) return callback(null);
    this.storage.delete(key).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
