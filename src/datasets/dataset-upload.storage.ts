import { PayloadTooLargeException } from '@nestjs/common';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { StorageService } from '../storage/storage.service.js';
import { StorageLimitError } from '../storage/storage.types.js';
import type { StoredDatasetUpload } from './datasets.service.js';

type IncomingFile = { originalname: string; stream: Readable };

/**
 * Multer storage engine for dataset uploads: streams the file part into storage (hashed on the
 * way, stopped past DATASET_MAX_BYTES) at the key the dataset will keep. Storage writes are atomic,
 * so a rejected or failed upload leaves nothing behind; a refused registration deletes the key.
 */
export class DatasetUploadStorage implements StorageEngine {
  constructor(
    private readonly storage: StorageService,
    private readonly maxBytes: number,
  ) {}

  _handleFile(req: Request, file: IncomingFile, callback: (error?: unknown, info?: Partial<StoredDatasetUpload> & { path: string }) => void): void {
    const datasetId = randomUUID();
    const storageKey = `datasets/${datasetId}/data.tif`;
    // Storage gets its own stream: when it stops early (size limit) it destroys that one, and the
    // multipart part is drained here instead, so multer answers with the error given below.
    const body = new PassThrough();
    // The part may fail (cut short, no closing boundary) at any time, also before or after storage
    // reads `body`: its error is handed on, and `body` always has a listener (never a crash).
    body.on('error', () => undefined);
    file.stream.on('error', (error) => body.destroy(error));
    file.stream.pipe(body);
    this.storage.put(storageKey, body, { maxBytes: this.maxBytes, contentType: 'image/tiff' }).then(
      (result) => callback(null, { datasetId, storageKey, path: storageKey, size: result.size, sha256: result.sha256, originalName: file.originalname || 'dataset.tif' }),
      (error: unknown) => {
        file.stream.unpipe(body);
        file.stream.resume();
        if (error instanceof StorageLimitError) {
          // The rest of the body is not wanted: close the connection after answering.
          if (req.res && !req.res.headersSent) req.res.setHeader('Connection', 'close');
          return callback(new PayloadTooLargeException({ message: `The file is larger than the limit of ${error.limit} bytes`, details: { limit: error.limit } }));
        }
        callback(error);
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const key = (file as Partial<StoredDatasetUpload>).storageKey;
    if (!key) return callback(null);
    this.storage.delete(key).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
