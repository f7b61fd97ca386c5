import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsOptional, IsUUID, ValidateNested } from 'class-validator';
import { ChaosRequestDto, RolloutActionDto, RolloutActions, UpdateStoreDto, type RolloutAction } from '@flotilla/contracts';

export { CreateStoreDto, UpdateStoreDto } from '@flotilla/contracts';

export class StoreRefDto {
  @IsUUID()
  storeId: string;
}

export class UpdateStoreRequestDto extends StoreRefDto {
  @ValidateNested()
  @Type(() => UpdateStoreDto)
  changes: UpdateStoreDto;
}

export class ChaosDto extends ChaosRequestDto {
  @IsUUID()
  storeId: string;
}

export class RolloutActionRequestDto extends RolloutActionDto {
  @IsUUID()
  storeId: string;

  @IsIn(RolloutActions)
  action: RolloutAction;
}

/** A store spec document travels as parsed; the provisioner checks it against the schema itself. */
export class StoreSpecRequestDto extends StoreRefDto {
  @IsDefined()
  document: unknown;

  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}
