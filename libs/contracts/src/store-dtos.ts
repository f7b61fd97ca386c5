import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, MaxLength, ValidateBy, ValidateNested } from 'class-validator';
import { AnalysisOnNoData, RolloutStrategies, StoreTemplates, type RolloutStep } from './stores.js';

/** A step's form (a whole number, or `{weight, pause?}` with nothing else); its values are the provisioner's to judge (422). */
function isRolloutStepShape(value: unknown): value is RolloutStep {
  if (Number.isInteger(value)) return true;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { weight, pause, ...rest } = value as Record<string, unknown>;
  return Number.isInteger(weight) && (pause === undefined || (typeof pause === 'string' && pause.length <= 20)) && Object.keys(rest).length === 0;
}

/**
 * The shapes of the store requests, checked at the gateway (400 when malformed) and
 * again by `provisioner` on its RPC. What is well-formed but not allowed — a bad
 * name, template, version, replica count or canary step — is the provisioner's 422.
 */
/** The OpenAPI schema of a rollout's `steps` (requests and answers alike). */
export const ROLLOUT_STEPS_SCHEMA: ApiPropertyOptions = {
  type: 'array',
  items: {
    oneOf: [
      { type: 'integer', minimum: 1, maximum: 100 },
      {
        type: 'object',
        required: ['weight'],
        additionalProperties: false,
        properties: {
          weight: { type: 'integer', minimum: 1, maximum: 100 },
          pause: { type: 'string', maxLength: 20, pattern: '^(indefinite|[0-9]+(ms|s|m|h))$', description: 'How long the step holds once its pods are ready, or `indefinite` (until promoted)' },
        },
      },
    ],
  },
  maxItems: 100,
  description: 'Canary: percent of traffic to the new revision at each step, increasing, ending at 100 (at most 10 steps); a step may say how long it pauses',
  example: [{ weight: 10, pause: '30s' }, { weight: 50, pause: 'indefinite' }, { weight: 100 }],
};

/** Canary analysis; its values (a duration, a condition that parses) are the provisioner's to judge (422). */
export class RolloutAnalysisDto {
  @ApiProperty({ description: 'How often a step is measured, over that long: a duration such as 10s or 1m', example: '10s', maxLength: 20 })
  @IsString()
  @MaxLength(20)
  interval: string;

  @ApiProperty({
    description: 'When a measurement passes: `errorRate` (0 to 1) and `p95Ms` compared with numbers by <, <=, >, >=, joined by && and ||, with parentheses',
    example: 'errorRate < 0.01 && p95Ms < 500',
    maxLength: 200,
  })
  @IsString()
  @MaxLength(200)
  successCondition: string;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100, description: 'Failing measurements in a step (at least one) that roll the rollout back', example: 2 })
  @IsInt()
  failureLimit: number;

  @ApiProperty({ enum: AnalysisOnNoData, description: 'A measurement without data or with an error never passes: `pause` pauses the rollout, `fail` counts it as a failure' })
  @IsString()
  @MaxLength(20)
  onNoData: string;
}

export class RolloutDto {
  @ApiProperty({ enum: RolloutStrategies })
  @IsString()
  @MaxLength(40)
  strategy: string;

  @ApiPropertyOptional(ROLLOUT_STEPS_SCHEMA)
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateBy({ name: 'isRolloutStep', validator: { validate: isRolloutStepShape, defaultMessage: () => 'each step must be a whole percentage or {weight, pause?}' } }, { each: true })
  steps?: RolloutStep[];

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 3600, description: 'BlueGreen: seconds the old revision stays scaled after the switch, so an abort in that window is instant', example: 30 })
  @IsOptional()
  @IsInt()
  scaleDownDelaySeconds?: number;

  @ApiPropertyOptional({ type: RolloutAnalysisDto, description: 'Canary: each step judged by the new revision\'s error rate and latency' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RolloutAnalysisDto)
  analysis?: RolloutAnalysisDto;
}

export class UpdateStoreDto {
  @ApiPropertyOptional({ description: 'Image tag of the store application', example: '6.6' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  version?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 20, example: 2 })
  @IsOptional()
  @IsInt()
  replicas?: number;

  @ApiPropertyOptional({ type: RolloutDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RolloutDto)
  rollout?: RolloutDto;
}

export class CreateStoreDto extends UpdateStoreDto {
  @ApiProperty({ description: '2–40 characters: lower-case letters, digits, hyphens; the namespace is store-{name}', example: 'acme-shop' })
  @IsString()
  @MaxLength(200)
  name: string;

  @ApiProperty({ enum: StoreTemplates })
  @IsString()
  @MaxLength(40)
  template: string;
}

export class ChaosRequestDto {
  @ApiProperty({ minimum: 0, maximum: 100, description: 'How many of the store\'s pods to kill (1 to 100; 0 only with holdPods)' })
  @IsInt()
  killPods: number;

  @ApiPropertyOptional({
    description:
      'Simulated cluster only: true keeps the store\'s pods from being scheduled (they stay Pending, Unschedulable) until a call with false; with killPods the store loses its pods and cannot get them back, to watch its health go down',
  })
  @IsOptional()
  @IsBoolean()
  holdPods?: boolean;
}

export class StoreLoadRequestDto {
  @ApiProperty({
    minimum: 0,
    maximum: 1000,
    description: "Simulated cluster only: the CPU the store's pods use from now on, in percent of each pod's CPU request at the replica count they have now (more pods then each use less), so autoscaling can be watched",
  })
  @IsInt()
  cpuPercent: number;
}

/** `POST /stores/{id}/rollout/promote`: `full` skips the remaining steps and pauses. */
export class RolloutActionDto {
  @ApiPropertyOptional({ description: 'promote only: go to 100% at once, skipping the remaining steps and pauses', example: false })
  @IsOptional()
  @IsBoolean()
  full?: boolean;
}
