import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';

/** DJI Cloud API's answer: `code` 0 on success, else an error code; `data` the payload. */
export interface DjiEnvelope<T> {
  code: number;
  message: string;
  data: T;
}

export function djiOk<T>(data: T): DjiEnvelope<T> {
  return { code: 0, message: 'success', data };
}

/** An error with DJI's own code (and the HTTP status to answer with). */
export class DjiError extends HttpException {
  constructor(
    readonly djiCode: number,
    message: string,
    status = HttpStatus.BAD_REQUEST,
  ) {
    super(message, status);
  }
}

/**
 * For the DJI-compatible routes: every error keeps its HTTP status and is told in DJI's envelope
 * (`{code, message, data: null}`; `code` is DJI's code when known, else the HTTP status), which
 * is what the pilot app reads.
 */
@Catch()
export class DjiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('DjiRoutes');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'Internal error';
    let code: number = status;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : exception.message;
      code = exception instanceof DjiError ? exception.djiCode : status;
    } else {
      this.logger.error({ err: exception instanceof Error ? exception.message : String(exception) }, 'DJI route failed');
    }
    if (res.headersSent) return;
    res.status(status).json({ code, message, data: null });
  }
}
