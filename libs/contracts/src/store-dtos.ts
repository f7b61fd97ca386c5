import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { RolloutStrategies, StoreTemplates } from './stores.js';

/**
 * The shapes of the store requests, checked at the gateway (400 when malformed) and
 * again by `provisioner` on its RPC. What is well-formed but not allowed — a bad
 * name, template, version, replica count or canary step — is the provisioner's 422.
 */
export class RolloutDto {
  @ApiProperty({ enum: RolloutStrategies })
  @IsString()
  @MaxLength(40)
  strategy: string;

  @ApiPropertyOptional({ type: [Number], description: 'Canary: percent of traffic to the new revision at each step, increasing, ending at 100', example: [10, 50, 100] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  steps?: number[];
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
