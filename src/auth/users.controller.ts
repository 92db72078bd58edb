import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Query, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ErrorResponseDto } from '../common/error-response.js';
import { pageParams, toPage } from '../common/pagination.js';
import { publicRequestUrl } from '../common/request-url.js';
import { AppConfig } from '../config/app-config.js';
import { Authenticated, CurrentUser, Public } from './auth.decorators.js';
import type { AuthUser } from './auth.types.js';
import { MeDto, PublicUserDto, toMeDto, toPublicUserDto, toUserDto, UpdateMeDto, UpdateUserDto, UserDto, UserPageDto, UsersQueryDto } from './users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  @Authenticated()
  @Get('me')
  @ApiOperation({ summary: 'Who you are' })
  @ApiOkResponse({ type: MeDto })
  async me(@CurrentUser() caller: AuthUser): Promise<MeDto> {
    return toMeDto(await this.users.getById(caller.id), caller.via);
  }

  @Authenticated()
  @Patch('me')
  @ApiOperation({ summary: 'Change your settings (default visibility of new content)' })
  @ApiOkResponse({ type: MeDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  async updateMe(@CurrentUser() caller: AuthUser, @Body() body: UpdateMeDto): Promise<MeDto> {
    const user = body.default_visibility ? await this.users.setDefaultVisibility(caller.id, body.default_visibility) : await this.users.getById(caller.id);
    return toMeDto(user, caller.via);
  }

  @Authenticated({ role: 'admin' })
  @Get()
  @ApiOperation({ summary: 'List users (admin), by name; `q` searches names' })
  @ApiOkResponse({ type: UserPageDto })
  async list(@Query() query: UsersQueryDto, @Req() req: Request): Promise<UserPageDto> {
    const params = pageParams(query);
    const { users, total } = await this.users.search(query.q, params.limit, params.offset);
    return toPage(users.map(toUserDto), total, params, publicRequestUrl(this.config.PUBLIC_URL, req));
  }

  @Public()
  @Get(':id')
  @ApiOperation({ summary: 'Public profile of a user' })
  @ApiOkResponse({ type: PublicUserDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async profile(@Param('id', ParseUUIDPipe) id: string): Promise<PublicUserDto> {
    return toPublicUserDto(await this.users.getById(id));
  }

  @Authenticated({ role: 'admin' })
  @Patch(':id')
  @ApiOperation({ summary: "Change a user's role (admin)" })
  @ApiOkResponse({ type: UserDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async update(@Param('id', ParseUUIDPipe) id: string, @Body() body: UpdateUserDto, @CurrentUser() caller: AuthUser): Promise<UserDto> {
    return toUserDto(await this.users.setRole(caller, id, body.role));
  }
}
