import {
  BadRequestException,
  CallHandler,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { AuthUser } from '../auth/auth.types.js';
import type { Request, Response } from 'express';
import multer, { MulterError } from 'multer';
import { AppConfig } from '../config/app-config.js';
import { StorageService } from '../storage/storage.service.js';
import { StorageLimitError } from '../storage/storage.types.js';
import type { UploadSetAccess } from './upload-sets.repository.js';
import { UploadSetsService } from './upload-sets.service.js';
import { PictureStorageEngine, ReceivedPicture } from './upload-storage.engine.js';

export interface ReceivedUpload {
  file: ReceivedPicture & { originalName: string; mimeType: string };
  fields: Record<string, unknown>;
  /** The set as it was found open before the file was received (see UploadReceiverInterceptor). */
  uploadSet?: UploadSetAccess;
}

/** Multipart overhead allowed on top of the file itself before a request is refused unread. */
const MULTIPART_SLACK = 1024 * 1024;

/** Runs multer (one `file` part, a few short text fields) and maps its failures to HTTP errors. */
@Injectable()
export class UploadReceiver {
  private readonly middleware;

  constructor(
    storage: StorageService,
    private readonly config: AppConfig,
  ) {
    this.middleware = multer({
      storage: new PictureStorageEngine(storage, config.UPLOAD_MAX_BYTES),
      defParamCharset: 'utf8',
      limits: { files: 1, fields: 8, fieldSize: 256, fieldNameSize: 64, parts: 10, headerPairs: 50 },
    }).single('file');
  }

  async receive(req: Request, res: Response): Promise<ReceivedUpload> {
    if (!req.is('multipart/form-data')) {
      throw new UnsupportedMediaTypeException('Send the picture as multipart/form-data with a `file` part');
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.config.UPLOAD_MAX_BYTES + MULTIPART_SLACK) {
      // Refused before reading: the rest of this connection is not worth draining.
      res.setHeader('Connection', 'close');
      throw this.tooLarge();
    }
    await new Promise<void>((resolve, reject) => {
      this.middleware(req, res, (error?: unknown) => (error ? reject(this.toHttpError(error, res)) : resolve()));
    });
    const file = req.file as (Express.Multer.File & ReceivedPicture) | undefined;
    if (!file) throw new BadRequestException({ message: 'The `file` part is missing', details: [{ field: 'file', problems: ['file is required'] }] });
    return {
      file: {
        pictureId: file.pictureId,
        key: file.key,
        size: file.size,
        sha256: file.sha256,
        jpegStart: file.jpegStart,
        jpegEnd: file.jpegEnd,
        originalName: file.originalname,
        mimeType: file.mimetype,
      },
      fields: { ...(req.body as Record<string, unknown>) },
    };
  }

  private tooLarge(): PayloadTooLargeException {
    return new PayloadTooLargeException({
      message: `The file is larger than the limit of ${this.config.UPLOAD_MAX_BYTES} bytes`,
      details: { limit: this.config.UPLOAD_MAX_BYTES },
    });
  }

  private toHttpError(error: unknown, res: Response): Error {
    if (error instanceof StorageLimitError) {
      res.setHeader('Connection', 'close');
      return this.tooLarge();
    }
    if (error instanceof MulterError) {
      const what: Record<string, string> = {
        LIMIT_UNEXPECTED_FILE: `Unexpected file part ${JSON.stringify(error.field ?? '')}: send one picture in the \`file\` part`,
        LIMIT_FILE_COUNT: 'Send one picture per request',
        LIMIT_PART_COUNT: 'Too many parts in the multipart body',
        LIMIT_FIELD_COUNT: 'Too many fields in the multipart body',
        LIMIT_FIELD_KEY: 'A field name is too long',
        LIMIT_FIELD_VALUE: `Field ${JSON.stringify(error.field ?? '')} is too long`,
        LIMIT_FILE_SIZE: '',
      };
      if (error.code === 'LIMIT_FILE_SIZE') return this.tooLarge();
      return new BadRequestException({ message: what[error.code] ?? error.message, details: error.field ? [{ field: error.field, problems: [error.message] }] : undefined });
    }
    const code = (error as NodeJS.ErrnoException)?.code;
    // A system failure (disk full, permissions) is ours, not the client's.
    if (code && /^E[A-Z]+$/.test(code)) return error as Error;
    const message = (error as Error)?.message ?? 'Malformed multipart body';
    // busboy's parse errors ("Unexpected end of form", "Malformed part header"…) are the client's.
    return new BadRequestException(`Malformed multipart body: ${message}`);
  }
}

const RECEIVED = Symbol('sightline:received-upload');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Receives the picture of `POST /upload_sets/{id}/files` before the handler runs, once the set is
 * known to be the caller's and open (nobody streams a file into a set they may not use). The
 * handler reads it with `@ReceivedFile()`; it owns the stored file from then on.
 */
@Injectable()
export class UploadReceiverInterceptor implements NestInterceptor {
  constructor(
    private readonly receiver: UploadReceiver,
    private readonly uploadSets: UploadSetsService,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { user?: AuthUser; [RECEIVED]?: ReceivedUpload }>();
    const id = String(req.params.id ?? '');
    // A malformed id is the parameter pipe's to refuse.
    if (UUID.test(id)) {
      const uploadSet = await this.uploadSets.openForUpload(id, req.user);
      req[RECEIVED] = { ...(await this.receiver.receive(req, http.getResponse<Response>())), uploadSet };
    }
    return next.handle();
  }
}

/**
 * The upload UploadReceiverInterceptor received; undefined when it received none (a malformed id,
 * which the parameter pipes refuse before the handler runs).
 */
export const ReceivedFile = createParamDecorator((_data: unknown, context: ExecutionContext): ReceivedUpload | undefined => {
  return context.switchToHttp().getRequest<{ [RECEIVED]?: ReceivedUpload }>()[RECEIVED];
});
