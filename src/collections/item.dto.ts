import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEnum,
  IsIn,
  IsNumber,
  IsObject,
  IsOptional,
  IsRFC3339,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { Visibility } from '../auth/visibility.js';
import { LinkDto } from '../common/pagination.js';
import type { Geometry } from '../database/geometry.js';
import type { Item } from '../catalog/catalog.types.js';

const defined = (_: object, value: unknown) => value !== undefined;

/** `[longitude, latitude]` (an optional third number, the altitude, is accepted) within WGS 84 bounds. */
function IsLonLat(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isLonLat',
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v)) && Math.abs(value[0] as number) <= 180 && Math.abs(value[1] as number) <= 90,
        defaultMessage: () => '$property must be [longitude, latitude] with longitude in [-180, 180] and latitude in [-90, 90]',
      },
    },
    options,
  );
}

export class PointDto {
  @ApiProperty({ enum: ['Point'] })
  @IsIn(['Point'])
  type: 'Point';

  @ApiProperty({ type: [Number], example: [2.3522, 48.8566], description: '[longitude, latitude] in WGS 84' })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(3)
  @IsLonLat()
  coordinates: number[];
}

export class PatchItemDto {
  @ApiPropertyOptional({
    type: Number,
    minimum: 0,
    maximum: 360,
    nullable: true,
    example: 135,
    description: 'Heading in degrees clockwise from north (`view:azimuth`); null lets the server derive it from the sequence path',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(360)
  heading?: number | null;

  @ApiPropertyOptional({ enum: Visibility })
  @ValidateIf(defined)
  @IsEnum(Visibility)
  visibility?: Visibility;

  @ApiPropertyOptional({ example: '2024-05-01T10:15:30Z', description: 'Capture time, RFC 3339 with a time zone (the STAC `datetime`)' })
  @ValidateIf(defined)
  @IsRFC3339()
  capture_time?: string;

  @ApiPropertyOptional({ type: PointDto, description: 'Position, a GeoJSON Point' })
  @ValidateIf(defined)
  @IsObject({ message: 'position must be a GeoJSON Point object' })
  @ValidateNested()
  @Type(() => PointDto)
  position?: PointDto;
}

export class ItemDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) collection_id: string;
  @ApiProperty({ enum: ['picture', 'dataset', 'harvested'] }) kind: string;
  @ApiProperty({ example: 'ready' }) status: string;
  @ApiProperty({ enum: Visibility }) visibility: Visibility;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) owner_id: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Position in the sequence (1-based)' }) rank: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Capture time' }) datetime: string | null;
  @ApiProperty({ nullable: true, description: 'GeoJSON geometry', type: Object }) geometry: Geometry | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Degrees clockwise from north' }) heading: number | null;
  @ApiProperty({ description: 'True when the server derived the heading from the sequence path' }) heading_computed: boolean;
  @ApiProperty({ type: Object, description: 'STAC properties' }) properties: Record<string, unknown>;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;
  @ApiProperty({ type: [LinkDto], description: '`self`: the STAC item' }) links: LinkDto[];
}

export function toItemDto(i: Item, publicUrl: string): ItemDto {
  const heading = i.properties?.['view:azimuth'];
  return {
    id: i.id,
    collection_id: i.collectionId,
    kind: i.kind,
    status: i.status,
    visibility: i.visibility,
    owner_id: i.ownerId,
    rank: i.rank,
    datetime: i.datetime?.toISOString() ?? null,
    geometry: i.geom,
    heading: typeof heading === 'number' ? heading : null,
    heading_computed: i.properties?.['sightline:heading_computed'] === true,
    properties: i.properties,
    created_at: i.createdAt.toISOString(),
    updated_at: i.updatedAt.toISOString(),
    links: [
      {
        rel: 'self',
        href: `${publicUrl.replace(/\/$/, '')}/api/collections/${i.collectionId}/items/${i.id}`,
        type: 'application/geo+json',
        title: 'The STAC item',
      },
    ],
  };
}
