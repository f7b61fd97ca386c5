import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { dicom, jpeg, metaImage, metaImageData, metaImageHeader, nifti, png, pngWithTruncatedHeader, sampleDatasets } from '@flotilla/samples';
import type { ValidationIssue } from '@flotilla/contracts';
import { BODY_LIMIT_BYTES, DEFAULT_PROFILE_OPTIONS, factsOf, profileFor, type FileFacts, type ProfileOptions } from './index.js';

const profile = profileFor('xray');
const sha256 = (content: Buffer): string => createHash('sha256').update(content).digest('hex');
const fact = (filename: string, content: Buffer, declared: { declaredSize?: number; declaredSha256?: string } = {}): FileFacts =>
  factsOf(profile, { filename, contentType: 'application/octet-stream', content, ...declared });
const csv = (...lines: string[]): Buffer => Buffer.from(`${lines.join('\n')}\n`, 'utf8');
const validate = (files: FileFacts[], options: Partial<ProfileOptions> = {}): ValidationIssue[] =>
  profile.validate(files, { ...DEFAULT_PROFILE_OPTIONS, ...options });
const codes = (issues: ValidationIssue[]): string[] => issues.map((i) => i.code);
const only = (issues: ValidationIssue[], code: string): ValidationIssue[] => issues.filter((i) => i.code === code);

const image = png({ width: 64, height: 64 });
/** One valid image and a manifest listing it, plus `files`; `rows` replace the manifest's rows. */
function dataset(files: FileFacts[] = [], rows: string[] = ['a.png,normal']): FileFacts[] {
  return [fact('a.png', image), ...files, fact('manifest.csv', csv('filename,label', ...rows))];
}

describe('xray profile', () => {
  it('wants the body of the manifest only', () => {
    const want = (filename: string) => profile.wantsBody({ filename, contentType: 'text/csv', sizeBytes: 10 });
    expect([want('manifest.csv'), want('MANIFEST.JSON'), want('a.png'), want('notes.csv')]).toEqual([true, true, false, false]);
  });

  it('passes the valid sample with no issue at all', () => {
    const valid = sampleDatasets().find((d) => d.name === 'xray-valid')!;
    expect(validate(valid.files.map((f) => factsOf(profile, f)))).toEqual([]);
  });

  it('passes a manifest.json with numeric patient ids and upper-case checksums', () => {
    const files = [fact('a.png', image), fact('b.dcm', dicom({ rows: 64, columns: 64 })), fact('c.nii', nifti({ x: 64, y: 64, z: 1 }))];
    const rows = files.map((f, i) => ({ filename: f.filename, label: 'normal', sha256: f.sha256.toUpperCase(), patient_id: i, split: 'train' }));
    expect(validate([...files, fact('manifest.json', Buffer.from(JSON.stringify(rows)))])).toEqual([]);
  });

  describe('manifest', () => {
    it('manifest_missing: no manifest, and then no file is called unlisted', () => {
      const issues = validate([fact('a.png', image)]);
      expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'manifest_missing' })]);
    });

    it('manifest_duplicate: a CSV and a JSON manifest', () => {
      const json = fact('manifest.json', Buffer.from(JSON.stringify([{ filename: 'a.png', label: 'normal' }])));
      const issues = validate(dataset([json]));
      expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'manifest_duplicate' })]);
      expect(issues[0]!.message).toContain('manifest.csv, manifest.json');
    });

    it.each([
      ['an unclosed quote', csv('filename,label', '"a.png,normal'), /line 2: a quoted field is never closed/],
      ['no label column', csv('filename,class', 'a.png,normal'), /line 1: the header has no label column/],
      ['an empty file', Buffer.alloc(0), /is empty/],
      ['a header and no rows', csv('filename,label'), /has no rows/],
      ['a repeated column', csv('filename,label,label', 'a.png,normal,normal'), /more than one label column/],
      ['bytes that are not UTF-8', Buffer.from([0x66, 0xff, 0xfe, 0x0a]), /is not UTF-8 text/],
    ])('manifest_invalid: %s, once for the file', (_, content, message) => {
      const issues = validate([fact('a.png', image), fact('manifest.csv', content)]);
      const invalid = only(issues, 'manifest_invalid');
      expect(invalid).toEqual([expect.objectContaining({ severity: 'error', file: 'manifest.csv' })]);
      expect(invalid[0]!.message).toMatch(message);
    });

    it('manifest_invalid: one issue per bad row, each with its line', () => {
      const issues = validate(
        dataset([fact('b.png', png({ width: 64, height: 64, seed: 2 })), fact('c.png', png({ width: 64, height: 64, seed: 3 }))], [
          'a.png,normal',
          'b.png,',
          ',abnormal',
          'c.png,normal,extra',
          'a.png,abnormal',
        ]),
      );
      expect(only(issues, 'manifest_invalid').map((i) => i.message)).toEqual([
        'manifest.csv line 3: b.png has no label',
        'manifest.csv line 4: no filename',
        'manifest.csv line 5: 3 fields, but the header has 2 columns',
        'manifest.csv line 6: a.png is already listed (line 2)',
      ]);
      // Files named by a broken row are not also reported as unlisted.
      expect(codes(issues)).not.toContain('unlisted_file');
    });

    it('manifest_invalid: a manifest too large to read', () => {
      const big: FileFacts = { ...fact('manifest.csv', csv('filename,label')), size: BODY_LIMIT_BYTES + 1, declaredSize: BODY_LIMIT_BYTES + 1 };
      delete big.body;
      const issues = validate([fact('a.png', image), big]);
      expect(codes(issues)).toEqual(['manifest_invalid', 'unlisted_file']);
      expect(issues[0]!.message).toMatch(/manifest.csv is too large to check: 16777217 bytes/);
    });

    it.each([
      ['not JSON', '[{"filename": "a.png",', /is not valid JSON: .*line 1, column \d+/],
      ['not an array', '{"filename": "a.png", "label": "normal"}', /must hold an array/],
      ['an entry that is not an object', '[{"filename": "a.png", "label": "normal"}, "b.png"]', /entry 2: not an object/],
      ['a label that is not text', '[{"filename": "a.png", "label": 1}]', /entry 1: "label" must be a string/],
    ])('manifest_invalid: a manifest.json %s', (_, text, message) => {
      const issues = only(validate([fact('a.png', image), fact('manifest.json', Buffer.from(text))]), 'manifest_invalid');
      expect(issues).toHaveLength(1);
      expect(issues[0]!.message).toMatch(message);
    });

    it('missing_file: a row naming a file not in the dataset', () => {
      const issues = validate(dataset([], ['a.png,normal', 'gone.png,abnormal']));
      expect(issues).toEqual([
        { severity: 'error', code: 'missing_file', file: 'gone.png', message: 'Manifest line 3 names gone.png, which is not in the dataset' },
      ]);
    });

    it('unlisted_file: a warning for a file the manifest does not name', () => {
      const issues = validate(dataset([fact('b.png', png({ width: 64, height: 64, seed: 9 }))]));
      expect(issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'unlisted_file', file: 'b.png' })]);
    });

    it('checksum_mismatch: the row’s sha256 differs from the content’s', () => {
      const withColumn = validate([fact('a.png', image), fact('manifest.csv', csv('filename,label,sha256', `a.png,normal,${'0'.repeat(64)}`))]);
      expect(withColumn).toEqual([expect.objectContaining({ severity: 'error', code: 'checksum_mismatch', file: 'a.png' })]);
      expect(withColumn[0]!.message).toContain(`has SHA-256 ${sha256(image)}; the manifest (line 2) says ${'0'.repeat(64)}`);
    });

    it('invalid_label: outside the allowed set, which a deployment can change', () => {
      const files = dataset([], ['a.png,Normal']);
      expect(validate(files)).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid_label', file: 'a.png' })]);
      expect(validate(files, { labels: ['Normal', 'Nodule'] })).toEqual([]);
    });

    it('patient_split_leak: one patient in two splits, naming the lines', () => {
      const b = fact('b.png', png({ width: 64, height: 64, seed: 2 }));
      const c = fact('c.png', png({ width: 64, height: 64, seed: 3 }));
      const manifest = csv('filename,label,patient_id,split', 'a.png,normal,P1,train', 'b.png,normal,P1,train', 'c.png,abnormal,P1,test');
      const issues = validate([fact('a.png', image), b, c, fact('manifest.csv', manifest)]);
      expect(issues).toEqual([
        {
          severity: 'error',
          code: 'patient_split_leak',
          file: 'manifest.csv',
          message: 'Patient P1 is in more than one split: train (line 2, line 3), test (line 4)',
        },
      ]);
    });
  });

  describe('files', () => {
    it('size_mismatch: fewer bytes than upload/start declared', () => {
      const issues = validate(dataset().map((f) => (f.filename === 'a.png' ? { ...f, declaredSize: f.size + 10 } : f)));
      expect(issues).toEqual([
        { severity: 'error', code: 'size_mismatch', file: 'a.png', message: `a.png is ${image.length} bytes; upload/start declared ${image.length + 10}` },
      ]);
    });

    it('checksum_mismatch: a SHA-256 declared at upload/start that differs', () => {
      const issues = validate([fact('a.png', image, { declaredSha256: 'f'.repeat(64) }), fact('manifest.csv', csv('filename,label', 'a.png,normal'))]);
      expect(issues).toEqual([expect.objectContaining({ code: 'checksum_mismatch', file: 'a.png' })]);
      expect(validate([fact('a.png', image, { declaredSha256: sha256(image) }), fact('manifest.csv', csv('filename,label', 'a.png,normal'))])).toEqual([]);
    });

    it('unsupported_format: content that is no supported image', () => {
      const issues = validate(dataset([fact('notes.txt', Buffer.from('hello'))], ['a.png,normal', 'notes.txt,normal']));
      expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'unsupported_format', file: 'notes.txt' })]);
    });

    it('format_mismatch: the extension names another format than the content', () => {
      const issues = validate(dataset([fact('b.png', jpeg({ width: 64, height: 64 }))], ['a.png,normal', 'b.png,normal']));
      expect(issues).toEqual([
        { severity: 'error', code: 'format_mismatch', file: 'b.png', message: 'b.png is named .png (PNG) but its content is JPEG' },
      ]);
    });

    it('takes a file without an image extension by its content', () => {
      const issues = validate(dataset([fact('IM000001', dicom({ rows: 64, columns: 64 }))], ['a.png,normal', 'IM000001,normal']));
      expect(issues).toEqual([]);
    });

    it('corrupt_image: a header that cannot be read', () => {
      const issues = validate(dataset([fact('b.png', pngWithTruncatedHeader())], ['a.png,normal', 'b.png,normal']));
      expect(issues).toEqual([expect.objectContaining({ severity: 'error', code: 'corrupt_image', file: 'b.png' })]);
      expect(issues[0]!.message).toContain('the PNG header cannot be read');
    });

    it('image_too_small: a side below the minimum, which a deployment can change', () => {
      const files = dataset([fact('b.jpg', jpeg({ width: 100, height: 63 }))], ['a.png,normal', 'b.jpg,normal']);
      expect(validate(files)).toEqual([
        { severity: 'error', code: 'image_too_small', file: 'b.jpg', message: 'b.jpg is 100x63 pixels; both sides must be at least 64' },
      ]);
      expect(validate(files, { minImageSize: 32 })).toEqual([]);
    });

    it('duplicate_content: a warning for each file whose bytes repeat an earlier one', () => {
      const issues = validate(dataset([fact('copy.png', image)], ['a.png,normal', 'copy.png,normal']));
      expect(issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'duplicate_content', file: 'copy.png' })]);
      expect(issues[0]!.message).toContain('same content as a.png');
    });
  });

  describe('MetaImage header and data pairs', () => {
    const header = metaImageHeader({ width: 64, height: 64, dataFile: 'scan.raw' });
    const data = metaImageData({ width: 64, height: 64 });

    it('counts the .raw named by a .mhd as its data: neither unsupported nor unlisted', () => {
      expect(validate(dataset([fact('scan.mhd', header), fact('scan.raw', data)], ['a.png,normal', 'scan.mhd,normal']))).toEqual([]);
    });

    it('missing_file: the .mhd’s data file is not in the dataset', () => {
      const issues = validate(dataset([fact('scan.mhd', header)], ['a.png,normal', 'scan.mhd,normal']));
      expect(issues).toEqual([expect.objectContaining({ code: 'missing_file', file: 'scan.raw' })]);
      expect(issues[0]!.message).toBe('scan.mhd keeps its image data in scan.raw, which is not in the dataset');
    });

    it('corrupt_image: the .raw holds fewer bytes than the header needs', () => {
      const issues = validate(dataset([fact('scan.mhd', header), fact('scan.raw', data.subarray(100))], ['a.png,normal', 'scan.mhd,normal']));
      expect(issues).toEqual([expect.objectContaining({ code: 'corrupt_image', file: 'scan.raw' })]);
    });

    it('a .raw nobody names is unsupported, and unlisted', () => {
      expect(codes(validate(dataset([fact('other.raw', data)])))).toEqual(['unsupported_format', 'unlisted_file']);
    });

    it('format_mismatch: a .mha holding a NIfTI', () => {
      const issues = validate(dataset([fact('b.mha', nifti({ x: 64, y: 64, z: 1 }))], ['a.png,normal', 'b.mha,normal']));
      expect(codes(issues)).toEqual(['format_mismatch']);
      expect(validate(dataset([fact('b.mha', metaImage({ width: 64, height: 64 }))], ['a.png,normal', 'b.mha,normal']))).toEqual([]);
    });
  });
});
