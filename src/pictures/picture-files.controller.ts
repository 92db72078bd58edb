import { applyDecorators, BadRequestException, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiPartialContentResponse, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, Public } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { PICTURE_VARIANTS, PictureFilesService, PictureVariant } from './picture-files.service.js';
import { sendStoredFile } from '../common/stored-file-response.js';

const uuid = new ParseUUIDPipe({ version: 'all' });

const FILE_RESPONSES = [
  ApiProduces('image/jpeg'),
  ApiOkResponse({ description: 'The JPEG, with `ETag`, `Last-Modified`, `Cache-Control` and `Accept-Ranges: bytes`; HEAD answers the headers only' }),
  ApiPartialContentResponse({ description: 'The requested byte range (`Range: bytes=…`, one range)' }),
  ApiResponse({ status: 304, description: 'Not modified (`If-None-Match` / `If-Modified-Since`)' }),
  ApiResponse({ status: 416, type: ErrorResponseDto, description: 'Range not satisfiable; `Content-Range: bytes */<size>`' }),
  ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such picture or file, or the caller may not see it' }),
  ApiBadRequestResponse({ type: ErrorResponseDto, description: 'The id is not a UUID' }),
];

@ApiTags('pictures')
@Public()
@Controller('pictures')
export class PictureFilesController {
  constructor(private readonly files: PictureFilesService) {}

  @Get(':id/tiles/:tile.jpg')
  @ApiOperation({ summary: 'A tile of a 360° picture (`<col>_<row>.jpg`)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'tile', example: '0_0', description: '`<col>_<row>`, 0-based' })
  @applyDecorators(...FILE_RESPONSES)
  async tile(@CurrentUser() user: AuthUser | undefined, @Param('id', uuid) id: string, @Param('tile') tile: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const m = /^(\d{1,4})_(\d{1,4})$/.exec(tile);
    if (!m) throw new BadRequestException({ message: 'A tile is named <col>_<row>.jpg', details: [{ field: 'tile', problems: ['must be <col>_<row>'] }] });
    await sendStoredFile(req, res, await this.files.tile(user, id, Number(m[1]), Number(m[2])));
  }

  @Get(':id/:variant.jpg')
  @ApiOperation({
    summary: 'A picture file: `hd` (full size, blurred), `sd` (2048 px wide) or `thumb` (500 px wide)',
    description:
      'Metadata: `sd` and `thumb` carry none. `hd` carries what the instance chooses (`PICTURE_HD_METADATA`): `keep` — the ' +
      "upload's EXIF/XMP/IPTC as sent, GPS position, serial numbers and maker notes included; `strip-private` — orientation, " +
      'make, model, lens, capture time, exposure and optics, ICC profile and GPano (360°) properties only, the compressed ' +
      "pixels unchanged. The item's position and time are in the STAC item either way.",
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'variant', enum: PICTURE_VARIANTS })
  @applyDecorators(...FILE_RESPONSES)
  async variant(
    @CurrentUser() user: AuthUser | undefined,
    @Param('id', uuid) id: string,
    @Param('variant') variant: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!(PICTURE_VARIANTS as readonly string[]).includes(variant)) {
      throw new NotFoundException(`No picture file ${variant}.jpg: the files are ${PICTURE_VARIANTS.map((v) => `${v}.jpg`).join(', ')}`);
    }
    await sendStoredFile(req, res, await this.files.variant(user, id, variant as PictureVariant));
  }
}
