import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { PROFILE_CONTENT_TYPES, filenameProblem, type DatasetProfile } from '@flotilla/contracts';
import { contentTypeOf } from './content-types.js';
import { InputError, messageOf } from './errors.js';
import { runPool } from './pool.js';

/** A file of the folder, as it will be declared to `upload/start`. */
export interface FolderFile {
  /** The name in the dataset: the entry's name in the folder. */
  filename: string;
  /** Where the bytes are read from (a symbolic link's target inside the folder). */
  path: string;
  sizeBytes: number;
  contentType: string;
}

export interface LocalFile extends FolderFile {
  /** Lower-case hex SHA-256 of the content. */
  sha256: string;
}

export interface FolderListing {
  files: FolderFile[];
  /** Entries left out, with why: subfolders, sockets, links to folders. Dotfiles are left out silently. */
  skipped: { name: string; reason: string }[];
}

/**
 * The regular files directly in `folder`, by name. Dotfiles and anything that is not a
 * regular file are left out; a symbolic link is followed only when it points to a file
 * inside the folder. Throws an InputError listing every problem (a link out of the
 * folder, a name or content type the profile refuses) so all can be fixed at once.
 */
export async function listFolder(folder: string, profile?: DatasetProfile): Promise<FolderListing> {
  let root: string;
  try {
    if (!(await stat(folder)).isDirectory()) throw new InputError(`"${folder}" is not a folder.`);
    root = await realpath(folder);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`Cannot read the folder "${folder}": ${fsReason(error)}`);
  }

  const entries = await readdir(root, { withFileTypes: true }).catch((error: unknown) => {
    throw new InputError(`Cannot list the folder "${folder}": ${fsReason(error)}`);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const files: FolderFile[] = [];
  const skipped: FolderListing['skipped'] = [];
  const problems: string[] = [];
  const accepted = profile ? PROFILE_CONTENT_TYPES[profile] : undefined;

  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let path = join(root, entry.name);
    if (entry.isSymbolicLink()) {
      let target: string;
      try {
        target = await realpath(path);
      } catch (error) {
        problems.push(`${entry.name}: a symbolic link that cannot be followed (${fsReason(error)})`);
        continue;
      }
      const inside = relative(root, target);
      if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
        problems.push(`${entry.name}: a symbolic link to ${target}, outside the folder`);
        continue;
      }
      path = target;
    } else if (!entry.isFile()) {
      skipped.push({ name: entry.name, reason: entry.isDirectory() ? 'a subfolder' : 'not a regular file' });
      continue;
    }

    let info;
    try {
      info = await stat(path);
    } catch (error) {
      problems.push(`${entry.name}: ${fsReason(error)}`);
      continue;
    }
    if (!info.isFile()) {
      skipped.push({ name: entry.name, reason: info.isDirectory() ? 'a link to a subfolder' : 'not a regular file' });
      continue;
    }

    const nameProblem = filenameProblem(entry.name);
    if (nameProblem) problems.push(`${JSON.stringify(entry.name)}: the name ${nameProblem}`);
    const contentType = contentTypeOf(entry.name);
    if (accepted && !accepted.includes(contentType)) {
      problems.push(`${entry.name}: ${contentType} is not accepted by the ${profile} profile (accepted: ${accepted.join(', ')})`);
    }
    files.push({ filename: entry.name, path, sizeBytes: info.size, contentType });
  }

  if (problems.length > 0) throw new InputError(`The folder "${folder}" cannot be uploaded as it is:`, problems);
  if (files.length === 0) throw new InputError(`The folder "${folder}" has no files to upload.`);
  return { files, skipped };
}

/**
 * SHA-256 of a file, read as a stream. `onBytes` hears of each chunk read. Throws an
 * InputError when the file does not have `expectedSize` bytes (it changed since it was listed).
 */
export async function sha256File(path: string, onBytes?: (bytes: number) => void, expectedSize?: number): Promise<string> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(chunk.length);
    }
  } catch (error) {
    throw new InputError(`Cannot read ${path}: ${fsReason(error)}`);
  }
  if (expectedSize !== undefined && size !== expectedSize) {
    throw new InputError(`${path} changed while it was being read (${expectedSize} bytes listed, ${size} read).`);
  }
  return hash.digest('hex');
}

/** Hashes the listed files, a few at a time; `onBytes` hears of every chunk read. */
export async function hashFiles(files: readonly FolderFile[], options: { concurrency?: number; onBytes?: (bytes: number) => void } = {}): Promise<LocalFile[]> {
  const hashed: LocalFile[] = new Array(files.length);
  await runPool(files, options.concurrency ?? 4, async (file, index) => {
    hashed[index] = { ...file, sha256: await sha256File(file.path, options.onBytes, file.sizeBytes) };
  });
  return hashed;
}

function fsReason(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a folder';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return messageOf(error);
  }
}
