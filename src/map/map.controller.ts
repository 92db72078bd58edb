import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { matchesIfNoneMatch } from '../common/stored-file-response.js';
import { CurrentUser, Public } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { AppConfig } from '../config/app-config.js';
import { TileParamsDto } from './map.dto.js';
import { MapService, type Tile } from './map.service.js';

export const MVT_CONTENT_TYPE = 'application/vnd.mapbox-vector-tile';

@ApiTags('map')
@Public()
@Controller('map')
export class MapController {
  constructor(
    private readonly map: MapService,
    private readonly config: AppConfig,
  ) {}

  @Get('style.json')
  @ApiOperation({ summary: 'MapLibre style (version 8) drawing the grid, sequences and pictures layers of the vector tiles' })
  @ApiOkResponse({ description: 'A MapLibre GL style document' })
  style(@Res({ passthrough: true }) res: Response): Record<string, unknown> {
    res.setHeader('Cache-Control', `public, max-age=${this.config.MAP_TILE_CACHE_MAX_AGE_SECONDS}`);
    return this.map.style();
  }

  @Get('footprints/:z/:x/:y.mvt')
  @ApiOperation({
    summary: 'Vector tile (Mapbox Vector Tile) of the footprints of datasets, harvested records and drone photos the caller may see',
    description:
      "One layer, `footprints`, from zoom 2: polygons (or points) with `id`, `kind` (`dataset`, `harvested`, `picture` for a drone photo's ground coverage), `collection_id`, `title` and " +
      '`datetime`. Same caching, visibility and ETag rules as the picture tiles.',
  })
  @ApiProduces(MVT_CONTENT_TYPE)
  @ApiOkResponse({ description: 'The tile' })
  @ApiNoContentResponse({ description: 'Nothing visible in this tile (empty tile)' })
  @ApiResponse({ status: 304, description: 'Not modified (`If-None-Match`)' })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'z outside 0–22, or x / y outside 0 … 2^z − 1' })
  async footprints(@CurrentUser() user: AuthUser | undefined, @Param() params: TileParamsDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    this.send(await this.map.footprintsTile(params.z, params.x, params.y, user), req, res);
  }

  @Get(':z/:x/:y.mvt')
  @ApiOperation({
    summary: 'Vector tile (Mapbox Vector Tile) of the pictures the caller may see',
    description:
      'Layers by zoom: `grid` below 6 (polygons with `count`: pictures anyone may see, per cell; 16 × 16 cells per tile), ' +
      '`sequences` from 6 (lines with `id`, `title`, `date`), `pictures` from 14 (points with `id`, `heading`, `sequence_id`, ' +
      '`datetime`; a drone photo is drawn where it was taken, its footprint is in the footprints tiles). Anonymous tiles are public and cached; an authenticated caller also gets what only they may see, privately. ' +
      'A strong ETag allows conditional requests.',
  })
  @ApiProduces(MVT_CONTENT_TYPE)
  @ApiOkResponse({ description: 'The tile' })
  @ApiNoContentResponse({ description: 'Nothing visible in this tile (empty tile)' })
  @ApiResponse({ status: 304, description: 'Not modified (`If-None-Match`)' })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'z outside 0–22, or x / y outside 0 … 2^z − 1' })
  async tile(@CurrentUser() user: AuthUser | undefined, @Param() params: TileParamsDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    this.send(await this.map.tile(params.z, params.x, params.y, user), req, res);
  }

  private send(tile: Tile, req: Request, res: Response): void {
    res.setHeader('Cache-Control', tile.cacheControl);
    if (tile.vary) res.setHeader('Vary', tile.vary);
    if (!tile.body.length) {
      res.status(204).end();
      return;
    }
    res.setHeader('ETag', tile.etag);
    if (matchesIfNoneMatch(req.get('if-none-match'), tile.etag)) {
      res.status(304).end();
      return;
    }
    res.type(MVT_CONTENT_TYPE);
    res.send(tile.body);
  }
}
