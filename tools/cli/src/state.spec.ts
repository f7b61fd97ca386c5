import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stateDirectory, UploadStateFile } from './state.js';

const file = { filename: 'a.png', path: '/x/a.png', sizeBytes: 10, contentType: 'image/png', sha256: 'ab'.repeat(32) };

describe('UploadStateFile', () => {
  it('keeps an upload for the same folder, API and files only, and is gone once removed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-state-'));
    try {
      const state = new UploadStateFile(dir, 'http://api/', './folder');
      state.save({ api: 'http://api/', folder: '/folder', datasetId: 'd1', files: [file], parts: { f1: { '1': '"e1"' } } });
      expect(statSync(state.path).mode & 0o777).toBe(0o600);
      expect(state.load([file])).toMatchObject({ datasetId: 'd1', parts: { f1: { '1': '"e1"' } } });
      expect(state.load([{ ...file, sha256: 'cd'.repeat(32) }])).toBeUndefined();
      expect(state.load([file, { ...file, filename: 'b.png' }])).toBeUndefined();
      expect(new UploadStateFile(dir, 'http://other/', './folder').load([file])).toBeUndefined();
      state.remove();
      expect(existsSync(state.path)).toBe(false);
      expect(state.load([file])).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lives under XDG_STATE_HOME, else ~/.local/state', () => {
    expect(stateDirectory({ XDG_STATE_HOME: '/s' })).toBe('/s/flotilla/uploads');
    expect(stateDirectory({ HOME: '/home/ada' })).toBe('/home/ada/.local/state/flotilla/uploads');
  });
});
