import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error-response.js';
import { Authenticated, CurrentUser } from './auth.decorators.js';
import type { AuthUser } from './auth.types.js';
import { CreateTokenDto, TokenDto, TokenWithJwtDto, toTokenDto, toTokenWithJwtDto } from './tokens.dto.js';
import { TokensService } from './tokens.service.js';

@ApiTags('tokens')
@Authenticated()
@Controller('users/me/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @ApiOperation({ summary: 'Your API tokens (without their JWT)' })
  @ApiOkResponse({ type: [TokenDto] })
  async list(@CurrentUser() caller: AuthUser): Promise<TokenDto[]> {
    return (await this.tokens.list(caller.id)).map(toTokenDto);
  }

  @Post()
  @ApiOperation({ summary: 'Create an API token for scripts', description: 'Send the returned `jwt` as `Authorization: Bearer <jwt>`.' })
  @ApiCreatedResponse({ type: TokenWithJwtDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  async create(@CurrentUser() caller: AuthUser, @Body() body: CreateTokenDto): Promise<TokenWithJwtDto> {
    const { token, jwt } = await this.tokens.create(caller.id, body.description ?? '', body.expires_at ?? null);
    return toTokenWithJwtDto(token, jwt);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of your API tokens, with its JWT' })
  @ApiOkResponse({ type: TokenWithJwtDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@CurrentUser() caller: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<TokenWithJwtDto> {
    const token = await this.tokens.get(caller.id, id);
    return toTokenWithJwtDto(token, await this.tokens.sign(token));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of your API tokens', description: 'Refused everywhere within one second.' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async revoke(@CurrentUser() caller: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.tokens.revoke(caller.id, id);
  }
}
