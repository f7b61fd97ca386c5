import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/**
 * The query of every cursor-paged list (`cursor`, `limit`; see cursor.ts), checked at the
 * gateway and again by the service behind it. A class per bound rather than one class,
 * because class-validator keeps a parent's `@Max` beside a subclass's: admin lists page
 * up to 500 items, the public ones up to 200.
 */
export function PageQuery(maxLimit: number) {
  class PageQuery {
    @ApiPropertyOptional({ description: 'Opaque cursor from the previous page (`nextCursor`)', maxLength: 300 })
    @IsOptional()
    @IsString()
    @MaxLength(300)
    cursor?: string;

    @ApiPropertyOptional({ minimum: 1, maximum: maxLimit, default: 50 })
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Min(1)
    @Max(maxLimit)
    limit?: number;
  }
  return PageQuery;
}

/** `?cursor=&limit=` of the public list routes: up to 200 items a page. */
export class PageQueryDto extends PageQuery(200) {}

/** The same for administrators' lists (requests, audit, dead letters): up to 500 a page. */
export class AdminPageQueryDto extends PageQuery(500) {}
