import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, NotFoundException, SetMetadata, UnauthorizedException, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import type { RequestWithUser } from '../auth/auth.types.js';
import { DroneConnectionsService, type DroneCaller } from './connections.service.js';
import { DroneWorkspacesService } from './workspaces.service.js';

export type { DroneCaller } from './connections.service.js';

export type RequestWithDroneCaller = RequestWithUser & { droneCaller?: DroneCaller };

/** The header DJI Pilot 2 sends its platform token in. */
export const DJI_TOKEN_HEADER = 'x-auth-token';

const DRONE_AUTH = Symbol('sightline:drone-auth');
type DroneAuthMode = 'token' | 'token-or-user';

function headerToken(req: RequestWithUser): string | undefined {
  const value = req.headers[DJI_TOKEN_HEADER];
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * Checks `x-auth-token` against the connections' tokens and, when the route names a workspace
 * (`:workspaceId` = its DJI uuid, or `:id` under /api/drones/workspaces), that it is the token's.
 */
@Injectable()
export class DroneAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly connections: DroneConnectionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const mode = this.reflector.getAllAndOverride<DroneAuthMode | undefined>(DRONE_AUTH, [context.getHandler(), context.getClass()]);
    if (!mode) return true;
    const req = context.switchToHttp().getRequest<RequestWithDroneCaller & { params: Record<string, string> }>();
    const token = headerToken(req);
    if (!token) {
      if (mode === 'token-or-user' && req.user) return true;
      throw new UnauthorizedException(
        mode === 'token'
          ? `Send the token of a drone connection's login in the ${DJI_TOKEN_HEADER} header`
          : `Log in, send a Bearer token, or send a drone connection's token in ${DJI_TOKEN_HEADER}`,
      );
    }
    const caller = await this.connections.authenticate(token);
    if (!caller) throw new UnauthorizedException(`The ${DJI_TOKEN_HEADER} token is unknown, expired, or its connection was deleted: log in again`);
    const uuid = req.params.workspaceId;
    if (uuid !== undefined && uuid !== caller.workspaceUuid) throw new NotFoundException('Workspace not found (the token is for another workspace)');
    const id = req.params.id;
    if (mode === 'token-or-user' && id !== undefined && id !== caller.workspaceId) throw new NotFoundException('Workspace not found');
    req.droneCaller = caller;
    return true;
  }
}

/** The route is for pilot apps: a valid `x-auth-token` is required (the user guard does not apply). */
export function DjiAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    Public(),
    SetMetadata(DRONE_AUTH, 'token' satisfies DroneAuthMode),
    UseGuards(DroneAuthGuard),
    ApiHeader({ name: DJI_TOKEN_HEADER, required: true, description: "Token from a drone connection's login (POST /api/drones/connection-link/auth/login)" }),
    ApiUnauthorizedResponse({ description: `No valid ${DJI_TOKEN_HEADER}` }),
  );
}

/** The route takes a person (session or Bearer) or a pilot app (`x-auth-token`). */
export function DroneTokenOrUser(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    Public(),
    SetMetadata(DRONE_AUTH, 'token-or-user' satisfies DroneAuthMode),
    UseGuards(DroneAuthGuard),
    ApiHeader({ name: DJI_TOKEN_HEADER, required: false, description: "A drone connection's token, for pilot apps (people use their session or a Bearer token)" }),
    ApiUnauthorizedResponse({ description: 'Not authenticated' }),
  );
}

/** The pilot app calling (set by DjiAuth / DroneTokenOrUser when `x-auth-token` was sent). */
export const CurrentDroneCaller = createParamDecorator((_data: unknown, ctx: ExecutionContext): DroneCaller | undefined => {
  return ctx.switchToHttp().getRequest<RequestWithDroneCaller>().droneCaller;
});

/**
 * The workspace a DroneTokenOrUser route acts on: the token's (already checked against `id`), or
 * one the person may see (404 otherwise).
 */
export async function workspaceForCaller(workspaces: DroneWorkspacesService, req: RequestWithDroneCaller, id: string) {
  if (req.droneCaller) {
    const workspace = await workspaces.byId(req.droneCaller.workspaceId);
    if (!workspace) throw new NotFoundException('Workspace not found');
    return workspace;
  }
  return workspaces.get(req.user, id);
}
