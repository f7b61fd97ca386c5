import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsUUID, ValidateNested } from 'class-validator';
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

/**
 * `provisioner.spec.put` without its document: the document travels as parsed and is not
 * given to class-transformer at all (it would assign each key, setting a prototype for
 * `__proto__` and throwing on `constructor`: a 500); the schema checks it, refusing both.
 */
export class StoreSpecRequestDto extends StoreRefDto {
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}
