import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 1000;

/** `?page=&limit=` for plain lists (STAC uses cursors instead). */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}

export class LinkDto {
  @ApiProperty() rel: string;
  @ApiProperty() href: string;
  @ApiPropertyOptional() type?: string;
  @ApiPropertyOptional() title?: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
  links: LinkDto[];
}

export function pageParams(q: PageQueryDto): { page: number; limit: number; offset: number } {
  const page = q.page ?? 1;
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  return { page, limit, offset: (page - 1) * limit };
}

/** Builds a page with `self`, `next` and `prev` links on `baseUrl` (query kept, page changed). */
export function toPage<T>(items: T[], total: number, params: { page: number; limit: number }, baseUrl: URL): Page<T> {
  const link = (rel: string, page: number): LinkDto => {
    const u = new URL(baseUrl);
    u.searchParams.set('page', String(page));
    u.searchParams.set('limit', String(params.limit));
    return { rel, href: u.toString(), type: 'application/json' };
  };
  const links = [link('self', params.page)];
  if (params.page * params.limit < total) links.push(link('next', params.page + 1));
  if (params.page > 1) links.push(link('prev', params.page - 1));
  return { items, total, page: params.page, limit: params.limit, links };
}
