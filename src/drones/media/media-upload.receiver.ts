import {
  BadRequestException,
  CallHandler,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  PayloadTooLargeException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import multer, { MulterError, type StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import type { Observable } from 'rxjs';
import { AppConfig } from '../../config/app-config.js';
import { StorageService } from '../../storage/storage.service.js';
import { StorageLimitError } from '../../storage/storage.types.js';
import { workspaceForCaller, type RequestWithDroneCaller } from '../dji-auth.js';
import { DroneWorkspacesService } from '../workspaces.service.js';
import type { DroneWorkspace } from '../workspace.entity.js';
import type { StoredMediaUpload } from './media.service.js';
import { mediaKey } from './media-files.js';

/** Bytes of the start of a file kept in memory while it streams to storage (its kind and a photo's metadata are read from them). */
const HEAD_BYTES = 2 * 1024 * 1024;
const MULTIPART_SLACK = 1024 * 1024;

/** Streams the `file` part into storage at the media's key, hashed and size-limited on the way, keeping its first bytes. */
class MediaStorageEngine implements StorageEngine {
  constructor(
    private readonly storage: StorageService,
    private readonly maxBytes: number,
  ) {}

  _handleFile(req: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const workspaceId = String(req.params.id);
    const mediaId = randomUUID();
    const key = mediaKey(workspaceId, mediaId, file.originalname);
    const headChunks: Buffer[] = [];
    let headSize = 0;
    const peek = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (headSize < HEAD_BYTES) {
          const part = chunk.subarray(0, HEAD_BYTES - headSize);
          headChunks.push(Buffer.from(part));
          headSize += part.length;
        }
        done(null, chunk);
      },
    });
    const body = new PassThrough();
    body.on('error', () => undefined);
    file.stream.on('error', (error) => body.destroy(error));
    file.stream.pipe(peek).pipe(body);
    this.storage.put(key, body, { maxBytes: this.maxBytes }).then(
      (result) => {
        const info: StoredMediaUpload = { mediaId, key, size: result.size, sha256: result.sha256, head: Buffer.concat(headChunks), originalName: file.originalname };
        callback(null, info as unknown as Partial<Express.Multer.File>);
      },
      (error: unknown) => {
        file.stream.unpipe(peek);
        file.stream.resume();
        callback(error);
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const key = (file as unknown as Partial<StoredMediaUpload>).key;
    if (!key) return callback(null);
    this.storage.delete(key).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}

/** Who sends the file and into which workspace. */
export interface MediaUploadContext {
  workspace: DroneWorkspace;
  connectionId: string | null;
  userId: string | null;
}

export interface ReceivedMedia {
  context: MediaUploadContext;
  file: StoredMediaUpload;
  fields: Record<string, unknown>;
}

const RECEIVED = Symbol('sightline:received-drone-media');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Receives the file of `POST /drones/workspaces/{id}/media` once the caller is known to be a
 * pilot app of that workspace (`x-auth-token`) or a person who may manage it (its owner, an
 * admin): nobody streams a file into a workspace that is not theirs.
 */
@Injectable()
export class MediaUploadInterceptor implements NestInterceptor {
  private readonly middleware;

  constructor(
    storage: StorageService,
    private readonly config: AppConfig,
    private readonly workspaces: DroneWorkspacesService,
  ) {
    this.middleware = multer({
      storage: new MediaStorageEngine(storage, config.DRONE_MEDIA_MAX_BYTES),
      defParamCharset: 'utf8',
      limits: { files: 1, fields: 12, fieldSize: 1024, fieldNameSize: 64, parts: 14, headerPairs: 50 },
    }).single('file');
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & RequestWithDroneCaller & { [RECEIVED]?: ReceivedMedia }>();
    const res = http.getResponse<Response>();
    const id = String(req.params.id ?? '');
    // A malformed id is the parameter pipe's to refuse.
    if (!UUID.test(id)) return next.handle();
    const upload = await this.caller(req, id);
    if (!req.is('multipart/form-data')) throw new UnsupportedMediaTypeException('Send the file as multipart/form-data with a `file` part');
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.config.DRONE_MEDIA_MAX_BYTES + MULTIPART_SLACK) {
      res.setHeader('Connection', 'close');
      throw this.tooLarge();
    }
    await new Promise<void>((resolve, reject) => this.middleware(req, res, (error?: unknown) => (error ? reject(this.toHttpError(error, res)) : resolve())));
    const file = req.file as unknown as StoredMediaUpload | undefined;
    if (!file) throw new BadRequestException({ message: 'The `file` part is missing', details: [{ field: 'file', problems: ['file is required'] }] });
    req[RECEIVED] = { context: upload, file, fields: { ...(req.body as Record<string, unknown>) } };
    return next.handle();
  }

  /** The workspace (its pilot app's, or one the person may manage) and who sends; DroneAuthGuard has checked the token. */
  private async caller(req: RequestWithDroneCaller, id: string): Promise<MediaUploadContext> {
    if (!req.droneCaller && !req.user) throw new UnauthorizedException('Authentication required: a pilot app sends its x-auth-token, a person logs in or sends a Bearer token');
    const workspace = await workspaceForCaller(this.workspaces, req, id);
    return { workspace, connectionId: req.droneCaller?.connectionId ?? null, userId: req.droneCaller ? null : (req.user?.id ?? null) };
  }

  private tooLarge(): PayloadTooLargeException {
    const limit = this.config.DRONE_MEDIA_MAX_BYTES;
    return new PayloadTooLargeException({ message: `The file is larger than the limit of ${limit} bytes (DRONE_MEDIA_MAX_BYTES)`, details: { limit } });
  }

  private toHttpError(error: unknown, res: Response): Error {
    if (error instanceof StorageLimitError) {
      res.setHeader('Connection', 'close');
      return this.tooLarge();
    }
    if (error instanceof MulterError) {
      if (error.code === 'LIMIT_UNEXPECTED_FILE') return new BadRequestException(`Unexpected file part ${JSON.stringify(error.field ?? '')}: send one file in the \`file\` part`);
      return new BadRequestException({ message: `Malformed upload: ${error.message}`, details: error.field ? [{ field: error.field, problems: [error.message] }] : undefined });
    }
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code && /^E[A-Z]+$/.test(code)) return error as Error;
    return new BadRequestException(`Malformed multipart body: ${(error as Error)?.message ?? 'unreadable'}`);
  }
}

/** The upload MediaUploadInterceptor received (undefined for a malformed id, which the pipes refuse). */
export const ReceivedMediaUpload = createParamDecorator((_data: unknown, context: ExecutionContext): ReceivedMedia | undefined => {
  return context.switchToHttp().getRequest<{ [RECEIVED]?: ReceivedMedia }>()[RECEIVED];
});
