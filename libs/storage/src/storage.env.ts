import { IsBoolean, IsString, Matches, MinLength, Validate, ValidatorConstraint, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';
import { BaseEnv, EnvBoolean } from '@flotilla/config';

/** The credentials of the embedded S3 (s3rver); production refuses them. */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

@ValidatorConstraint({ name: 'notEmbeddedCredentialInProduction' })
class NotEmbeddedCredentialInProduction implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return (args.object as StorageEnv).NODE_ENV !== 'production' || value !== EMBEDDED_S3_CREDENTIALS.secretAccessKey;
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be set to a non-default value when NODE_ENV=production`;
  }
}

const ENDPOINT = /^(https?:\/\/[^\s/]+(\/[^\s]*)?)?$/;

/** Object storage settings, for the services that keep objects (they extend this instead of `BaseEnv`). */
export class StorageEnv extends BaseEnv {
  /** The S3 endpoint the services use (MinIO: http://minio:9000). Empty: AWS's own endpoints. */
  @Matches(ENDPOINT, { message: 'S3_ENDPOINT must be empty or an http(s):// URL' })
  S3_ENDPOINT = '';

  /**
   * The endpoint clients reach, which presigned URLs are signed for; empty means
   * `S3_ENDPOINT`. Needed whenever clients and services see S3 under different names.
   */
  @Matches(ENDPOINT, { message: 'S3_PUBLIC_ENDPOINT must be empty or an http(s):// URL' })
  S3_PUBLIC_ENDPOINT = '';

  @IsString()
  @Matches(/^[a-z0-9-]+$/, { message: 'S3_REGION must be a region name such as us-east-1' })
  S3_REGION = 'us-east-1';

  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'S3_BUCKET must be a valid bucket name (3-63 lower-case letters, digits, dots, hyphens)' })
  S3_BUCKET = 'flotilla';

  @IsString()
  @MinLength(1)
  S3_ACCESS_KEY_ID: string = EMBEDDED_S3_CREDENTIALS.accessKeyId;

  @IsString()
  @MinLength(1)
  @Validate(NotEmbeddedCredentialInProduction)
  S3_SECRET_ACCESS_KEY: string = EMBEDDED_S3_CREDENTIALS.secretAccessKey;

  /** Path-style URLs (`endpoint/bucket/key`), as MinIO and the embedded S3 expect. */
  @EnvBoolean()
  @IsBoolean({ message: 'S3_FORCE_PATH_STYLE must be true or false' })
  S3_FORCE_PATH_STYLE = true;
}
