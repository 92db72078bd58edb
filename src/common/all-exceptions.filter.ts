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
    if (body.statusCode === 503 && !(exception instanceof HttpException)) {
      this.logger.warn({ reqId: req?.id, err: { message: (exception as Error)?.message } }, 'a dependency is down');
      if (!res.headersSent) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    } else if (body.statusCode >= 500) {
      this.logger.error({ reqId: req?.id, err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : exception }, 'unhandled error');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A route may have set its own type (image/png, application/geo+json…) before failing: errors are JSON.
    res.status(body.statusCode).type('application/json').json(body);
  }
}

const RETRY_AFTER_SECONDS = 5;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const DOWN_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|max retries per request|enableOfflineQueue|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;

/**
 * Which dependency an error says is unreachable (PostgreSQL or Redis), or null. PostgreSQL's
 * connection-class SQLSTATEs (08…, 57P01–57P03, 53300), network errors and the clients' own
 * "connection closed" messages; TypeORM's QueryFailedError keeps the driver's error inside.
 */
export function unavailableDependency(exception: unknown): string | null {
  let e = exception as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; name?: unknown } | undefined;
  for (let hops = 0; e && hops < 5; hops++) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code)) return 'database';
    if (NETWORK_CODES.has(code) || DOWN_MESSAGES.test(message) || e.name === 'MaxRetriesPerRequestError') {
      return /redis|offline queue|max retries|Connection is closed/i.test(`${message} ${String(e.name)}`) ? 'Redis' : 'database';
    }
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return null;
}

export function toErrorBody(exception: unknown): ErrorResponseDto {
  const down = exception instanceof HttpException ? null : unavailableDependency(exception);
  if (down) return errorBody(503, `The ${down} is unavailable at the moment; try again in a few seconds`, { dependency: down, retry_after_seconds: RETRY_AFTER_SECONDS });
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
