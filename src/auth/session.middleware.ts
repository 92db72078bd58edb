import { createHash } from 'node:crypto';
import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session, { type SessionData } from 'express-session';
import { AppConfig } from '../config/app-config.js';
import { derivedSecret } from './oidc-settings.js';
import { SessionsRepository } from './sessions.repository.js';

declare module 'express-session' {
  interface SessionData {
    /** The logged-in user. */
    userId?: string;
    /** The provider's ID token, for RP-initiated logout (`id_token_hint`). */
    idToken?: string;
    loginAt?: string;
  }
}

/** The session cookie; the OpenAPI `session` security scheme names it too. */
export const SESSION_COOKIE = 'sightline.sid';
/** Expired rows are swept at most this often, by whichever process saves a session. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

const hashId = (sid: string) => createHash('sha256').update(sid).digest('hex');

/** express-session's store on PostgreSQL (table user_session). */
export class PostgresSessionStore extends session.Store {
  private lastSweep = 0;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {
    super();
  }

  override get(sid: string, cb: (err: unknown, session?: SessionData | null) => void): void {
    this.repository.find(hashId(sid)).then(
      (data) => cb(null, data as SessionData | null),
      (error: unknown) => cb(error),
    );
  }

  override set(sid: string, data: SessionData, cb?: (err?: unknown) => void): void {
    const expires = data.cookie?.expires ? new Date(data.cookie.expires) : new Date(Date.now() + this.ttlMs);
    this.repository.save(hashId(sid), data.userId ?? null, data as unknown as Record<string, unknown>, expires).then(
      () => {
        cb?.();
        this.sweep();
      },
      (error: unknown) => cb?.(error),
    );
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.repository.delete(hashId(sid)).then(
      () => cb?.(),
      (error: unknown) => cb?.(error),
    );
  }

  private sweep(): void {
    if (Date.now() - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = Date.now();
    this.repository.deleteExpired().catch((error: Error) => this.logger.warn(`sweeping expired sessions failed: ${error.message}`));
  }
}

/**
 * Server-side sessions for browsers: cookie `sightline.sid` (httpOnly, SameSite=Lax, Secure when
 * the request came over https — behind a proxy, with TRUST_PROXY_HOPS), data in PostgreSQL.
 * A session is stored only once something is put in it (the login), and lasts
 * SESSION_TTL_SECONDS from the login. Requests with a Bearer token never touch sessions, nor do
 * requests without the cookie outside /api/auth/.
 */
@Injectable()
export class SessionMiddleware implements NestMiddleware {
  private readonly handler: RequestHandler;

  constructor(config: AppConfig, repository: SessionsRepository) {
    const ttlMs = config.SESSION_TTL_SECONDS * 1000;
    this.handler = session({
      name: SESSION_COOKIE,
      secret: derivedSecret(config, 'session-cookie'),
      store: new PostgresSessionStore(repository, ttlMs, new Logger('Sessions')),
      resave: false,
      saveUninitialized: false,
      rolling: false,
      unset: 'destroy',
      cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/', maxAge: ttlMs },
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (req.headers.authorization) return next();
    // Without its cookie a request has no session to load, and only the login routes start one:
    // anonymous reads (most of the STAC traffic) skip making and discarding a session each.
    if (!req.headers.cookie?.includes(`${SESSION_COOKIE}=`) && !req.originalUrl.startsWith(`/api/auth/`)) return next();
    this.handler(req, res, next);
  }
}
