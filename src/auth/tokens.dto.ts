import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsOptional, IsString, MaxLength, MinDate } from 'class-validator';
import { LinkDto } from '../common/pagination.js';
import type { ApiToken } from './api-token.entity.js';

export class CreateTokenDto {
  @ApiPropertyOptional({ example: 'upload script on the drone laptop', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the token stops working (default: never)' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @MinDate(() => new Date(), { message: 'expires_at must be in the future' })
  expires_at?: Date;
}

export class TokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() description: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Last use, to the minute' }) last_used_at: string | null;
}

export class TokenWithJwtDto extends TokenDto {
  @ApiProperty({ description: 'Send it as `Authorization: Bearer <jwt>`' }) jwt: string;
}

export class ClaimableTokenDto extends TokenDto {
  @ApiProperty({ description: 'Whether the token acts as you already' }) claimed: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'The claim stops being possible after this' }) claim_before: string | null;
  @ApiProperty({ description: 'POST here (logged in) to claim the token' }) claim_href: string;
}

export class GenerateTokenQueryDto {
  @ApiPropertyOptional({ description: 'What the token is for, shown on the claim page', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class GeneratedTokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() description: string;
  @ApiProperty({ description: 'Refused (401) until a logged-in person claims it; then it acts as them' }) jwt: string;
  @ApiProperty({ format: 'date-time', description: 'The claim link stops working after this' }) claim_before: string;
  @ApiProperty({ description: 'Open it in a browser, logged in, to claim the token' }) claim_url: string;
  @ApiProperty({ type: [LinkDto] }) links: LinkDto[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toTokenDto(token: ApiToken): TokenDto {
  return {
    id: token.id,
    description: token.description,
    created_at: token.createdAt.toISOString(),
    expires_at: iso(token.expiresAt),
    last_used_at: iso(token.lastUsedAt),
  };
}

export function toClaimableTokenDto(token: ApiToken, claimed: boolean, claimBefore: Date | null, href: string): ClaimableTokenDto {
  return { ...toTokenDto(token), claimed, claim_before: iso(claimBefore), claim_href: href };
}

export function toTokenWithJwtDto(token: ApiToken, jwt: string): TokenWithJwtDto {
  return { ...toTokenDto(token), jwt };
}
