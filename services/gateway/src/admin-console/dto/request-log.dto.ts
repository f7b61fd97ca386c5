import { ApiProperty } from '@nestjs/swagger';

/**
 * `GET /admin/requests` (RequestRecord in @flotilla/contracts, admin.ts), described for the
 * OpenAPI document. The admin service cuts each field as it stores it (request-log.ts):
 * method 16, route 500, path 2000, ip 100, request id 200, user agent 512; a page holds at
 * most `limit` (AdminPageQueryDto: 500).
 */
const COUNT = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export class RequestRecordDto {
  @ApiProperty({ maxLength: 64, description: "The gateway's entry id (a UUID), or the stream id of older entries" }) id!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ maxLength: 16, example: 'POST' }) method!: string;
  @ApiProperty({ maxLength: 500, example: '/api/v1/polls/:pollId/votes' }) route!: string;
  @ApiProperty({ maxLength: 2000, example: '/api/v1/polls/cats-vs-dogs/votes' }) path!: string;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 599 }) status!: number;
  @ApiProperty({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) durationMs!: number;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) userId!: string | null;
  @ApiProperty({ maxLength: 100 }) ip!: string;
  @ApiProperty({ maxLength: 200 }) correlationId!: string;
  @ApiProperty({ maxLength: 512 }) userAgent!: string;
  @ApiProperty(COUNT) requestBytes!: number;
  @ApiProperty(COUNT) responseBytes!: number;
}

export class RequestPageDto {
  @ApiProperty({ type: [RequestRecordDto], maxItems: 500 }) items!: RequestRecordDto[];
  @ApiProperty({ type: String, nullable: true, maxLength: 300 }) nextCursor!: string | null;
}
