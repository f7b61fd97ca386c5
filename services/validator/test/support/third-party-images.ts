import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Image files written by the tools radiology departments use — dcmtk, ImageMagick,
 * nifti_tool (the NIfTI reference library), plastimatch (ITK's MetaIO) — not by
 * Flotilla's own sample generator, so a parser cannot agree with its test data merely
 * because both copy the same constants. Written once per set of tool versions into a
 * cache directory under the system's temporary directory.
 *
 * The tools come from Debian's packages: `source scripts/lib/imaging-tools.sh &&
 * flotilla_imaging_tools_ensure` (npm test runs it) installs them.
 */

const INSTALL_HINT =
  'Install the imaging tools: `source scripts/lib/imaging-tools.sh && flotilla_imaging_tools_ensure` (as root on Debian), or apt-get install dcmtk imagemagick nifti-bin plastimatch';

/** Width and height of every fixture image: above the profile's 64-pixel minimum. */
export const FIXTURE_WIDTH = 96;
export const FIXTURE_HEIGHT = 80;

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is not installed. ${INSTALL_HINT}`);
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** ImageMagick's convert, not another program of that name earlier on PATH. */
function imageMagick(): string {
  for (const candidate of ['magick', 'convert-im6.q16', 'convert']) {
    const version = spawnSync(candidate, ['-version'], { encoding: 'utf8' });
    if (version.status === 0 && /^Version: ImageMagick/.test(version.stdout)) return candidate;
  }
  throw new Error(`ImageMagick is not installed. ${INSTALL_HINT}`);
}

/** What a reference tool says of one file: whether it read it without error, and its complaint. */
export interface ReferenceVerdict {
  readable: boolean;
  output: string;
}

/** dcmdump, the DICOM toolkit's reader: a non-zero exit means it could not parse the file. */
export function dcmdumpVerdict(file: string): ReferenceVerdict {
  const r = spawnSync('dcmdump', ['--read-file-only', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`dcmdump: ${r.error.message}. ${INSTALL_HINT}`);
  return { readable: r.status === 0, output: r.stderr };
}

/** ImageMagick's identify, warnings (a truncated scan, a missing IEND) taken as errors. */
export function identifyVerdict(file: string): ReferenceVerdict {
  const identify = imageMagick() === 'convert-im6.q16' ? 'identify-im6.q16' : imageMagick() === 'magick' ? 'magick' : 'identify';
  const args = identify === 'magick' ? ['identify', '-regard-warnings', file] : ['-regard-warnings', file];
  const r = spawnSync(identify, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${identify}: ${r.error.message}. ${INSTALL_HINT}`);
  return { readable: r.status === 0, output: r.stderr };
}

/** nifti_tool copies the image, which reads every voxel: it says "failed to read" when they are not all there. */
export function niftiToolVerdict(file: string): ReferenceVerdict {
  const out = mkdtempSync(join(tmpdir(), 'flotilla-nifti-copy-'));
  try {
    const r = spawnSync('nifti_tool', ['-copy_im', '-prefix', join(out, 'copy.nii'), '-infiles', file], { encoding: 'utf8' });
    if (r.error) throw new Error(`nifti_tool: ${r.error.message}. ${INSTALL_HINT}`);
    const output = `${r.stdout}${r.stderr}`;
    return { readable: r.status === 0 && !/failed|error/i.test(output), output };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** plastimatch reads the image through ITK and reports "ideal = N : actual = M" bytes when the data is short. */
export function plastimatchVerdict(file: string): ReferenceVerdict {
  const r = spawnSync('plastimatch', ['stats', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`plastimatch: ${r.error.message}. ${INSTALL_HINT}`);
  const output = `${r.stdout}${r.stderr}`;
  const short = /ideal = (\d+) : actual = (\d+)/.exec(output);
  return { readable: r.status === 0 && !(short && short[1] !== short[2]) && !/exception|error/i.test(output), output };
}

/** A DICOM data set as dump2dcm reads it; pixel data, when wanted, from the file `pixels.raw`. */
function dicomDump(transferSyntax: 'LittleEndianImplicit' | 'LittleEndianExplicit', withPixels: boolean, withSequence = false): string {
  // A sequence before Rows and Columns, which a reader must skip item by item when its length is undefined.
  const sequence = [
    '(0008,1140) SQ (Sequence with undefined length #=1)',
    '  (fffe,e000) na (Item with undefined length #=2)',
    '    (0008,1150) UI =SecondaryCaptureImageStorage',
    '    (0008,1155) UI [1.2.826.0.1.3680043.9.7133.1.9]',
    '  (fffe,e00d) na (ItemDelimitationItem)',
    '(fffe,e0dd) na (SequenceDelimitationItem)',
  ];
  return [
    '(0002,0001) OB 00\\01',
    '(0002,0002) UI =SecondaryCaptureImageStorage',
    '(0002,0003) UI [1.2.826.0.1.3680043.9.7133.1.1]',
    `(0002,0010) UI =${transferSyntax}`,
    '(0008,0016) UI =SecondaryCaptureImageStorage',
    '(0008,0018) UI [1.2.826.0.1.3680043.9.7133.1.1]',
    '(0008,0060) CS [OT]',
    ...(withSequence ? sequence : []),
    '(0010,0010) PN [Test^Patient]',
    '(0010,0020) LO [P001]',
    '(0020,000d) UI [1.2.826.0.1.3680043.9.7133.1.2]',
    '(0020,000e) UI [1.2.826.0.1.3680043.9.7133.1.3]',
    '(0028,0002) US 1',
    '(0028,0004) CS [MONOCHROME2]',
    `(0028,0010) US ${FIXTURE_HEIGHT}`,
    `(0028,0011) US ${FIXTURE_WIDTH}`,
    '(0028,0100) US 8',
    '(0028,0101) US 8',
    '(0028,0102) US 7',
    '(0028,0103) US 0',
    ...(withPixels ? ['(7fe0,0010) OB =pixels.raw'] : []),
    '',
  ].join('\n');
}

/** Writes `file` again with `edit` applied to its bytes. */
function rewrite(dir: string, from: string, to: string, edit: (bytes: Buffer) => Buffer): void {
  writeFileSync(join(dir, to), edit(readFileSync(join(dir, from))));
}

function cut(dir: string, from: string, to: string, keep: (size: number) => number): void {
  rewrite(dir, from, to, (bytes) => bytes.subarray(0, keep(bytes.length)));
}

function generate(dir: string): void {
  const convert = imageMagick();
  const size = `${FIXTURE_WIDTH}x${FIXTURE_HEIGHT}`;
  const dims = ['-new_dims', '3', String(FIXTURE_WIDTH), String(FIXTURE_HEIGHT), '1', '0', '0', '0', '0'];
  for (const sub of ['dicom', 'png', 'jpeg', 'nifti', 'metaimage']) mkdirSync(join(dir, sub));

  // PNG and JPEG by ImageMagick, and the sources img2dcm wraps.
  run(convert, ['-size', size, 'plasma:fractal', '-seed', '7', 'png/plasma.png'], dir);
  run(convert, ['-size', size, 'gradient:black-white', '-colorspace', 'Gray', '-depth', '16', 'png/gray16.png'], dir);
  run(convert, ['-size', size, 'plasma:fractal', '-seed', '7', '-interlace', 'PNG', 'png/interlaced.png'], dir);
  run(convert, ['-size', size, 'plasma:fractal', '-seed', '7', '-quality', '90', 'jpeg/baseline.jpg'], dir);
  run(convert, ['-size', size, 'plasma:fractal', '-seed', '7', '-interlace', 'Plane', 'jpeg/progressive.jpg'], dir);
  run(convert, ['-size', size, 'gradient:black-white', '-colorspace', 'Gray', 'bmp3:source.bmp'], dir);
  cut(dir, 'png/plasma.png', 'png/truncated.png', (n) => Math.floor(n / 2));
  cut(dir, 'jpeg/baseline.jpg', 'jpeg/truncated.jpg', (n) => Math.floor(n / 2));

  // DICOM by dcmtk: img2dcm (explicit VR, and JPEG baseline kept compressed), dump2dcm (with a sequence of
  // undefined length), dcmconv to implicit VR, explicit VR big endian and deflated.
  run('img2dcm', ['-i', 'BMP', 'source.bmp', 'dicom/explicit-le.dcm'], dir);
  run('dcmconv', ['+ti', 'dicom/explicit-le.dcm', 'dicom/implicit-le.dcm'], dir);
  run('img2dcm', ['-i', 'JPEG', 'jpeg/baseline.jpg', 'dicom/jpeg-baseline.dcm'], dir);
  writeFileSync(join(dir, 'pixels.raw'), Buffer.from(Array.from({ length: FIXTURE_WIDTH * FIXTURE_HEIGHT }, (_, i) => i % 251)));
  writeFileSync(join(dir, 'implicit.txt'), dicomDump('LittleEndianImplicit', true));
  writeFileSync(join(dir, 'explicit.txt'), dicomDump('LittleEndianExplicit', true));
  writeFileSync(join(dir, 'no-pixels.txt'), dicomDump('LittleEndianExplicit', false));
  run('dump2dcm', ['implicit.txt', 'dicom/dump-implicit-le.dcm'], dir);
  run('dump2dcm', ['explicit.txt', 'dicom/dump-explicit-le.dcm'], dir);
  run('dump2dcm', ['no-pixels.txt', 'dicom/dump-no-pixel-data.dcm'], dir);
  writeFileSync(join(dir, 'sequence.txt'), dicomDump('LittleEndianExplicit', true, true));
  run('dump2dcm', ['--length-undefined', 'sequence.txt', 'dicom/sequence-undefined-lengths.dcm'], dir);
  run('dcmconv', ['+tb', 'dicom/sequence-undefined-lengths.dcm', 'dicom/explicit-be.dcm'], dir);
  run('dcmconv', ['+td', 'dicom/sequence-undefined-lengths.dcm', 'dicom/deflated.dcm'], dir);
  // Corrupt variants of dcmtk's files.
  cut(dir, 'dicom/explicit-le.dcm', 'dicom/truncated-pixel-data.dcm', (n) => n - 1000);
  cut(dir, 'dicom/implicit-le.dcm', 'dicom/implicit-truncated-pixel-data.dcm', (n) => n - 1000);
  cut(dir, 'dicom/jpeg-baseline.dcm', 'dicom/jpeg-truncated-fragment.dcm', (n) => n - 200);
  rewrite(dir, 'dicom/explicit-le.dcm', 'dicom/bad-magic.dcm', (b) => Buffer.concat([b.subarray(0, 128), Buffer.from('DICX'), b.subarray(132)]));
  rewrite(dir, 'dicom/explicit-le.dcm', 'dicom/rows-length-past-end.dcm', (b) => {
    const copy = Buffer.from(b);
    const rows = copy.indexOf(Buffer.from([0x28, 0x00, 0x10, 0x00, 0x55, 0x53])); // (0028,0010) US
    copy.writeUInt16LE(0xfff0, rows + 6);
    return copy;
  });

  // NIfTI-1 by nifti_tool: single file, gzipped, and a .hdr/.img pair; MetaImage by plastimatch from it.
  run('nifti_tool', ['-make_im', '-prefix', 'nifti/uint8.nii', ...dims, '-new_datatype', '2'], dir);
  run('nifti_tool', ['-make_im', '-prefix', 'nifti/int16.nii', ...dims], dir);
  run('nifti_tool', ['-make_im', '-prefix', 'nifti/int16.nii.gz', ...dims], dir);
  run('nifti_tool', ['-make_im', '-prefix', 'nifti/pair.hdr', ...dims], dir);
  cut(dir, 'nifti/int16.nii', 'nifti/truncated.nii', (n) => n - 1000);
  cut(dir, 'nifti/pair.img', 'nifti/truncated-pair.img', (n) => n - 1000);
  writeFileSync(join(dir, 'nifti/truncated-pair.hdr'), readFileSync(join(dir, 'nifti/pair.hdr')));
  run('plastimatch', ['convert', '--input', 'nifti/uint8.nii', '--output-img', 'metaimage/image.mha'], dir);
  run('plastimatch', ['convert', '--input', 'nifti/int16.nii', '--output-img', 'metaimage/pair.mhd'], dir);
  cut(dir, 'metaimage/image.mha', 'metaimage/truncated.mha', (n) => n - 1000);
  writeFileSync(join(dir, 'metaimage/truncated-pair.mhd'), readFileSync(join(dir, 'metaimage/pair.mhd'), 'latin1').replace('pair.raw', 'truncated-pair.raw'));
  cut(dir, 'metaimage/pair.raw', 'metaimage/truncated-pair.raw', (n) => n - 1000);
}

function toolVersions(): string {
  const first = (command: string, args: string[]): string => {
    const r = spawnSync(command, args, { encoding: 'utf8' });
    if (r.error) throw new Error(`${command} is not installed. ${INSTALL_HINT}`);
    return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? '';
  };
  return [
    first('dcmdump', ['--version']),
    first(imageMagick(), ['-version']),
    first('nifti_tool', ['-ver']),
    first('plastimatch', ['--version']),
    // The recipe itself: a changed generator writes new files.
    createHash('sha256').update(generate.toString()).digest('hex'),
  ].join('\n');
}

let cached: string | undefined;

/** The directory holding the fixtures, written on first use per set of tool versions. */
export function thirdPartyImages(): string {
  if (cached) return cached;
  const key = createHash('sha256').update(toolVersions()).digest('hex').slice(0, 16);
  const root = join(tmpdir(), 'flotilla-third-party-images');
  const dir = join(root, key);
  if (!existsSync(join(dir, '.complete'))) {
    mkdirSync(root, { recursive: true });
    const work = mkdtempSync(join(root, `${key}.tmp-`));
    try {
      generate(work);
      writeFileSync(join(work, '.complete'), '');
      renameSync(work, dir);
    } catch (error) {
      rmSync(work, { recursive: true, force: true });
      // Another process wrote the same set first: theirs is as good.
      if (!existsSync(join(dir, '.complete'))) throw error;
    }
  }
  cached = dir;
  return dir;
}

