import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { RecomputeCollectionsDto, RecomputeResultDto } from './collection.dto.js';
import { CatalogService } from '../catalog/catalog.service.js';

@ApiTags('admin')
@Authenticated({ role: 'admin' })
@Controller('admin/collections')
export class CollectionsAdminController {
  constructor(private readonly collections: CatalogService) {}

  @Post('recompute')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Recompute counts, temporal extents and geometry of one collection or of all',
    description: 'Runs while the request waits; the management jobs will offer it as a cancellable job with progress.',
  })
  @ApiOkResponse({ type: RecomputeResultDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such collection' })
  async recompute(@Body() body: RecomputeCollectionsDto): Promise<RecomputeResultDto> {
    const log: string[] = [];
    const result = await this.collections.recompute(body, { log: (line) => void log.push(line), progress: () => undefined, signal: new AbortController().signal });
    return { ...result, log };
  }
}
