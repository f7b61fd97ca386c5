import { ApiProperty } from '@nestjs/swagger';

/**
 * `GET /admin/services` (ServiceInstance in @flotilla/contracts, admin.ts), described for the
 * OpenAPI document: every instance the admin service has heard a heartbeat from (the
 * heartbeat's random UUID, its service name cut to 100, its version to 50), with its
 * transitions of the last day. Neither list has a bound to promise (.spectral.yaml).
 */
const STATUS = ['up', 'down', 'stopped'];

export class ServiceTransitionDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ enum: STATUS }) status!: string;
}

export class ServiceInstanceDto {
  @ApiProperty({ maxLength: 100, example: 'gateway' }) service!: string;
  @ApiProperty({ format: 'uuid' }) instanceId!: string;
  @ApiProperty({ maxLength: 50, example: '0.1.0' }) version!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) uptimeSeconds!: number;
  @ApiProperty() ready!: boolean;
  @ApiProperty({ format: 'date-time' }) lastHeartbeatAt!: string;
  @ApiProperty({ enum: STATUS, description: '`down`: no heartbeat for the threshold; `stopped`: said goodbye on a graceful shutdown' }) status!: string;
  @ApiProperty({ type: [ServiceTransitionDto], description: 'The last day, oldest first' }) transitions!: ServiceTransitionDto[];
}

export class ServiceInstanceListDto {
  @ApiProperty({ type: [ServiceInstanceDto] }) items!: ServiceInstanceDto[];
}
