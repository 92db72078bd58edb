import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

export const MAX_ZOOM = 22;

export class TileParamsDto {
  @ApiProperty({ minimum: 0, maximum: MAX_ZOOM, example: 14 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_ZOOM)
  z: number;

  @ApiProperty({ minimum: 0, description: 'Column, 0 ≤ x < 2^z', example: 8299 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  x: number;

  @ApiProperty({ minimum: 0, description: 'Row from the north, 0 ≤ y < 2^z', example: 5634 })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  y: number;
}
