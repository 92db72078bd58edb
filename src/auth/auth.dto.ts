import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { MeDto } from './users.dto.js';

export class LoginQueryDto {
  @ApiPropertyOptional({ description: 'Local path to land on after the login', default: '/api/docs', example: '/api/docs' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  next?: string;
}

export class SessionStateDto {
  @ApiProperty() authenticated: boolean;
  @ApiPropertyOptional({ type: MeDto }) user?: MeDto;
  @ApiProperty({ example: '/api/auth/login?next=/api/docs' }) login_url: string;
  @ApiProperty({ example: '/api/auth/logout' }) logout_url: string;
}
