import { Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query, Req, Res, UnauthorizedException, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiGoneResponse,
  ApiCookieAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ErrorResponseDto } from '../../common/error-response.js';
import { pageParams, toPage } from '../../common/pagination.js';
import { publicRequestUrl } from '../../common/request-url.js';
import { sendStoredFile, storedFileEtag } from '../../common/stored-file-response.js';
import { AppConfig } from '../../config/app-config.js';
import { DroneTokenOrUser, workspaceForCaller, type RequestWithDroneCaller } from '../dji-auth.js';
import { DroneWorkspacesService } from '../workspaces.service.js';
import { DroneMediaDto, DroneMediaPageDto, MediaListQueryDto, toMediaDto } from './media.dto.js';
import { DroneMediaService } from './media.service.js';
import { MediaUploadInterceptor, ReceivedMediaUpload, type ReceivedMedia } from './media-upload.receiver.js';

const NOT_FOUND = { description: 'No such workspace (or not yours), media or flight', type: ErrorResponseDto };
const UNAUTHENTICATED = { description: 'Neither a person (session, Bearer token) nor a pilot app (x-auth-token)', type: ErrorResponseDto };

/**
 * Media of a workspace, OpenFlightHub-style: a pilot app (its `x-auth-token`) or a person who
 * manages the workspace (owner, admin) uploads; both read. Unknown ids are 404 (Sightline's
 * rule); a media whose file is no longer stored is 410 Gone.
 */
@ApiTags('drones')
@ApiBearerAuth('bearer')
@ApiCookieAuth('session')
@ApiUnauthorizedResponse(UNAUTHENTICATED)
@ApiNotFoundResponse(NOT_FOUND)
@DroneTokenOrUser()
@Controller('drones/workspaces/:id')
export class DroneMediaController {
  private readonly api: string;

  constructor(
    private readonly media: DroneMediaService,
    private readonly workspaces: DroneWorkspacesService,
    private readonly appConfig: AppConfig,
  ) {
    this.api = `${appConfig.PUBLIC_URL.replace(/\/$/, '')}/api`;
  }

  /** The workspace if the caller may see it: its pilot app, its owner, an admin (404 otherwise). */
  private async workspace(req: RequestWithDroneCaller, id: string): Promise<string> {
    if (!req.droneCaller && !req.user) throw new UnauthorizedException('Authentication required: a pilot app sends its x-auth-token, a person logs in or sends a Bearer token');
    return (await workspaceForCaller(this.workspaces, req, id)).id;
  }

  @Post('media')
  @HttpCode(201)
  @UseInterceptors(MediaUploadInterceptor)
  @ApiOperation({
    summary: 'Upload a media file (OpenFlightHub-style)',
    description:
      'Multipart: `file`, `fingerprint` (unique in the workspace), optional `name`, `path`, `drone_sn`, `created_time`. Streamed to storage, SHA-256 on the way. ' +
      'A photo is attached to the flight of its aircraft that covers its capture time and goes into the picture pipeline (the flight’s sequence, its ground coverage as the STAC geometry).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'fingerprint'],
      properties: {
        file: { type: 'string', format: 'binary' },
        fingerprint: { type: 'string', maxLength: 128 },
        name: { type: 'string' },
        path: { type: 'string' },
        drone_sn: { type: 'string' },
        created_time: { type: 'string', description: 'Capture time when the file has none (ISO 8601 or epoch)' },
      },
    },
  })
  @ApiCreatedResponse({ type: DroneMediaDto })
  @ApiBadRequestResponse({ description: 'No file, no fingerprint, a malformed body', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The workspace has a file with this fingerprint (`details.existing_media`)', type: ErrorResponseDto })
  @ApiPayloadTooLargeResponse({ description: 'Larger than DRONE_MEDIA_MAX_BYTES', type: ErrorResponseDto })
  async upload(@Param('id', ParseUUIDPipe) _id: string, @ReceivedMediaUpload() received: ReceivedMedia | undefined): Promise<DroneMediaDto> {
    if (!received) throw new Error('upload runs behind MediaUploadInterceptor, which receives the file');
    const { context, file, fields } = received;
    const media = await this.media.receiveUpload(context.workspace.id, context.workspace.ownerId, { connectionId: context.connectionId, userId: context.userId }, file, fields);
    return toMediaDto(media, this.api);
  }

  @Get('media')
  @ApiOperation({ summary: 'The media of a workspace, newest first (filter by flight, kind)' })
  @ApiOkResponse({ type: DroneMediaPageDto })
  async list(@Param('id', ParseUUIDPipe) id: string, @Query() query: MediaListQueryDto, @Req() req: RequestWithDroneCaller): Promise<DroneMediaPageDto> {
    const workspaceId = await this.workspace(req, id);
    const params = pageParams(query);
    const { items, total } = await this.media.list(workspaceId, { flightId: query.flight_id, kind: query.kind, limit: params.limit, offset: params.offset });
    return toPage(
      items.map((m) => toMediaDto(m, this.api)),
      total,
      params,
      publicRequestUrl(this.appConfig.PUBLIC_URL, req),
    );
  }

  @Get('flights/:flightId/media')
  @ApiOperation({ summary: 'The media of a flight' })
  @ApiOkResponse({ type: DroneMediaPageDto })
  async ofFlight(
    @Param('id', ParseUUIDPipe) id: string,
    @Param('flightId', ParseUUIDPipe) flightId: string,
    @Query() query: MediaListQueryDto,
    @Req() req: RequestWithDroneCaller,
  ): Promise<DroneMediaPageDto> {
    const workspaceId = await this.workspace(req, id);
    if (!(await this.media.hasFlight(workspaceId, flightId))) throw new NotFoundException(`No flight ${flightId} in this workspace`);
    const params = pageParams(query);
    const { items, total } = await this.media.list(workspaceId, { flightId, kind: query.kind, limit: params.limit, offset: params.offset });
    return toPage(
      items.map((m) => toMediaDto(m, this.api)),
      total,
      params,
      publicRequestUrl(this.appConfig.PUBLIC_URL, req),
    );
  }

  @Get('media/:mediaId')
  @ApiOperation({ summary: 'A media' })
  @ApiOkResponse({ type: DroneMediaDto })
  async get(@Param('id', ParseUUIDPipe) id: string, @Param('mediaId', ParseUUIDPipe) mediaId: string, @Req() req: RequestWithDroneCaller): Promise<DroneMediaDto> {
    return toMediaDto(await this.media.get(await this.workspace(req, id), mediaId), this.api);
  }

  @Get('media/:mediaId/file')
  @ApiOperation({ summary: 'The file of a media (ETag, ranges, 304)' })
  @ApiProduces('image/jpeg', 'video/mp4', 'application/octet-stream')
  @ApiOkResponse({ description: 'The bytes' })
  @ApiGoneResponse({ description: 'The media is known but its file is not stored (any more)', type: ErrorResponseDto })
  async file(@Param('id', ParseUUIDPipe) id: string, @Param('mediaId', ParseUUIDPipe) mediaId: string, @Req() req: RequestWithDroneCaller, @Res() res: Response): Promise<void> {
    const file = await this.media.file(await this.workspace(req, id), mediaId);
    await sendStoredFile(req, res, {
      size: file.size,
      modifiedAt: file.modifiedAt,
      etag: storedFileEtag(file.size, file.modifiedAt),
      contentType: this.media.contentType(file.media),
      cacheControl: 'private, max-age=300',
      headers: { Vary: 'Authorization, Cookie, x-auth-token', 'Content-Disposition': `inline; filename="${file.media.name.replace(/["\\\r\n]/g, '_')}"` },
      open: file.open,
    });
  }

  @Get('media/:mediaId/ground-coverage')
  @ApiOperation({
    summary: 'What a photo sees on the ground',
    description:
      'A GeoJSON Feature: the footprint polygon (image corners cast onto flat ground at the take-off height; corners above the horizon clipped at a maximum range, ' +
      'then `truncated`), off-nadir angle, azimuth, GSD (near nadir), and the corners in metres east/north of the camera.',
  })
  @ApiProduces('application/geo+json')
  @ApiOkResponse({ description: 'GeoJSON Feature', schema: { type: 'object', additionalProperties: true } })
  async groundCoverage(
    @Param('id', ParseUUIDPipe) id: string,
    @Param('mediaId', ParseUUIDPipe) mediaId: string,
    @Req() req: RequestWithDroneCaller,
    @Res() res: Response,
  ): Promise<void> {
    const feature = await this.media.groundCoverage(await this.workspace(req, id), mediaId);
    res.setHeader('Content-Type', 'application/geo+json');
    res.send(JSON.stringify(feature));
  }
}
