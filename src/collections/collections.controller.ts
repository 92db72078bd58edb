import { Body, Controller, Delete, HttpCode, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../auth/auth.decorators.js';
import type { AuthUser } from '../auth/auth.types.js';
import { ErrorResponseDto } from '../common/error-response.js';
import { CollectionEditingService } from './collection-editing.service.js';
import { CollectionDto, PatchCollectionDto } from './collection.dto.js';
import { ItemDto, PatchItemDto } from './item.dto.js';

const uuid = new ParseUUIDPipe({ version: 'all' });

/** Editing and deleting collections and items; reading them is the STAC API's job. */
@ApiTags('collections')
@Authenticated()
@ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such collection or item, or the caller may not see it' })
@ApiForbiddenResponse({ type: ErrorResponseDto, description: 'The caller sees it but is neither its owner nor an administrator' })
@Controller('collections')
export class CollectionsController {
  constructor(private readonly editing: CollectionEditingService) {}

  @Patch(':collectionId')
  @ApiOperation({ summary: 'Change a collection: title, description, visibility; for sequences the relative heading and the order of the pictures' })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiOkResponse({ type: CollectionDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid or unknown field, empty patch, or a sequence-only field on another kind' })
  patchCollection(@CurrentUser() user: AuthUser, @Param('collectionId', uuid) id: string, @Body() body: PatchCollectionDto): Promise<CollectionDto> {
    return this.editing.patchCollection(user, id, body);
  }

  @Delete(':collectionId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a collection and its items; their files are removed in the background' })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Deleted: the collection and its items are gone from every listing now' })
  deleteCollection(@CurrentUser() user: AuthUser, @Param('collectionId', uuid) id: string): Promise<void> {
    return this.editing.deleteCollection(user, id);
  }

  @Patch(':collectionId/items/:itemId')
  @ApiOperation({ summary: 'Change an item: heading, visibility, capture time, position' })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiParam({ name: 'itemId', format: 'uuid' })
  @ApiOkResponse({ type: ItemDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid or unknown field, or an empty patch' })
  patchItem(@CurrentUser() user: AuthUser, @Param('collectionId', uuid) collectionId: string, @Param('itemId', uuid) itemId: string, @Body() body: PatchItemDto): Promise<ItemDto> {
    return this.editing.patchItem(user, collectionId, itemId, body);
  }

  @Delete(':collectionId/items/:itemId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an item; its files are removed in the background, the sequence closes the gap' })
  @ApiParam({ name: 'collectionId', format: 'uuid' })
  @ApiParam({ name: 'itemId', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Deleted' })
  deleteItem(@CurrentUser() user: AuthUser, @Param('collectionId', uuid) collectionId: string, @Param('itemId', uuid) itemId: string): Promise<void> {
    return this.editing.deleteItem(user, collectionId, itemId);
  }
}
