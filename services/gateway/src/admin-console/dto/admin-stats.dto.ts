import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';

/**
 * `GET /admin/stats` (AdminStats in @flotilla/contracts, admin.ts), described for the
 * OpenAPI document: counts keyed by the statuses that exist, so each map is a closed object.
 */
const COUNT = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const NULLABLE_COUNT = { ...COUNT, nullable: true } as const;

/** Counts by `keys`: a key is absent when nothing has that status. */
function countsBy(keys: readonly string[], description: string): ApiPropertyOptions {
  return { type: 'object', description, additionalProperties: false, properties: Object.fromEntries(keys.map((k) => [k, { ...COUNT }])) };
}

const JOB = ['queued', 'running', 'passed', 'failed', 'error'];

export class VoteCountsDto {
  @ApiProperty(COUNT) total!: number;
  @ApiProperty(COUNT) polls!: number;
}

export class QueueFiguresDto {
  @ApiProperty({ ...NULLABLE_COUNT, description: "Messages waiting in the validator's queue; null when it could not be read" }) validation!: number | null;
  @ApiProperty({ ...NULLABLE_COUNT, description: 'Votes not yet delivered to the consumers' }) voteStreamLag!: number | null;
  @ApiProperty({ ...NULLABLE_COUNT, description: 'Votes delivered but not yet acknowledged' }) voteStreamPending!: number | null;
  @ApiProperty(COUNT) deadLetters!: number;
}

export class RequestFiguresDto {
  @ApiProperty(COUNT) lastHour!: number;
  @ApiProperty({ ...COUNT, description: '5xx answers in the last hour' }) errors!: number;
  @ApiProperty({ minimum: 0, maximum: 1, description: 'errors / lastHour, four decimals' }) errorRate!: number;
  @ApiProperty({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Over the last minute' }) perSecond!: number;
}

export class AdminStatsDto {
  @ApiProperty({ format: 'date-time' }) generatedAt!: string;
  @ApiProperty(COUNT) users!: number;
  @ApiProperty(COUNT) teams!: number;
  @ApiProperty(countsBy(['pending', ...JOB], 'Datasets by status')) datasets!: Record<string, number>;
  @ApiProperty(countsBy(JOB, 'Validation jobs by status')) validations!: Record<string, number>;
  @ApiProperty({ type: VoteCountsDto }) votes!: VoteCountsDto;
  @ApiProperty(countsBy(['provisioning', 'ready', 'updating', 'degraded', 'failed', 'deleting'], 'Stores by status')) stores!: Record<string, number>;
  @ApiProperty(countsBy(['waiting', 'active', 'delayed', 'failed', 'completed'], "The provisioner's jobs by state")) jobs!: Record<string, number>;
  @ApiProperty({ type: QueueFiguresDto }) queues!: QueueFiguresDto;
  @ApiProperty({ type: RequestFiguresDto }) requests!: RequestFiguresDto;
  @ApiProperty({
    type: [String],
    maxItems: 8,
    items: { type: 'string', enum: ['datasets', 'validations', 'votes', 'stores', 'validation queue', 'vote stream'] },
    description: 'Figures that could not be gathered (a service down)',
  })
  unavailable!: string[];
}
