import { IsUUID } from 'class-validator';
import { SetTeamQuotaDto } from '@flotilla/contracts';

/** `upload.quota`: the team whose limits and usage are read. */
export class TeamRefDto {
  @IsUUID()
  teamId!: string;
}

/** `upload.setQuota`: the team and the limits to set. */
export class SetTeamQuotaRpcDto extends SetTeamQuotaDto {
  @IsUUID()
  teamId!: string;
}
