import { randomUUID } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { coalesce } from '../common/coalesce.js';
import { originalTempKey } from '../pictures/picture-storage.js';
import { StorageService } from '../storage/storage.service.js';

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
 * A multer storage engine that streams the file part straight into storage under `tmp/`,
 * hashed on the way and cut off past `maxBytes`: the body is never held in memory, and a
 * failed write leaves nothing behind. It also notes the JPEG start and end markers, so a
 * truncated upload is caught without decoding it.
 */
export class PictureStorageEngine implements StorageEngine {
  constructor(
    private readonly storage: StorageService,
    private readonly maxBytes: number,
  ) {}

  _handleFile(_req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const pictureId = randomUUID();
    const key = originalTempKey(pictureId);
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0);
    // Notes the JPEG markers on the way, and hands storage chunks of about 1 MB (see coalesce).
    const batch = coalesce();
    const peek = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (head.length < 3) head = Buffer.concat([head, chunk.subarray(0, 3 - head.length)]);
        tail = tail.length + chunk.length <= 2 ? Buffer.concat([tail, chunk]) : Buffer.concat([tail, chunk.subarray(-2)]).subarray(-2);
        done(null, chunk);
      },
    });
    const body = pipeline(file.stream, peek, batch, () => undefined);
    this.storage.put(key, body, { maxBytes: this.maxBytes, contentType: 'image/jpeg' }).then(
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

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const key = (file as unknown as Partial<ReceivedPicture>).key;
    if (!key) return callback(null);
    this.storage.delete(key).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
