import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error-response.js';
import type { AuthUser, RequestWithUser, Role } from './auth.types.js';

export const IS_PUBLIC = Symbol('sightline:public');
export const REQUIRED_ROLE = Symbol('sightline:required-role');
export const OPTIONAL_AUTH = Symbol('sightline:optional-auth');

/**
 * Opens a route to anonymous callers. A caller who does authenticate is still identified
 * (so public content can be complemented with the caller's own).
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Requires a logged-in caller (and a role, when given); documents it in OpenAPI. */
export function Authenticated(options: { role?: Role } = {}): MethodDecorator & ClassDecorator {
  const decorators = [
    SetMetadata(REQUIRED_ROLE, options.role ?? 'user'),
    ApiBearerAuth('bearer'),
    ApiCookieAuth('session'),
    ApiUnauthorizedResponse({ description: 'Not authenticated', type: ErrorResponseDto }),
  ];
  if (options.role === 'admin') decorators.push(ApiForbiddenResponse({ description: 'Admin role required', type: ErrorResponseDto }));
  return applyDecorators(...decorators);
}

/** The authenticated caller (undefined on a public route called anonymously). */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthUser | undefined => {
  return ctx.switchToHttp().getRequest<RequestWithUser>().user;
});
