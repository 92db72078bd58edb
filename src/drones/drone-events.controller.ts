import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { DroneEventsService, type DroneEvent } from './drone-events.service.js';
import { DroneWorkspacesService } from './workspaces.service.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** Live events of a workspace, as Server-Sent Events. */
@ApiTags('drones')
@Authenticated()
@Controller('drones/workspaces/:workspaceId')
export class DroneEventsController {
  constructor(
    private readonly workspaces: DroneWorkspacesService,
    private readonly events: DroneEventsService,
  ) {}

  @Get('events')
  @ApiOperation({
    summary: 'Follow a workspace live (Server-Sent Events): positions, telemetry, devices online/offline, flights, media',
    description:
      "A `text/event-stream`; each event's `event:` is its type — `position`, `telemetry`, `device_online`, `device_offline`, " +
      '`flight_started`, `flight_landed`, `flight_ended`, `media_arrived` — and its `data:` a JSON object (`device_id`, `sn`, `at`, ' +
      '`flight_id`…). Best effort: after a reconnection read the state over REST. A comment line every 15 s keeps the stream open. ' +
      'Browsers: `new EventSource(url, { withCredentials: true })` with the session cookie; scripts: `Authorization: Bearer`.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'The event stream (open until the client leaves)' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such workspace, or not yours' })
  async follow(
    @CurrentUser() user: AuthUser,
    @Param('workspaceId', new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Workspace not found') })) workspaceId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.workspaces.get(user, workspaceId);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    const flush = () => (res as Response & { flush?: () => void }).flush?.();
    const stream = { closed: false, unsubscribe: undefined as (() => void) | undefined };
    const keepalive = setInterval(() => {
      res.write(': keepalive\n\n');
      flush();
    }, KEEPALIVE_MS);
    const close = () => {
      if (stream.closed) return;
      stream.closed = true;
      clearInterval(keepalive);
      stream.unsubscribe?.();
    };
    req.on('close', close);
    res.on('close', close);
    stream.unsubscribe = await this.events.subscribe(workspaceId, (event: DroneEvent) => {
      if (stream.closed) return;
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      flush();
    });
    if (stream.closed) stream.unsubscribe();
    // The stream is open once this line arrives (clients may wait for it before acting).
    res.write(`retry: 3000\nevent: ready\ndata: ${JSON.stringify({ type: 'ready', workspace_id: workspaceId })}\n\n`);
    flush();
  }
}
