import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLLOUT_STEPS_SCHEMA, RolloutStrategies, STORE_NAME_MAX, STORE_NAME_PATTERN, StoreTemplates, type RolloutStep } from '@flotilla/contracts';

/**
 * The stores API's answers (types in @flotilla/contracts, stores.ts), described for the
 * OpenAPI document. Bounds come from what produced each value: the store's validation (name,
 * version of 200, 1 to 20 replicas, canary steps), Kubernetes (a namespace is a DNS label of
 * 63), the provisioner's limits (MAX_STORES at most 200 by default, 500 events, 100 health
 * transitions). Text the platform writes itself (errors, reasons, event messages) has no
 * bound to state: .spectral.yaml says so beside each.
 */
const STATUSES = ['provisioning', 'ready', 'updating', 'degraded', 'failed', 'deleting'];
const HEALTH = ['up', 'down', 'unknown'];
const REVISION = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export class RolloutViewDto {
  @ApiProperty({ enum: RolloutStrategies }) strategy!: string;
  @ApiPropertyOptional(ROLLOUT_STEPS_SCHEMA)
  steps?: RolloutStep[];
}

/** Where a running rollout stands (`Store.rollout`). */
export class RolloutStateDto {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 10, description: 'The current step, 1-based' }) step!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 10 }) steps!: number;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100, description: "The new revision's share of traffic now, in percent" }) weight!: number;
  @ApiProperty({ description: 'Held by pause until resumed' }) paused!: boolean;
  @ApiProperty({ type: String, enum: ['ready', 'pause', 'promote'], nullable: true, description: "What the step waits for: its pods to be ready, its pause to end, or a promote (an `indefinite` pause)" })
  waiting!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When a timed pause ends' }) until!: string | null;
}

export class StoreDesiredDto {
  @ApiProperty({ maxLength: 200, example: '6.6' }) version!: string;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 20 }) replicas!: number;
  @ApiProperty({ type: RolloutViewDto }) rollout!: RolloutViewDto;
}

export class StoreObservedDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100 }) readyReplicas!: number;
  @ApiProperty({ ...REVISION, nullable: true }) revision!: number | null;
}

export class StoreHealthSummaryDto {
  @ApiProperty({ enum: HEALTH }) status!: string;
  @ApiProperty({ type: String, nullable: true, description: 'What blocks while down' }) reason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) since!: string | null;
}

export class StoreDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ maxLength: STORE_NAME_MAX, pattern: STORE_NAME_PATTERN.source, example: 'acme-shop' }) name!: string;
  @ApiProperty({ enum: StoreTemplates }) template!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiPropertyOptional({ description: 'Why it is failed or degraded' }) error?: string;
  @ApiProperty({ maxLength: 63, example: 'store-acme-shop' }) namespace!: string;
  @ApiProperty({ maxLength: 2048, description: 'Where the store answers', example: 'http://acme-shop.stores.localhost' }) url!: string;
  @ApiProperty(REVISION) revision!: number;
  @ApiProperty({ type: StoreDesiredDto }) desired!: StoreDesiredDto;
  @ApiProperty({ type: StoreObservedDto }) observed!: StoreObservedDto;
  @ApiProperty({ type: StoreHealthSummaryDto }) health!: StoreHealthSummaryDto;
  @ApiPropertyOptional({ type: RolloutStateDto, description: 'The rollout in progress, while the store is updating to a new revision' }) rollout?: RolloutStateDto;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) readyAt?: string;
}

export class StoreListDto {
  @ApiProperty({ type: [StoreDto], maxItems: 10_000, description: "The team's stores (the platform holds at most MAX_STORES)" }) items!: StoreDto[];
}

export class StorePodDto {
  @ApiProperty({ maxLength: 253, description: 'A Kubernetes object name' }) name!: string;
  @ApiProperty({ enum: ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] }) phase!: string;
  @ApiProperty() ready!: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) restarts!: number;
  @ApiProperty(REVISION) revision!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt!: string | null;
  @ApiPropertyOptional({ description: 'Why it is not running or not ready' }) reason?: string;
}

export class StorePodListDto {
  @ApiProperty({ type: [StorePodDto], maxItems: 1000, description: 'At most 20 replicas of two revisions and their databases: far below the bound' }) items!: StorePodDto[];
}

export class StoreEventDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ maxLength: 100, example: 'store.ready' }) type!: string;
  @ApiProperty({ description: 'What happened' }) message!: string;
}

export class StoreEventListDto {
  @ApiProperty({ type: [StoreEventDto], maxItems: 500, description: 'The latest 500, oldest first' }) items!: StoreEventDto[];
}

export class StoreHealthTransitionDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ enum: HEALTH }) from!: string;
  @ApiProperty({ enum: ['up', 'down'] }) to!: string;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
}

export class StoreHealthDto {
  @ApiProperty({ enum: HEALTH }) status!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) since!: string | null;
  @ApiProperty({ type: [StoreHealthTransitionDto], maxItems: 100, description: 'The latest 100' }) transitions!: StoreHealthTransitionDto[];
  @ApiProperty({ type: String, nullable: true, description: 'What blocks while down' }) reason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) checkedAt!: string | null;
}

export class StoreChaosResultDto {
  @ApiProperty({ format: 'uuid' }) storeId!: string;
  @ApiProperty({ type: [String], maxItems: 100, items: { type: 'string', maxLength: 253 }, description: 'The pods killed' }) killed!: string[];
  @ApiPropertyOptional({ description: 'New pods are kept from being scheduled' }) held?: boolean;
}

export class StoreLoadResultDto {
  @ApiProperty({ format: 'uuid' }) storeId!: string;
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 1000 }) cpuPercent!: number;
}
