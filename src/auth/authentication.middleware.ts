import { ForbiddenException, Injectable, NestMiddleware, UnauthorizedException } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { METRICS_PATH } from '../health/metrics-access.js';
import type { RequestWithUser } from './auth.types.js';
import { BearerAuthService } from './bearer-auth.service.js';
import { isSafeMethod, isTrustedOrigin } from './csrf.js';
import { publicOrigin } from './oidc-settings.js';
import { toAuthUser, UsersService } from './users.service.js';

/**
 * Settles who the caller is before any guard runs: a Bearer token (passport-jwt), else the
 * session cookie. A Bearer token that is present but not valid is refused outright (401), even on
 * public routes, so a script learns its token is bad. A cookie-authenticated request that changes
 * state must come from a trusted origin (CSRF defence, 403); Bearer requests are exempt, since a
 * browser never adds that header on its own.
 */
@Injectable()
export class AuthenticationMiddleware implements NestMiddleware {
  private readonly trustedOrigins: Set<string>;

  constructor(
    config: AppConfig,
    private readonly bearer: BearerAuthService,
    private readonly users: UsersService,
  ) {
    this.trustedOrigins = new Set([publicOrigin(config), ...config.CORS_ORIGINS]);
  }

  async use(req: RequestWithUser, res: Response, next: NextFunction): Promise<void> {
    try {
      // The metrics route checks its own token (METRICS_TOKEN), not an API token.
      if (req.originalUrl.split('?')[0] === METRICS_PATH) return next();
      const header = req.headers.authorization;
      if (header !== undefined) {
        if (!/^Bearer\s+\S+$/i.test(header)) return next(new UnauthorizedException('Authorization header must be "Bearer <token>"'));
        const result = await this.bearer.authenticate(req, res);
        if (!result.user) return next(new UnauthorizedException(`Invalid, expired or revoked token: ${result.reason}`));
        req.user = result.user;
        return next();
      }
      const userId = req.session?.userId;
      if (userId) {
        const user = await this.users.findById(userId);
        if (user) {
          if (!isSafeMethod(req.method) && !isTrustedOrigin(req.headers, this.trustedOrigins)) {
            return next(
              new ForbiddenException({
                message: 'Cross-site request refused: a request that changes something with the session cookie must come from this site (or send a Bearer token)',
                details: { origin: req.headers.origin ?? null, sec_fetch_site: req.headers['sec-fetch-site'] ?? null },
              }),
            );
          }
          req.user = toAuthUser(user, 'session');
        }
      }
      next();
    } catch (error) {
      next(error);
    }
  }
}
