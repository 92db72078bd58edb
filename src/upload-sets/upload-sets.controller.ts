import { Body, Controller, Delete, Get, Headers, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { publicRequestUrl } from '../common/request-url.js';
import { AppConfig } from '../config/app-config.js';
import { UploadFileBodyDto, UploadFileDto, UploadFileListDto } from './upload-file.dto.js';
import { CreateUploadSetDto, UpdateUploadSetDto, UploadSetDto, UploadSetListQueryDto, UploadSetPageDto } from './upload-set.dto.js';
import { ReceivedFile, type ReceivedUpload, UploadReceiverInterceptor } from './upload-receiver.js';
import { UploadSetsService } from './upload-sets.service.js';

const uuid = new ParseUUIDPipe();

@ApiTags('upload sets')
@Authenticated()
@Controller()
export class UploadSetsController {
  constructor(
    private readonly uploadSets: UploadSetsService,
    private readonly config: AppConfig,
  ) {}

  @Post('upload_sets')
  @ApiOperation({ summary: 'Create an upload set', description: 'Dispatch parameters left out take the instance defaults.' })
  @ApiCreatedResponse({ type: UploadSetDto, description: 'Created; `Location` names it' })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid field, or no_split / no_deduplication combined with a value' })
  async create(
    @Body() dto: CreateUploadSetDto,
    @CurrentUser() user: AuthUser,
    @Headers('user-agent') userAgent: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<UploadSetDto> {
    const set = await this.uploadSets.create(dto, user, userAgent);
    res.location(set.links[0]!.href);
    return set;
  }

  @Get('users/me/upload_sets')
  @ApiOperation({ summary: 'Your upload sets, newest first' })
  @ApiOkResponse({ type: UploadSetPageDto })
  list(@Query() query: UploadSetListQueryDto, @CurrentUser() user: AuthUser, @Req() req: Request): Promise<UploadSetPageDto> {
    return this.uploadSets.list(user, query, publicRequestUrl(this.config.PUBLIC_URL, req));
  }

  @Get('upload_sets/:id')
  @ApiOperation({ summary: 'An upload set: completion, dispatch, processing counts and its sequences' })
  @ApiOkResponse({ type: UploadSetDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such set, or not yours' })
  get(@Param('id', uuid) id: string, @CurrentUser() user: AuthUser): Promise<UploadSetDto> {
    return this.uploadSets.get(id, user);
  }

  @Patch('upload_sets/:id')
  @ApiOperation({
    summary: 'Change an upload set',
    description: 'Changing dispatch parameters of a completed set dispatches it again; visibility reaches its sequences and pictures.',
  })
  @ApiOkResponse({ type: UploadSetDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(@Param('id', uuid) id: string, @Body() dto: UpdateUploadSetDto, @CurrentUser() user: AuthUser): Promise<UploadSetDto> {
    return this.uploadSets.update(id, dto, user);
  }

  @Delete('upload_sets/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an upload set, its pictures and sequences', description: 'Files are removed in the background.' })
  @ApiNoContentResponse({ description: 'Deleted (files go asynchronously)' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  remove(@Param('id', uuid) id: string, @CurrentUser() user: AuthUser): Promise<void> {
    return this.uploadSets.remove(id, user);
  }

  @Post('upload_sets/:id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete an upload set: no more files, dispatch into sequences starts' })
  @ApiOkResponse({ type: UploadSetDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  complete(@Param('id', uuid) id: string, @CurrentUser() user: AuthUser): Promise<UploadSetDto> {
    return this.uploadSets.complete(id, user);
  }

  @Post('upload_sets/:id/files')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Add a picture to an upload set',
    description:
      'The body is streamed to storage and hashed on the way. Refused files are recorded with their reason ' +
      '(see the files list): `file_duplicate` → 409, `invalid_file` and `invalid_metadata` → 400.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadFileBodyDto })
  @ApiAcceptedResponse({ type: UploadFileDto, description: 'Accepted; processing is queued' })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Not a valid JPEG, no position or capture time, or bad fields' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'The same file already exists, a different file has this name in the set, or the set is completed' })
  @ApiPayloadTooLargeResponse({ type: ErrorResponseDto, description: 'Larger than UPLOAD_MAX_BYTES' })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorResponseDto, description: 'Not multipart/form-data' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @UseInterceptors(UploadReceiverInterceptor)
  addFile(@Param('id', uuid) id: string, @CurrentUser() user: AuthUser, @ReceivedFile() upload: ReceivedUpload | undefined): Promise<UploadFileDto> {
    if (!upload) throw new Error('addFile runs behind UploadReceiverInterceptor, which receives the file');
    return this.uploadSets.addFile(id, user, upload);
  }

  @Get('upload_sets/:id/files')
  @ApiOperation({ summary: 'Files of an upload set: accepted ones with their processing status, rejected ones with the reason' })
  @ApiOkResponse({ type: UploadFileListDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  listFiles(@Param('id', uuid) id: string, @CurrentUser() user: AuthUser): Promise<UploadFileListDto> {
    return this.uploadSets.listFiles(id, user);
  }
}
