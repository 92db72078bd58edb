import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, Public } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { publicRequestUrl } from '../common/request-url.js';
import { AppConfig } from '../config/app-config.js';
import { StacCollectionDto } from './stac-collection.dto.js';
import { StacItemDto } from './stac-item.dto.js';
import { GEOJSON_TYPE, SCHEMA_TYPE } from './stac-links.js';
import {
  CollectionsDto,
  CollectionsQueryDto,
  ConformanceDto,
  ItemCollectionDto,
  CollectionItemsQueryDto,
  LandingPageDto,
  QueryablesDto,
  SearchBodyDto,
  SearchQueryDto,
} from './stac-search.dto.js';
import { StacService } from './stac.service.js';
import { badRequest, searchFromBody, searchFromQuery } from './search-request.js';

const BAD_REQUEST = { description: 'A parameter is malformed; `message` names it (and `details.position` locates a CQL2 syntax error)', type: ErrorResponseDto };
const NOT_FOUND = { description: 'No such collection or item, or the caller may not see it', type: ErrorResponseDto };

/**
 * STAC API 1.0.0 under /api. Every route is public: anonymous callers see public content,
 * authenticated callers also what their visibility allows.
 */
@ApiTags('stac')
@Public()
@Controller()
export class StacController {
  constructor(
    private readonly stac: StacService,
    private readonly config: AppConfig,
  ) {}

  private url(req: Request): URL {
    return publicRequestUrl(this.config.PUBLIC_URL, req);
  }

  @Get()
  @ApiOperation({ summary: 'STAC landing page', description: 'The root catalog: conformance classes and links to everything else.' })
  @ApiOkResponse({ type: LandingPageDto })
  landingPage(@CurrentUser() user: AuthUser | undefined) {
    return this.stac.landingPage(user);
  }

  @Get('conformance')
  @ApiOperation({ summary: 'Conformance classes the API implements' })
  @ApiOkResponse({ type: ConformanceDto })
  conformance() {
    return this.stac.conformance();
  }

  @Get('queryables')
  @ApiOperation({
    summary: 'Queryables of item search',
    description: 'JSON Schema of the names usable in `filter` and `sortby` of /search: the core fields and the properties that items the caller may see carry.',
  })
  @ApiProduces(SCHEMA_TYPE)
  @ApiOkResponse({ type: QueryablesDto })
  async queryables(@CurrentUser() user: AuthUser | undefined, @Res({ passthrough: true }) res: Response) {
    const doc = await this.stac.itemQueryables(user);
    res.type(SCHEMA_TYPE);
    return doc;
  }

  @Get('collections-queryables')
  @ApiOperation({ summary: 'Queryables of collection search', description: 'Names usable in `filter` and `sortby` of GET /collections.' })
  @ApiProduces(SCHEMA_TYPE)
  @ApiOkResponse({ type: QueryablesDto })
  collectionSearchQueryables(@Res({ passthrough: true }) res: Response) {
    res.type(SCHEMA_TYPE);
    return this.stac.collectionSearchQueryables();
  }

  @Get('collections')
  @ApiOperation({
    summary: 'Collections, with collection search',
    description: 'Filter by `bbox`, `datetime`, free text `q` (title, description, keywords) and CQL2 `filter`; sort with `sortby`; page with the `next`/`prev` links.',
  })
  @ApiOkResponse({ type: CollectionsDto })
  @ApiBadRequestResponse(BAD_REQUEST)
  collections(@Query() query: CollectionsQueryDto, @CurrentUser() user: AuthUser | undefined, @Req() req: Request) {
    const search = searchFromQuery(query as Record<string, unknown>);
    return this.stac.searchCollections(search, user, { method: 'GET', url: this.url(req) });
  }

  @Get('collections/:collectionId')
  @ApiOperation({ summary: 'A collection' })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiOkResponse({ type: StacCollectionDto })
  @ApiNotFoundResponse(NOT_FOUND)
  collection(@Param('collectionId') collectionId: string, @CurrentUser() user: AuthUser | undefined) {
    return this.stac.getCollection(collectionId, user);
  }

  @Get('collections/:collectionId/queryables')
  @ApiOperation({
    summary: 'Queryables of the items of a collection',
    description: 'The core item fields plus the properties its items carry (including those its summaries describe).',
  })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiProduces(SCHEMA_TYPE)
  @ApiOkResponse({ type: QueryablesDto })
  @ApiNotFoundResponse(NOT_FOUND)
  async collectionQueryables(@Param('collectionId') collectionId: string, @CurrentUser() user: AuthUser | undefined, @Res({ passthrough: true }) res: Response) {
    const doc = await this.stac.collectionQueryables(collectionId, user);
    res.type(SCHEMA_TYPE);
    return doc;
  }

  @Get('collections/:collectionId/items')
  @ApiOperation({
    summary: 'Items of a collection',
    description: 'In sequence order by default. Same filters as /search (bbox, datetime, filter, q), sortby, fields; paging with `next`/`prev`.',
  })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiProduces(GEOJSON_TYPE)
  @ApiOkResponse({ type: ItemCollectionDto })
  @ApiBadRequestResponse(BAD_REQUEST)
  @ApiNotFoundResponse(NOT_FOUND)
  async items(
    @Param('collectionId') collectionId: string,
    @Query() query: CollectionItemsQueryDto,
    @CurrentUser() user: AuthUser | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { collections, ...rest } = query;
    const others =
      collections === undefined
        ? []
        : String(collections)
            .split(',')
            .map((c) => c.trim())
            .filter((c) => c && c !== collectionId);
    if (others.length) {
      throw badRequest(
        'collections',
        `names ${others.map((c) => JSON.stringify(c)).join(', ')}: this route lists the items of ${collectionId} only; search several collections with /search`,
      );
    }
    const search = searchFromQuery(rest as Record<string, unknown>);
    const page = await this.stac.collectionItems(collectionId, search, user, { method: 'GET', url: this.url(req) });
    res.type(GEOJSON_TYPE);
    return page;
  }

  @Get('collections/:collectionId/items/:itemId')
  @ApiOperation({ summary: 'An item' })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiParam({ name: 'itemId', format: 'uuid' })
  @ApiProduces(GEOJSON_TYPE)
  @ApiOkResponse({ type: StacItemDto })
  @ApiNotFoundResponse(NOT_FOUND)
  async item(@Param('collectionId') collectionId: string, @Param('itemId') itemId: string, @CurrentUser() user: AuthUser | undefined, @Res({ passthrough: true }) res: Response) {
    const item = await this.stac.getItem(collectionId, itemId, user);
    res.type(GEOJSON_TYPE);
    return item;
  }

  @Get('search')
  @ApiOperation({
    summary: 'Item search (GET)',
    description:
      'bbox or intersects, datetime, ids, collections, CQL2 filter (text by default), q, sortby, fields; `limit` defaults to 10 and is clamped to 10000. ' +
      '`numberMatched` is exact up to 10000 matches, an estimate above (then `numberMatchedEstimated` is true).',
  })
  @ApiProduces(GEOJSON_TYPE)
  @ApiOkResponse({ type: ItemCollectionDto })
  @ApiBadRequestResponse(BAD_REQUEST)
  async searchGet(@Query() query: SearchQueryDto, @CurrentUser() user: AuthUser | undefined, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const search = searchFromQuery(query as Record<string, unknown>);
    const page = await this.stac.search(search, user, { method: 'GET', url: this.url(req) });
    res.type(GEOJSON_TYPE);
    return page;
  }

  @Post('search')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Item search (POST)',
    description: 'The parameters of GET /search as JSON; `filter` is CQL2 JSON by default. Paging links carry `method: POST` and the `body` to send.',
  })
  @ApiBody({ type: SearchBodyDto, required: false })
  @ApiProduces(GEOJSON_TYPE)
  @ApiOkResponse({ type: ItemCollectionDto })
  @ApiBadRequestResponse(BAD_REQUEST)
  async searchPost(@Body() body: SearchBodyDto, @CurrentUser() user: AuthUser | undefined, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const raw = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const search = searchFromBody((body ?? {}) as Record<string, unknown>);
    const page = await this.stac.search(search, user, { method: 'POST', url: this.url(req), body: raw });
    res.type(GEOJSON_TYPE);
    return page;
  }
}
