import { Type } from 'class-transformer';
import { IsUUID, ValidateNested } from 'class-validator';
import { ChaosRequestDto, UpdateStoreDto } from '@flotilla/contracts';

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
