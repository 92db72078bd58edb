import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UnsupportedMediaTypeException,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentUser, Public } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { publicRequestUrl } from '../common/request-url.js';
import { AppConfig } from '../config/app-config.js';
import {
  DatasetDto,
  DatasetPageDto,
  DeleteDatasetQueryDto,
  DuplicatesPageDto,
  DuplicatesQueryDto,
  ListDatasetsQueryDto,
  RegisterPathDto,
  SamplePointsDto,
  SampleQueryDto,
  SamplesDto,
  ThumbnailQueryDto,
  TileParamsDto,
  TileQueryDto,
  UpdateDatasetDto,
  UploadDatasetDto,
} from './dataset.dto.js';
import { DatasetRenderService, type RenderedPng } from './dataset-render.service.js';
import { DatasetsService, type StoredDatasetUpload } from './datasets.service.js';
import { sendStoredFile } from '../common/stored-file-response.js';
import { SamplePointsPipe } from './sample-points.pipe.js';

const NOT_FOUND = { description: 'No such dataset, or not visible to the caller', type: ErrorResponseDto };
const NOT_READY = { description: 'The dataset is pending or broken', type: ErrorResponseDto };
const BAD_INPUT = { description: 'Invalid id, query or body', type: ErrorResponseDto };

function sendPng(res: Response, rendered: RenderedPng): void {
  res.setHeader('Content-Type', 'image/png');
  res.setHeader('Cache-Control', `${rendered.public ? 'public' : 'private'}, max-age=300`);
  if (!rendered.public) res.setHeader('Vary', 'Authorization, Cookie');
  res.send(rendered.png);
}

@ApiTags('datasets')
@Controller('datasets')
export class DatasetsController {
  constructor(
    private readonly datasets: DatasetsService,
    private readonly render: DatasetRenderService,
    private readonly config: AppConfig,
  ) {}

  @Post()
  @Authenticated()
  @HttpCode(202)
  @UseInterceptors(FileInterceptor('file'))
  @ApiOperation({
    summary: 'Upload a GeoTIFF / COG',
    description:
      'Multipart upload, streamed to storage and hashed on the way. The header is checked at once; the rest (footprint, statistics…) ' +
      'is read by a job: poll the dataset until `status` is `ready` or `broken`.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'The GeoTIFF' },
        title: { type: 'string' },
        description: { type: 'string' },
        collection: { type: 'string', description: 'Collection id or name (default: your Datasets collection)' },
        visibility: { type: 'string', enum: ['anyone', 'logged-only', 'owner-only'] },
        allow_duplicate: { type: 'boolean', default: false },
      },
    },
  })
  @ApiAcceptedResponse({ type: DatasetDto, description: 'Registered; being read' })
  @ApiBadRequestResponse({ description: 'Missing file, bad field, empty file', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'The same content is registered already (`details.existing_id`)', type: ErrorResponseDto })
  @ApiPayloadTooLargeResponse({ description: 'Larger than DATASET_MAX_BYTES', type: ErrorResponseDto })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not multipart, or the file is not a TIFF', type: ErrorResponseDto })
  @ApiUnprocessableEntityResponse({ description: 'A TIFF that cannot be a dataset (no bands, 1×1, unreadable header)', type: ErrorResponseDto })
  async upload(
    @CurrentUser() user: AuthUser,
    @UploadedFile() file: StoredDatasetUpload | undefined,
    @Body() dto: UploadDatasetDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DatasetDto> {
    if (!file) {
      if (!req.is('multipart/form-data')) throw new UnsupportedMediaTypeException('Send the file as multipart/form-data in a part named "file"');
      throw new BadRequestException({ message: 'The "file" part is missing', details: [{ field: 'file', problems: ['required'] }] });
    }
    const dataset = await this.datasets.registerUpload(user, file, dto);
    res.setHeader('Location', dataset.links[0]!.href);
    return dataset;
  }

  @Post('from-path')
  @Authenticated({ role: 'admin' })
  @HttpCode(202)
  @ApiOperation({
    summary: 'Register a GeoTIFF already on the server (admin)',
    description:
      'The file must be under one of DATASET_ROOTS; it is not copied. Hashing and reading happen in a job. The files under DATASET_ROOTS are ' +
      "the operator's: only administrators register them, and a path is registered once (409 whoever registered it, whatever its visibility).",
  })
  @ApiAcceptedResponse({ type: DatasetDto })
  @ApiBadRequestResponse({ description: 'Path outside the roots, through `..` or a symlink leading out; missing file', type: ErrorResponseDto })
  @ApiForbiddenResponse({ description: 'Registration from paths is disabled (no DATASET_ROOTS)', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'This file is registered already (`details.existing_id`)', type: ErrorResponseDto })
  @ApiUnsupportedMediaTypeResponse({ description: 'The file is not a TIFF', type: ErrorResponseDto })
  @ApiUnprocessableEntityResponse({ description: 'A TIFF that cannot be a dataset', type: ErrorResponseDto })
  async fromPath(@CurrentUser() user: AuthUser, @Body() dto: RegisterPathDto, @Res({ passthrough: true }) res: Response): Promise<DatasetDto> {
    const dataset = this.datasets.toDto(await this.datasets.registerPath(user, dto), user);
    res.setHeader('Location', dataset.links[0]!.href);
    return dataset;
  }

  @Get()
  @Public()
  @ApiOperation({ summary: 'List datasets', description: 'Ready datasets the caller may see, plus the caller’s own pending and broken ones.' })
  @ApiOkResponse({ type: DatasetPageDto })
  @ApiBadRequestResponse({ description: 'Bad filter', type: ErrorResponseDto })
  list(@CurrentUser() user: AuthUser | undefined, @Query() query: ListDatasetsQueryDto, @Req() req: Request) {
    return this.datasets.list(user, query, publicRequestUrl(this.config.PUBLIC_URL, req));
  }

  @Get('duplicates')
  @Public()
  @ApiOperation({ summary: 'Groups of datasets with the same SHA-256', description: 'Among the datasets the caller may see; largest groups first.' })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiOkResponse({ type: DuplicatesPageDto })
  duplicates(@CurrentUser() user: AuthUser | undefined, @Query() query: DuplicatesQueryDto, @Req() req: Request) {
    return this.datasets.duplicates(user, query, publicRequestUrl(this.config.PUBLIC_URL, req));
  }

  @Get(':id')
  @Public()
  @ApiOperation({ summary: 'A dataset' })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiOkResponse({ type: DatasetDto })
  @ApiNotFoundResponse(NOT_FOUND)
  get(@CurrentUser() user: AuthUser | undefined, @Param('id', ParseUUIDPipe) id: string): Promise<DatasetDto> {
    return this.datasets.get(user, id);
  }

  @Patch(':id')
  @Authenticated()
  @ApiOperation({ summary: 'Change the title, description or visibility of a dataset' })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiOkResponse({ type: DatasetDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiForbiddenResponse({ description: 'Not the owner', type: ErrorResponseDto })
  update(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateDatasetDto): Promise<DatasetDto> {
    return this.datasets.update(user, id, dto);
  }

  @Delete(':id')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a dataset',
    description:
      'Removes the dataset, its STAC item and cached images. An uploaded file is removed with it. A file registered from a server path is ' +
      "the operator's: it stays, unless an administrator asks for `delete_file=true` (403 for anyone else).",
  })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiForbiddenResponse({ description: 'Not the owner, or `delete_file=true` from someone who is not an administrator', type: ErrorResponseDto })
  @ApiConflictResponse({ description: 'delete_file refused: another dataset uses the same file', type: ErrorResponseDto })
  async remove(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Query() query: DeleteDatasetQueryDto): Promise<void> {
    await this.datasets.remove(user, id, query.delete_file === true);
  }

  @Post(':id/ingest')
  @Authenticated()
  @HttpCode(202)
  @ApiOperation({ summary: 'Read the file again (after it changed, or to retry a broken dataset)' })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiAcceptedResponse({ type: DatasetDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ description: 'Being read already', type: ErrorResponseDto })
  reingest(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<DatasetDto> {
    return this.datasets.reingest(user, id);
  }

  @Get(':id/data.tif')
  @Public()
  @ApiOperation({
    summary: 'Download the GeoTIFF',
    description: 'Supports single byte ranges (`Range: bytes=…`), as COG readers use, and conditional requests (`If-None-Match`, `If-Modified-Since`, `If-Range`).',
  })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiHeader({ name: 'Range', required: false, description: 'bytes=start-end' })
  @ApiProduces('image/tiff')
  @ApiOkResponse({ description: 'The file', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 206, description: 'The requested range' })
  @ApiResponse({ status: 416, description: 'Range not satisfiable', type: ErrorResponseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(NOT_READY)
  async data(@CurrentUser() user: AuthUser | undefined, @Param('id', ParseUUIDPipe) id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await sendStoredFile(req, res, await this.datasets.dataFile(user, id));
  }

  @Get(':id/extent.geojson')
  @Public()
  @Header('Content-Type', 'application/geo+json')
  @ApiOperation({ summary: 'The footprint as a GeoJSON Feature (WGS 84; a MultiPolygon when it crosses the antimeridian)' })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiProduces('application/geo+json')
  @ApiOkResponse({ description: 'GeoJSON Feature', schema: { type: 'object' } })
  @ApiNotFoundResponse({ description: 'No such dataset, or not georeferenced', type: ErrorResponseDto })
  @ApiConflictResponse(NOT_READY)
  extent(@CurrentUser() user: AuthUser | undefined, @Param('id', ParseUUIDPipe) id: string) {
    return this.datasets.extent(user, id);
  }

  @Get(':id/thumbnail.png')
  @Public()
  @ApiOperation({ summary: 'A PNG preview', description: 'From the best overview; non-byte data stretched (2–98 %); nodata and masked pixels transparent. Cached.' })
  @ApiBadRequestResponse(BAD_INPUT)
  @ApiProduces('image/png')
  @ApiOkResponse({ description: 'PNG', schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(NOT_READY)
  async thumbnail(@CurrentUser() user: AuthUser | undefined, @Param('id', ParseUUIDPipe) id: string, @Query() query: ThumbnailQueryDto, @Res() res: Response): Promise<void> {
    sendPng(res, await this.render.thumbnail(user, id, query.size ?? 256));
  }

  @Get(':id/tiles/:z/:x/:y.png')
  @Public()
  @ApiOperation({
    summary: 'A Web Mercator XYZ tile (256 px)',
    description: 'Warped from the best overview; transparent outside the data; a tile outside the footprint is a fully transparent PNG. Cached.',
  })
  @ApiProduces('image/png')
  @ApiOkResponse({ description: 'PNG', schema: { type: 'string', format: 'binary' } })
  @ApiBadRequestResponse({ description: 'No such tile (x or y out of range)', type: ErrorResponseDto })
  @ApiNotFoundResponse({ description: 'No such dataset, or not georeferenced', type: ErrorResponseDto })
  @ApiConflictResponse(NOT_READY)
  async tile(@CurrentUser() user: AuthUser | undefined, @Param() params: TileParamsDto, @Query() query: TileQueryDto, @Res() res: Response): Promise<void> {
    sendPng(res, await this.render.tile(user, params.id, params.z, params.x, params.y, query.resampling ?? 'bilinear'));
  }

  @Get(':id/sample')
  @Public()
  @ApiOperation({ summary: 'Every band’s value at a point', description: 'Nodata and masked pixels give null.' })
  @ApiOkResponse({ type: SamplesDto })
  @ApiBadRequestResponse({ description: 'Bad coordinates, a point outside the raster, or a dataset without CRS', type: ErrorResponseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(NOT_READY)
  sample(@CurrentUser() user: AuthUser | undefined, @Param('id', ParseUUIDPipe) id: string, @Query() query: SampleQueryDto): Promise<SamplesDto> {
    return this.render.sample(user, id, [{ lon: query.lon, lat: query.lat }], true);
  }

  @Post(':id/sample')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Every band’s value at up to 1000 points', description: 'Points off the raster come back with `inside: false`.' })
  @ApiOkResponse({ type: SamplesDto })
  @ApiBadRequestResponse({ description: 'Bad points, more than 1000, or a dataset without CRS', type: ErrorResponseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(NOT_READY)
  @ApiBody({ type: SamplePointsDto })
  // Typed `unknown` for the framework (the global validation then leaves it alone): SamplePointsPipe validates it.
  samplePoints(@CurrentUser() user: AuthUser | undefined, @Param('id', ParseUUIDPipe) id: string, @Body(SamplePointsPipe) body: unknown): Promise<SamplesDto> {
    return this.render.sample(user, id, (body as SamplePointsDto).points, false);
  }
}
