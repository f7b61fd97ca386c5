import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { contentTypeOf } from './content-types.js';
import { InputError } from './errors.js';
import { hashFiles, listFolder, sha256File } from './scan.js';
import { makeFolder, noise, removeFolder } from './test/folders.js';

describe('contentTypeOf', () => {
  it('guesses from the extension, whatever its case', () => {
    expect(contentTypeOf('a.png')).toBe('image/png');
    expect(contentTypeOf('a.JPG')).toBe('image/jpeg');
    expect(contentTypeOf('a.jpeg')).toBe('image/jpeg');
    expect(contentTypeOf('a.dcm')).toBe('application/dicom');
    expect(contentTypeOf('labels.csv')).toBe('text/csv');
    expect(contentTypeOf('teams.json')).toBe('application/json');
    expect(contentTypeOf('volume.mhd')).toBe('text/plain');
    expect(contentTypeOf('volume.raw')).toBe('application/octet-stream');
    expect(contentTypeOf('README')).toBe('application/octet-stream');
  });
});

describe('listFolder', () => {
  const folders: string[] = [];
  afterEach(async () => {
    await Promise.all(folders.splice(0).map(removeFolder));
  });
  const folder = async (files: Record<string, string | Buffer>): Promise<string> => {
    const path = await makeFolder(files);
    folders.push(path);
    return path;
  };

  it('lists the regular files by name, without dotfiles or subfolders', async () => {
    const root = await folder({ 'b.png': 'bb', 'a.dcm': 'a', '.hidden': 'h', 'notes.txt': '' });
    await mkdir(join(root, 'sub'));
    await writeFile(join(root, 'sub', 'c.png'), 'c');
    const listing = await listFolder(root);
    expect(listing.files.map((f) => [f.filename, f.sizeBytes, f.contentType])).toEqual([
      ['a.dcm', 1, 'application/dicom'],
      ['b.png', 2, 'image/png'],
      ['notes.txt', 0, 'application/octet-stream'],
    ]);
    expect(listing.skipped).toEqual([{ name: 'sub', reason: 'a subfolder' }]);
  });

  it('follows a link to a file inside the folder, and refuses one that points outside', async () => {
    const outside = await folder({ 'secret.png': 'outside' });
    const root = await folder({ 'a.png': 'inside' });
    await symlink(join(root, 'a.png'), join(root, 'b.png'));
    expect((await listFolder(root)).files.map((f) => [f.filename, f.path, f.sizeBytes])).toEqual([
      ['a.png', expect.stringMatching(/a\.png$/), 6],
      ['b.png', expect.stringMatching(/a\.png$/), 6],
    ]);

    await symlink(join(outside, 'secret.png'), join(root, 'c.png'));
    await symlink('../', join(root, 'parent'));
    await symlink(join(root, 'nowhere.png'), join(root, 'dangling.png'));
    const error = (await listFolder(root).catch((e: unknown) => e)) as InputError;
    expect(error).toBeInstanceOf(InputError);
    expect(error.exitCode).toBe(2);
    expect(error.problems).toEqual([
      expect.stringMatching(/^c\.png: a symbolic link to .*secret\.png, outside the folder$/),
      expect.stringMatching(/^dangling\.png: a symbolic link that cannot be followed/),
      expect.stringMatching(/^parent: a symbolic link to .*, outside the folder$/),
    ]);
  });

  it('refuses content types the profile does not accept, all at once', async () => {
    const root = await folder({ 'teams.json': '{}', 'logo.png': 'p', 'rom.bin': 'r', 'table.csv': 'c' });
    const error = (await listFolder(root, 'teams-json').catch((e: unknown) => e)) as InputError;
    expect(error.problems).toEqual([
      expect.stringMatching(/^logo\.png: image\/png is not accepted by the teams-json profile/),
      expect.stringMatching(/^table\.csv: text\/csv is not accepted/),
    ]);
    expect((await listFolder(root, 'xray')).files).toHaveLength(4);
  });

  it('refuses names the API refuses', async () => {
    const root = await folder({ 'a..b.png': 'x', ' lead.png': 'y' });
    const error = (await listFolder(root).catch((e: unknown) => e)) as InputError;
    expect(error.problems).toEqual([expect.stringMatching(/" lead\.png": the name starts or ends with white space/), expect.stringMatching(/"a\.\.b\.png": the name contains "\.\."/)]);
  });

  it('says when there is nothing to upload, or no folder', async () => {
    const root = await folder({ '.env': 'x' });
    await expect(listFolder(root)).rejects.toThrow(/has no files to upload/);
    await expect(listFolder(join(root, 'missing'))).rejects.toThrow(/Cannot read the folder .*: no such file or folder/);
    await expect(listFolder(join(root, '.env'))).rejects.toThrow(/is not a folder/);
  });
});

describe('hashing', () => {
  it('streams SHA-256 and reports the bytes read', async () => {
    const content = noise(3 * 1024 * 1024 + 17);
    const root = await makeFolder({ 'big.dcm': content, 'empty.csv': '' });
    try {
      let read = 0;
      const expected = createHash('sha256').update(content).digest('hex');
      expect(await sha256File(join(root, 'big.dcm'), (n) => (read += n))).toBe(expected);
      expect(read).toBe(content.length);
      const files = await hashFiles((await listFolder(root)).files, { concurrency: 2 });
      expect(files.map((f) => [f.filename, f.sha256])).toEqual([
        ['big.dcm', expected],
        ['empty.csv', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
      ]);
      await expect(sha256File(join(root, 'big.dcm'), undefined, 10)).rejects.toThrow(/changed while it was being read/);
    } finally {
      await removeFolder(root);
    }
  });
});
