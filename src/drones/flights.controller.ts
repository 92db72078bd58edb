import { BadRequestException, Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Patch, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { Authenticated, CurrentUser, Public } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { matchesIfNoneMatch } from '../common/stored-file-response.js';
import { DroneFlightsService } from './flights.service.js';
import { CreateFlightDto, FlightDetailDto, FlightDto, FlightsQueryDto, UpdateFlightDto } from './telemetry.dto.js';
import { DroneWorkspacesService } from './workspaces.service.js';

const WorkspaceId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Workspace not found') });
const FlightId = () => new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('Flight not found') });

/** Flights of a workspace: detected from telemetry, or entered and corrected by hand. */
@ApiTags('drones')
@Authenticated()
@ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such workspace (or not yours), aircraft or flight' })
@Controller('drones/workspaces/:workspaceId')
export class DroneFlightsController {
  constructor(
    private readonly workspaces: DroneWorkspacesService,
    private readonly flights: DroneFlightsService,
  ) {}

  @Get('drones/:id/flights')
  @ApiOperation({ summary: "An aircraft's flights, newest first" })
  @ApiOkResponse({ type: [FlightDto] })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad limit or before' })
  async list(
    @CurrentUser() user: AuthUser,
    @Param('workspaceId', WorkspaceId()) workspaceId: string,
    @Param('id') id: string,
    @Query() query: FlightsQueryDto,
  ): Promise<FlightDto[]> {
    await this.workspaces.get(user, workspaceId);
    return (await this.flights.listForDevice(workspaceId, id, { limit: query.limit ?? 100, before: query.before })).map(FlightDto.from);
  }

  @Get('drones/:id/current-flight')
  @ApiOperation({ summary: "An aircraft's flight in progress (in the air, or landed and not ended yet)" })
  @ApiOkResponse({ type: FlightDto })
  @ApiNoContentResponse({ description: 'No flight in progress' })
  async current(
    @CurrentUser() user: AuthUser,
    @Param('workspaceId', WorkspaceId()) workspaceId: string,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FlightDto | undefined> {
    await this.workspaces.get(user, workspaceId);
    const flight = await this.flights.current(workspaceId, id);
    if (!flight) {
      res.status(204);
      return undefined;
    }
    return FlightDto.from(flight);
  }

  @Get('flights/:flightId')
  @ApiOperation({ summary: 'A flight with its track (GeoJSON LineString with per-point times and heights)' })
  @ApiOkResponse({ type: FlightDetailDto })
  async get(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Param('flightId', FlightId()) flightId: string): Promise<FlightDetailDto> {
    await this.workspaces.get(user, workspaceId);
    const flight = await this.flights.get(workspaceId, flightId);
    return { ...FlightDto.from(flight), track: await this.flights.track(flight.id), media_count: await this.flights.mediaCount(flight.id) };
  }

  @Post('flights')
  @ApiOperation({ summary: 'Enter a flight by hand (`is_created_manually`)' })
  @ApiCreatedResponse({ type: FlightDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Missing or bad times (landing or end before the start)' })
  async create(@CurrentUser() user: AuthUser, @Param('workspaceId', WorkspaceId()) workspaceId: string, @Body() body: CreateFlightDto): Promise<FlightDto> {
    await this.workspaces.get(user, workspaceId);
    const flight = await this.flights.create(workspaceId, { device: body.drone, name: body.name, startedAt: body.started_at, landedAt: body.landed_at, endedAt: body.ended_at });
    return FlightDto.from(flight);
  }

  @Patch('flights/:flightId')
  @ApiOperation({ summary: "Correct a flight's name and times (a detected flight's too)" })
  @ApiOkResponse({ type: FlightDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad times (landing or end before the start)' })
  async update(
    @CurrentUser() user: AuthUser,
    @Param('workspaceId', WorkspaceId()) workspaceId: string,
    @Param('flightId', FlightId()) flightId: string,
    @Body() body: UpdateFlightDto,
  ): Promise<FlightDto> {
    await this.workspaces.get(user, workspaceId);
    const flight = await this.flights.update(workspaceId, flightId, { name: body.name, startedAt: body.started_at, landedAt: body.landed_at, endedAt: body.ended_at });
    return FlightDto.from(flight);
  }
}

/** Flight tracks on the map: a vector tile source of their own. */
@ApiTags('map')
@Public()
@Controller('map/flights')
export class DroneFlightTilesController {
  constructor(private readonly flights: DroneFlightsService) {}

  @Get(':z/:x/:y.mvt')
  @ApiOperation({
    summary: 'Vector tile (Mapbox Vector Tile) of the flight tracks the caller may see',
    description:
      'One layer, `flights`: lines with `id`, `workspace_id`, `device_sn`, `status`, `started_at`, `ended_at`. Flights follow their workspace: ' +
      'a person sees their workspaces’ flights (admins all), anonymous callers none (an empty tile). Private, revalidated with a strong ETag.',
  })
  @ApiProduces('application/vnd.mapbox-vector-tile')
  @ApiOkResponse({ description: 'The tile' })
  @ApiNoContentResponse({ description: 'Nothing visible in this tile' })
  @ApiResponse({ status: 304, description: 'Not modified (`If-None-Match`)' })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'z outside 0–22, or x / y outside 0 … 2^z − 1' })
  async tile(
    @CurrentUser() user: AuthUser | undefined,
    @Param('z') zs: string,
    @Param('x') xs: string,
    @Param('y') ys: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const [z, x, y] = [zs, xs, ys].map((v) => (/^\d{1,8}$/.test(v) ? Number(v) : NaN));
    if (!(z >= 0 && z <= 22) || !(x >= 0 && x < 2 ** z) || !(y >= 0 && y < 2 ** z)) {
      throw new BadRequestException(`Tile ${zs}/${xs}/${ys}: z must be 0–22 and x, y within 0 … 2^z − 1`);
    }
    const body = await this.flights.tile(z, x, y, user);
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('Vary', 'Authorization, Cookie');
    if (!body.length) {
      res.status(204).end();
      return;
    }
    const etag = `"${body.length.toString(16)}-${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
    res.setHeader('ETag', etag);
    if (matchesIfNoneMatch(req.get('if-none-match'), etag)) {
      res.status(304).end();
      return;
    }
    res.type('application/vnd.mapbox-vector-tile');
    res.send(body);
  }
}
