import { Controller, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentDroneCaller, DjiAuth, type DroneCaller } from '../dji-auth.js';
import { DjiExceptionFilter, djiOk } from '../dji-envelope.js';
import { assertCallerWorkspace } from './dji-media.controller.js';
import { DroneMediaService } from './media.service.js';

/** DJI Pilot 2's storage route: temporary credentials to upload media straight into the bucket. */
@ApiTags('drones (DJI Pilot 2)')
@DjiAuth()
@UseFilters(DjiExceptionFilter)
@Controller('storage/api/v1/workspaces/:workspaceId')
export class DjiStorageController {
  constructor(private readonly media: DroneMediaService) {}

  @Post('sts')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Temporary credentials to upload into the bucket',
    description:
      'With an STS endpoint (S3_STS_ENDPOINT, or AWS with S3_STS_ROLE_ARN): AssumeRole credentials that may only write under `object_key_prefix`, for an hour. ' +
      'Without one, and only with S3_STS_DEV_FALLBACK=true (development): the storage’s own key. Otherwise, and with local storage: 501.',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        code: { type: 'integer' },
        message: { type: 'string' },
        data: {
          type: 'object',
          properties: {
            bucket: { type: 'string' },
            credentials: {
              type: 'object',
              properties: { access_key_id: { type: 'string' }, access_key_secret: { type: 'string' }, expire: { type: 'integer' }, security_token: { type: 'string' } },
            },
            endpoint: { type: 'string' },
            object_key_prefix: { type: 'string' },
            provider: { type: 'string', enum: ['aws', 'minio'] },
            region: { type: 'string' },
          },
        },
      },
    },
  })
  async sts(@Param('workspaceId') workspaceId: string, @CurrentDroneCaller() caller: DroneCaller) {
    assertCallerWorkspace(caller, workspaceId);
    return djiOk(await this.media.temporaryCredentials(caller.workspaceId));
  }
}
