import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { PictureStatusDto, toPictureStatusDto } from './picture.dto.js';
import { PicturesService } from './pictures.service.js';

@ApiTags('upload sets')
@Controller('pictures')
export class PicturesController {
  constructor(private readonly pictures: PicturesService) {}

  @Get(':id/status')
  @Authenticated()
  @ApiOperation({ summary: 'Processing status of one of your pictures: state, attempts, last error' })
  @ApiOkResponse({ type: PictureStatusDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such picture, or not yours' })
  async status(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() user: AuthUser): Promise<PictureStatusDto> {
    return toPictureStatusDto(await this.pictures.getOwned(id, user));
  }
}
