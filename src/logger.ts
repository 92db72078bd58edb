import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from './config/app-config.js';
import type { ProcessRole } from './queue/process-role.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Structured JSON logs; each request gets an id (the caller's X-Request-Id when sane). */
export function loggerOptions(config: AppConfig, role: ProcessRole): Params {
  return {
    pinoHttp: {
      level: config.LOG_LEVEL,
      base: { process: role, pid: process.pid },
      genReqId: (req: IncomingMessage, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          'req.query.token',
          // Settings logged by mistake (a config object in an error) keep their secrets.
          'S3_ACCESS_KEY_ID',
          'S3_SECRET_ACCESS_KEY',
          '*.S3_ACCESS_KEY_ID',
          '*.S3_SECRET_ACCESS_KEY',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }),
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/api/health' || req.url === '/api/metrics' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    },
  };
}
