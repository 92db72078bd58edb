import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC, REQUIRED_ROLE } from './auth.decorators.js';
import type { RequestWithUser, Role } from './auth.types.js';

/**
 * Default deny: a route without @Public() needs an authenticated caller; @Authenticated({ role })
 * narrows it further. Who the caller is was settled earlier by the authentication middleware.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets);
    const role = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    const user = context.switchToHttp().getRequest<RequestWithUser>().user;
    if (isPublic && !role) return true;
    if (!user) throw new UnauthorizedException('Authentication required: log in or send a Bearer token');
    if (role === 'admin' && user.role !== 'admin') throw new ForbiddenException('This route is for administrators');
    return true;
  }
}
