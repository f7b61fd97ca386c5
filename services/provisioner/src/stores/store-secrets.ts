import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * The passwords a store's charts need, generated once per store and kept encrypted
 * (AES-256-GCM) so every later `helm upgrade` passes the same ones. They reach the
 * cluster only as Helm values on standard input, never in a file or an argument.
 */
export class StoreSecrets {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = createHash('sha256').update(secretKey).digest();
  }

  /** New random secrets for a store: every key either chart uses (a chart ignores the others). */
  static generate(): Record<string, string> {
    const secret = (): string => randomBytes(24).toString('base64url');
    return {
      databaseRootPassword: secret(),
      databasePassword: secret(),
      adminPassword: secret(),
      authSalt: secret(),
      redisPassword: secret(),
      jwtSecret: secret(),
      cookieSecret: secret(),
    };
  }

  seal(secrets: Record<string, string>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  open(sealed: string): Record<string, string> {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || !body) throw new Error('store secrets are not in a known format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return JSON.parse(Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8')) as Record<string, string>;
  }
}
