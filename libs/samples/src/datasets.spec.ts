import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILE_CONTENT_TYPES, filenameProblem } from '@flotilla/contracts';
import { sampleDatasets, writeSampleDatasets } from './index.js';

describe('sampleDatasets', () => {
  const datasets = sampleDatasets();

  it('has the datasets the validator is checked against, each named once', () => {
    const names = datasets.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of [
      'xray-valid',
      'xray-broken',
      'xray-no-manifest',
      'xray-two-manifests',
      'teams-valid',
      'teams-broken',
      'teams-small-rom',
      'teams-not-json',
      'teams-no-categories',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('gives each expected code set sorted and without repeats, empty exactly for the passing ones', () => {
    for (const d of datasets) {
      expect(d.expectedCodes).toEqual([...new Set(d.expectedCodes)].sort());
      expect(d.expectedCodes.length === 0).toBe(d.expectedStatus === 'passed');
    }
  });

  it('holds only files upload/start accepts: valid names, allowed content types, distinct names', () => {
    for (const d of datasets) {
      const names = d.files.map((f) => f.filename);
      expect(new Set(names).size).toBe(names.length);
      for (const f of d.files) {
        expect(filenameProblem(f.filename)).toBeUndefined();
        expect(PROFILE_CONTENT_TYPES[d.profile]).toContain(f.contentType);
      }
    }
  });

  it('lists in the valid manifest every image of each format with its real SHA-256', () => {
    const valid = datasets.find((d) => d.name === 'xray-valid')!;
    const [header, ...rows] = valid.files
      .find((f) => f.filename === 'manifest.csv')!
      .content.toString('utf8')
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(',').map((v) => v.replace(/^"|"$/g, '')));
    expect(header).toEqual(['filename', 'label', 'sha256', 'patient_id', 'split']);
    const listed = rows.map((r) => r[0]);
    expect(listed).toEqual(expect.arrayContaining(['chest-001.png', 'chest-002.jpg', 'chest-003.dcm', 'chest-004.mha', 'chest-005.nii']));
    for (const [filename, , sum] of rows) {
      const content = valid.files.find((f) => f.filename === filename)!.content;
      expect(sum).toBe(createHash('sha256').update(content).digest('hex'));
    }
  });
});

describe('writeSampleDatasets', () => {
  it('writes one folder per dataset holding exactly its files, replacing an earlier run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samples-'));
    try {
      await writeFile(join(dir, 'keep.txt'), 'not ours');
      await writeSampleDatasets(dir);
      await writeFile(join(dir, 'xray-valid', 'stale.png'), 'left over');
      const written = await writeSampleDatasets(dir);
      expect((await readdir(dir)).sort()).toEqual([...written.map((d) => d.name), 'keep.txt'].sort());
      for (const d of written) {
        expect((await readdir(join(dir, d.name))).sort()).toEqual(d.files.map((f) => f.filename).sort());
        for (const f of d.files) expect((await readFile(join(dir, d.name, f.filename))).equals(f.content)).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
