import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  endpoint: string;
  directory: string;
  close(): Promise<void>;
}

/**
 * An S3 in this process (s3rver), for local runs and tests: objects are files under
 * `directory`. It accepts any credentials and does not verify signatures, so what the
 * presigned URLs allow is checked by the project's own tests, not by it. A temporary
 * directory (the default) is removed on close.
 */
export async function startEmbeddedS3(options: { port?: number; host?: string; directory?: string } = {}): Promise<EmbeddedS3> {
  const temporary = !options.directory;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'flotilla-s3-'));
  mkdirSync(directory, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const server = new S3rver({ port: options.port ?? 0, address: host, directory, silent: true });
  const address = (await server.run()) as { port: number };
  return {
    endpoint: `http://${host}:${address.port}`,
    directory,
    async close() {
      await server.close();
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  };
}
