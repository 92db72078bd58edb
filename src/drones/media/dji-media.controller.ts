import { BadRequestException, Body, Controller, HttpCode, NotFoundException, Param, Post, UseFilters } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentDroneCaller, DjiAuth, type DroneCaller } from '../dji-auth.js';
import { DjiExceptionFilter, djiOk } from '../dji-envelope.js';
import { DroneMediaService } from './media.service.js';
import { senderFacts } from './media-files.js';

/** DJI's error code for "this file is not here, upload it" (DJI's Cloud API demo answers fast-upload with it). */
export const DJI_NOT_FOUND_CODE = -1;

const ENVELOPE = {
  type: 'object',
  properties: { code: { type: 'integer', description: '0 = success' }, message: { type: 'string' }, data: { type: 'object', nullable: true, additionalProperties: true } },
};

const EXT = {
  type: 'object',
  properties: {
    drone_model_key: { type: 'string' },
    payload_model_key: { type: 'string' },
    is_original: { type: 'boolean' },
    tinny_fingerprint: { type: 'string', description: "DJI's spelling; `tiny_fingerprint` is accepted too" },
    sn: { type: 'string', description: "The aircraft's serial number" },
    file_group_id: { type: 'string' },
  },
};

/** The workspace a DJI route names (its `uuid`) must be the caller's. */
export function assertCallerWorkspace(caller: DroneCaller, workspaceUuid: string): void {
  if (caller.workspaceUuid !== workspaceUuid) throw new NotFoundException(`No workspace ${workspaceUuid} for this connection`);
}

/**
 * DJI Pilot 2's media routes (DJI Cloud API "media management"), at the paths Pilot 2 calls,
 * answered in DJI's envelope `{code, message, data}`. `workspaceId` is the workspace's uuid.
 */
@ApiTags('drones (DJI Pilot 2)')
@DjiAuth()
@UseFilters(DjiExceptionFilter)
@Controller('media/api/v1/workspaces/:workspaceId')
export class DjiMediaController {
  constructor(private readonly media: DroneMediaService) {}

  @Post('fast-upload')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Fast upload: does the workspace have this file?',
    description: `A known fingerprint: \`code\` 0, Pilot 2 skips the upload. An unknown one: \`code\` ${DJI_NOT_FOUND_CODE}, as DJI's demo answers, and Pilot 2 uploads the file.`,
  })
  @ApiBody({ schema: { type: 'object', required: ['fingerprint'], properties: { fingerprint: { type: 'string' }, name: { type: 'string' }, path: { type: 'string' }, ext: EXT } } })
  @ApiOkResponse({ schema: ENVELOPE })
  async fastUpload(@Param('workspaceId') workspaceId: string, @CurrentDroneCaller() caller: DroneCaller, @Body() body: Record<string, unknown>) {
    assertCallerWorkspace(caller, workspaceId);
    const fingerprint = senderFacts(body).fingerprint;
    if (!fingerprint) throw new BadRequestException('fingerprint is required');
    const known = await this.media.byFingerprint(caller.workspaceId, fingerprint);
    if (known) return djiOk({});
    return { code: DJI_NOT_FOUND_CODE, message: `${fingerprint} does not exist: upload the file`, data: null };
  }

  @Post('files/tiny-fingerprints')
  @HttpCode(200)
  @ApiOperation({ summary: 'Which of these tiny fingerprints the workspace has' })
  @ApiBody({ schema: { type: 'object', required: ['tiny_fingerprints'], properties: { tiny_fingerprints: { type: 'array', items: { type: 'string' } } } } })
  @ApiOkResponse({ schema: ENVELOPE })
  async tinyFingerprints(@Param('workspaceId') workspaceId: string, @CurrentDroneCaller() caller: DroneCaller, @Body() body: Record<string, unknown>) {
    assertCallerWorkspace(caller, workspaceId);
    const list = body?.tiny_fingerprints;
    if (!Array.isArray(list) || list.some((t) => typeof t !== 'string')) throw new BadRequestException('tiny_fingerprints must be an array of strings');
    if (list.length > 10_000) throw new BadRequestException('tiny_fingerprints: at most 10000 at once');
    return djiOk({ tiny_fingerprints: await this.media.existingTinyFingerprints(caller.workspaceId, list as string[]) });
  }

  @Post('upload-callback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Report a file uploaded into the bucket',
    description:
      'The object `object_key` (under the `object_key_prefix` of `sts`) is fetched from storage, checked (size, prefix of this workspace), hashed (SHA-256) and taken in; ' +
      'a photo goes into the picture pipeline as part of its flight’s sequence. A fingerprint the workspace has already answers with that file.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['fingerprint', 'object_key'],
      properties: {
        result: { type: 'integer' },
        fingerprint: { type: 'string' },
        name: { type: 'string' },
        path: { type: 'string' },
        object_key: { type: 'string' },
        sub_file_type: { type: 'integer' },
        ext: EXT,
        metadata: {
          type: 'object',
          properties: {
            absolute_altitude: { type: 'number' },
            relative_altitude: { type: 'number' },
            gimbal_yaw_degree: { type: 'number' },
            created_time: { type: 'string', description: '`create_time` accepted too' },
            shoot_position: { type: 'object', properties: { lat: { type: 'number' }, lng: { type: 'number' } } },
          },
        },
      },
    },
  })
  @ApiOkResponse({ schema: ENVELOPE })
  async uploadCallback(@Param('workspaceId') workspaceId: string, @CurrentDroneCaller() caller: DroneCaller, @Body() body: Record<string, unknown>) {
    assertCallerWorkspace(caller, workspaceId);
    const { media } = await this.media.uploadCallback(caller.workspaceId, caller.ownerId, { connectionId: caller.connectionId }, body);
    return djiOk({ object_key: senderFacts(body).objectKey ?? media.storageKey, media_id: media.id });
  }

  @Post('group-upload-callback')
  @HttpCode(200)
  @ApiOperation({ summary: 'A group of files (a mission’s) finished uploading', description: 'Acknowledged; each file was reported by its own upload-callback.' })
  @ApiBody({ schema: { type: 'object', properties: { file_group_id: { type: 'string' }, file_count: { type: 'integer' }, file_uploaded_count: { type: 'integer' } } } })
  @ApiOkResponse({ schema: ENVELOPE })
  groupUploadCallback(@Param('workspaceId') workspaceId: string, @CurrentDroneCaller() caller: DroneCaller) {
    assertCallerWorkspace(caller, workspaceId);
    return djiOk({});
  }
}
