import { Injectable, NestMiddleware, UnauthorizedException } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import type { RequestWithUser } from './auth.types.js';
import { TokensService } from './tokens.service.js';

/**
 * Settles who the caller is before any guard runs. A Bearer token that is present but not
 * valid is refused outright (401), even on public routes, so a script learns its token is bad.
 */
@Injectable()
export class AuthenticationMiddleware implements NestMiddleware {
  constructor(private readonly tokens: TokensService) {}

  async use(req: RequestWithUser, _res: Response, next: NextFunction): Promise<void> {
    const header = req.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) return next(new UnauthorizedException('Authorization header must be "Bearer <token>"'));
      const user = await this.tokens.authenticate(match[1]!);
      if (!user) return next(new UnauthorizedException('Invalid, expired or revoked token'));
      req.user = user;
    }
    next();
  }
}
