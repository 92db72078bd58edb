import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsEnum, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Visibility } from '../auth/visibility.js';

export class MaintenanceQueryDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 600,
    default: 0,
    deprecated: true,
    description: 'Accepted so that older callers are not refused, and ignored: the job is answered as soon as it is created; follow its Location',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600)
  wait?: number;
}

export class RehashArgsDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Only these datasets (default: all)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10000)
  @IsUUID('all', { each: true })
  ids?: string[];

  @ApiPropertyOptional({ default: false, description: 'Report only, change nothing' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Re-read the datasets whose file changed' })
  @IsOptional()
  @IsBoolean()
  reingest?: boolean;
}

export class PruneMissingArgsDto {
  @ApiPropertyOptional({ default: false, description: 'Report only, delete nothing' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;
}

export class ResyncArgsDto {
  @ApiPropertyOptional({ default: false, description: 'Report only, register nothing' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;

  @ApiPropertyOptional({ enum: Visibility, description: 'Visibility of newly registered datasets (default: the caller’s default)' })
  @IsOptional()
  @IsEnum(Visibility)
  visibility?: Visibility;

  @ApiPropertyOptional({ description: 'Collection for new datasets: an id or a name (default: the caller’s Datasets collection)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  collection?: string;
}
