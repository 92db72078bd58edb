import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { errorBody, ErrorResponseDto } from './error-response.js';

/** Maps anything thrown while serving a request to the error shape; hides internals of 500s. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const body = toErrorBody(exception);
    if (body.statusCode >= 500) {
      this.logger.error({ reqId: req?.id, err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : exception }, 'unhandled error');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(body.statusCode).json(body);
  }
}

export function toErrorBody(exception: unknown): ErrorResponseDto {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string') return errorBody(status, response);
    const r = response as { message?: unknown; details?: unknown };
    const message = Array.isArray(r.message) ? r.message.join('; ') : typeof r.message === 'string' ? r.message : exception.message;
    return errorBody(status, message, r.details);
  }
  // Errors raised by body parsers and other connect middleware carry an HTTP status.
  const e = exception as { status?: unknown; statusCode?: unknown; type?: unknown; message?: unknown; limit?: unknown };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    switch (e.type) {
      case 'entity.parse.failed':
        return errorBody(400, `Malformed JSON body: ${String(e.message)}`);
      case 'entity.too.large':
        return errorBody(413, `Request body larger than the limit of ${String(e.limit)} bytes`, { limit: e.limit });
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return errorBody(415, String(e.message));
      default:
        return errorBody(status, typeof e.message === 'string' ? e.message : 'Bad request');
    }
  }
  return errorBody(500, 'Internal server error');
}
