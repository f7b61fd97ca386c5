import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LocalFile } from './scan.js';

/** What an interrupted upload needs to go on: its dataset, the files it was started with, and the parts the store took. */
export interface UploadState {
  api: string;
  folder: string;
  datasetId: string;
  files: { filename: string; sizeBytes: number; sha256: string }[];
  /** fileId → partNumber → ETag, as the PUTs were answered (the store's ListParts stays the truth on resume). */
  parts: Record<string, Record<string, string>>;
}

/** `$XDG_STATE_HOME/flotilla/uploads` (default `~/.local/state/flotilla/uploads`). */
export function stateDirectory(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'flotilla', 'uploads');
}

/**
 * One state file per API and folder, written as the upload goes (replaced whole, so a
 * kill leaves the old file or the new one) and removed once the upload is completed.
 */
export class UploadStateFile {
  readonly path: string;

  constructor(directory: string, api: string, folder: string) {
    const id = createHash('sha256').update(`${api}\n${resolve(folder)}`).digest('hex').slice(0, 32);
    this.path = join(directory, `${id}.json`);
  }

  /** The saved state, when it is for these very files (same names, sizes and contents); otherwise none. */
  load(files: readonly LocalFile[]): UploadState | undefined {
    let state: UploadState;
    try {
      state = JSON.parse(readFileSync(this.path, 'utf8')) as UploadState;
    } catch {
      return undefined;
    }
    const same =
      Array.isArray(state.files) &&
      state.files.length === files.length &&
      files.every((f) => state.files.some((s) => s.filename === f.filename && s.sizeBytes === f.sizeBytes && s.sha256 === f.sha256));
    return same && typeof state.datasetId === 'string' ? { ...state, parts: state.parts ?? {} } : undefined;
  }

  save(state: UploadState): void {
    mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(state), { mode: 0o600 });
    renameSync(temporary, this.path);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
