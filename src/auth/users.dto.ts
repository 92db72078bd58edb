import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { LinkDto, PageQueryDto } from '../common/pagination.js';
import type { AuthUser, Role } from './auth.types.js';
import type { User } from './user.entity.js';
import { Visibility, VISIBILITIES } from './visibility.js';

const ROLES: Role[] = ['user', 'admin'];

/** What anyone may know of a user. */
export class PublicUserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'alice' }) name: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

/** A user as they see themselves, and as administrators see them. */
export class UserDto extends PublicUserDto {
  @ApiProperty({ type: String, nullable: true, example: 'alice@example.org' }) email: string | null;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ enum: Visibility, description: 'Visibility given to new content when the upload does not say' }) default_visibility: Visibility;
}

export class MeDto extends UserDto {
  @ApiProperty({ enum: ['session', 'api-token', 'oidc-token'], description: 'How this request was authenticated' })
  authenticated_via: AuthUser['via'];
}

export class UpdateMeDto {
  @ApiPropertyOptional({ enum: Visibility })
  @IsOptional()
  @IsIn(VISIBILITIES)
  default_visibility?: Visibility;
}

export class UpdateUserDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

export class UsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Part of the name, case-insensitive', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

type UserFields = Pick<User, 'id' | 'name' | 'email' | 'role' | 'defaultVisibility' | 'createdAt'>;

export function toPublicUserDto(user: Pick<User, 'id' | 'name' | 'createdAt'>): PublicUserDto {
  return { id: user.id, name: user.name, created_at: user.createdAt.toISOString() };
}

export function toUserDto(user: UserFields): UserDto {
  return { ...toPublicUserDto(user), email: user.email, role: user.role, default_visibility: user.defaultVisibility };
}

export function toMeDto(user: UserFields, via: AuthUser['via']): MeDto {
  return { ...toUserDto(user), authenticated_via: via };
}
