import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from './error-response.js';

interface RequestContext {
  req: IncomingMessage & { id?: string };
  res: ServerResponse;
}

const requests = new AsyncLocalStorage<RequestContext>();

/**
 * The first middleware of the API: runs the rest of each request in an async context that
 * remembers its response, so that an error no code caught can still be answered.
 */
export function requestContextMiddleware() {
  return (req: IncomingMessage & { id?: string }, res: ServerResponse, next: () => void) => requests.run({ req, res }, next);
}

/** Parse errors of a client's body that escaped every listener (busboy, the HTTP parser). */
const CLIENT_STREAM_ERROR = /Unexpected end of (form|multipart data)|Malformed part header|Malformed urlencoded form|Part terminated early|aborted|ECONNRESET/i;

export interface LastResortOptions {
  /** Process name for the log line. */
  name: string;
  log: (entry: Record<string, unknown>, message: string) => void;
  /** More than this many escaped errors within `windowMs` and the process exits for its supervisor to restart it. */
  maxErrors?: number;
  windowMs?: number;
  onError?: () => void;
}

/**
 * The last resort: an error thrown where nobody listens (an 'error' on a stream whose consumer
 * stopped listening, a throw in a timer) is logged, answered when it belongs to a request
 * (400 for a client's broken body, 500 otherwise; the connection is closed) and does not end the
 * process. Only a burst of such errors does, since the process may then be in a bad state.
 */
export function installLastResortGuard(options: LastResortOptions): void {
  const maxErrors = options.maxErrors ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  let recent: number[] = [];
  process.on('uncaughtException', (error, origin) => {
    const now = Date.now();
    recent = recent.filter((t) => now - t < windowMs);
    recent.push(now);
    options.onError?.();
    const ctx = requests.getStore();
    options.log(
      { process: options.name, origin, reqId: ctx?.req.id, method: ctx?.req.method, url: ctx?.req.url?.split('?')[0], err: { message: error?.message, stack: error?.stack } },
      'error escaped every handler; the process goes on',
    );
    if (ctx && !ctx.res.headersSent && !ctx.res.writableEnded) {
      const clientFault = CLIENT_STREAM_ERROR.test(String(error?.message));
      const body = clientFault ? errorBody(400, `Malformed request body: ${error.message}`) : errorBody(500, 'Internal server error');
      ctx.res.statusCode = body.statusCode;
      ctx.res.setHeader('Content-Type', 'application/json; charset=utf-8');
      ctx.res.setHeader('Connection', 'close');
      ctx.res.end(JSON.stringify(body));
    } else if (ctx && !ctx.res.writableEnded) {
      ctx.res.destroy();
    }
    if (recent.length > maxErrors) {
      options.log({ process: options.name, errors: recent.length, windowMs }, 'too many escaped errors: exiting so the supervisor restarts the process');
      process.exit(70);
    }
  });
  process.on('unhandledRejection', (reason) => {
    const ctx = requests.getStore();
    options.log(
      { process: options.name, reqId: ctx?.req.id, err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : { value: String(reason) } },
      'promise rejected without a handler',
    );
  });
}
