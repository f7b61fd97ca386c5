import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetProfile, TeamsEdition } from '@flotilla/contracts';
import { dicom } from './dicom.js';
import { jpeg } from './jpeg.js';
import { metaImage, metaImageData, metaImageHeader } from './meta-image.js';
import { nifti } from './nifti.js';
import { png, pngWithTruncatedHeader } from './png.js';
import { rom, teamsDocument, teamsJson } from './teams.js';

export interface SampleFile {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** A dataset as a user would upload it, with the verdict the validator must reach. */
export interface SampleDataset {
  name: string;
  profile: DatasetProfile;
  options?: { edition?: TeamsEdition };
  files: SampleFile[];
  expectedStatus: 'passed' | 'failed';
  /** The distinct issue codes the validator reports, sorted. */
  expectedCodes: string[];
}

const sha256 = (content: Buffer): string => createHash('sha256').update(content).digest('hex');

const file = (filename: string, contentType: string, content: Buffer): SampleFile => ({ filename, contentType, content });
const csv = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');

/** Valid images of every supported format, 64 px or more on each side. */
function validImages(): SampleFile[] {
  return [
    file('chest-001.png', 'image/png', png({ width: 128, height: 96, seed: 1 })),
    file('chest-002.jpg', 'image/jpeg', jpeg({ width: 100, height: 120, seed: 2 })),
    file('chest-003.dcm', 'application/dicom', dicom({ rows: 128, columns: 112, seed: 3 })),
    file('chest-004.mha', 'application/octet-stream', metaImage({ width: 64, height: 80, seed: 4 })),
    file('chest-005.nii', 'application/octet-stream', nifti({ x: 64, y: 64, z: 4, seed: 5 })),
    file('chest-006.mhd', 'text/plain', metaImageHeader({ width: 72, height: 72, dataFile: 'chest-006.raw' })),
    file('chest-006.raw', 'application/octet-stream', metaImageData({ width: 72, height: 72, seed: 6 })),
  ];
}

const PATIENTS: Record<string, [patient: string, split: string, label: string]> = {
  'chest-001.png': ['P001', 'train', 'normal'],
  'chest-002.jpg': ['P001', 'train', 'abnormal'],
  'chest-003.dcm': ['P002', 'train', 'normal'],
  'chest-004.mha': ['P003', 'val', 'abnormal'],
  'chest-005.nii': ['P004', 'test', 'normal'],
  'chest-006.mhd': ['P004', 'test', 'abnormal'],
};

function validManifestCsv(images: SampleFile[]): Buffer {
  const rows = images
    .filter((f) => PATIENTS[f.filename])
    .map((f) => {
      const [patient, split, label] = PATIENTS[f.filename]!;
      return [f.filename, label, sha256(f.content), patient, split];
    });
  // One row fully quoted, as spreadsheet exports do.
  const lines = rows.map((r, i) => (i === 1 ? r.map((v) => `"${v}"`).join(',') : r.join(',')));
  return csv(['filename,label,sha256,patient_id,split', ...lines]);
}

function validManifestJson(images: SampleFile[]): Buffer {
  const rows = images
    .filter((f) => PATIENTS[f.filename])
    .map((f) => {
      const [patient_id, split, label] = PATIENTS[f.filename]!;
      return { filename: f.filename, label, sha256: sha256(f.content), patient_id, split };
    });
  return Buffer.from(JSON.stringify(rows, null, 2), 'utf8');
}

function xrayValid(): SampleDataset {
  const images = validImages();
  return {
    name: 'xray-valid',
    profile: 'xray',
    files: [...images, file('manifest.csv', 'text/csv', validManifestCsv(images))],
    expectedStatus: 'passed',
    expectedCodes: [],
  };
}

function xrayBroken(): SampleDataset {
  const ok = png({ width: 96, height: 96, seed: 100 });
  const altered = png({ width: 96, height: 96, seed: 103 });
  const files = [
    file('ok-001.png', 'image/png', ok),
    file('copy-of-001.png', 'image/png', Buffer.from(ok)), // duplicate_content
    file('altered-003.png', 'image/png', altered), // checksum_mismatch: the manifest has another sum
    file('notes-004.dcm', 'application/dicom', Buffer.from('Scan notes: patient moved, repeat tomorrow.\n')), // unsupported_format
    file('photo-005.png', 'image/png', jpeg({ width: 96, height: 96 })), // format_mismatch
    file('truncated-006.png', 'image/png', pngWithTruncatedHeader()), // corrupt_image
    file('thumb-007.png', 'image/png', png({ width: 32, height: 32, seed: 107 })), // image_too_small
    file('odd-label-008.png', 'image/png', png({ width: 80, height: 80, seed: 108 })), // invalid_label
    file('leak-009.png', 'image/png', png({ width: 80, height: 80, seed: 109 })), // patient_split_leak
    file('no-label-010.png', 'image/png', png({ width: 80, height: 80, seed: 110 })), // manifest_invalid
    file('extra-011.png', 'image/png', png({ width: 80, height: 80, seed: 111 })), // unlisted_file
  ];
  const manifest = csv([
    'filename,label,sha256,patient_id,split',
    `ok-001.png,normal,${sha256(ok)},P100,train`,
    'copy-of-001.png,normal,,P101,train',
    'gone-002.png,abnormal,,P102,train', // missing_file
    `altered-003.png,normal,${sha256(ok)},P103,train`,
    'notes-004.dcm,normal,,P104,train',
    'photo-005.png,abnormal,,P105,val',
    'truncated-006.png,normal,,P106,val',
    'thumb-007.png,normal,,P107,val',
    'odd-label-008.png,unsure,,P108,test',
    'leak-009.png,abnormal,,P100,test',
    'no-label-010.png,,,P110,test',
    ',normal,,P111,test', // manifest_invalid: no filename
  ]);
  return {
    name: 'xray-broken',
    profile: 'xray',
    files: [...files, file('manifest.csv', 'text/csv', manifest)],
    expectedStatus: 'failed',
    expectedCodes: [
      'checksum_mismatch',
      'corrupt_image',
      'duplicate_content',
      'format_mismatch',
      'image_too_small',
      'invalid_label',
      'manifest_invalid',
      'missing_file',
      'patient_split_leak',
      'unlisted_file',
      'unsupported_format',
    ],
  };
}

function xrayNoManifest(): SampleDataset {
  return { name: 'xray-no-manifest', profile: 'xray', files: validImages(), expectedStatus: 'failed', expectedCodes: ['manifest_missing'] };
}

function xrayTwoManifests(): SampleDataset {
  const images = validImages();
  return {
    name: 'xray-two-manifests',
    profile: 'xray',
    files: [
      ...images,
      file('manifest.csv', 'text/csv', validManifestCsv(images)),
      file('manifest.json', 'application/json', validManifestJson(images)),
    ],
    expectedStatus: 'failed',
    expectedCodes: ['manifest_duplicate'],
  };
}

const teamsFile = (content: Buffer): SampleFile => file('teams.json', 'application/json', content);
const romFile = (content: Buffer): SampleFile => file('game.bin', 'application/octet-stream', content);

function teamsValid(): SampleDataset {
  return {
    name: 'teams-valid',
    profile: 'teams-json',
    options: { edition: 'original' },
    files: [teamsFile(teamsJson(teamsDocument('original')))],
    expectedStatus: 'passed',
    expectedCodes: [],
  };
}

function teamsBroken(): SampleDataset {
  const doc = teamsDocument('original', (d) => {
    d.national[0]!.coach = 'JOSÉ 9'; // invalid_chars
    d.national[1]!.tactic = '4-2-4'; // invalid_value
    d.national[2]!.kit.first.shirt1 = 'purple'; // invalid_value
    d.club[0]!.players[2]!.number = 17; // invalid_value
    d.club[3]!.players.pop(); // player_count, and 4 subs: sub_count
    d.club[5]!.players[3]!.position = 'goalkeeper'; // formation_slots: slot 0 twice, slot 3 empty
  });
  return {
    name: 'teams-broken',
    profile: 'teams-json',
    // A ROM whose MD5 is neither edition's: the team counts are not enforced.
    files: [teamsFile(teamsJson(doc)), romFile(rom(131_072))],
    expectedStatus: 'failed',
    expectedCodes: ['formation_slots', 'invalid_chars', 'invalid_value', 'player_count', 'rom_unknown_edition', 'sub_count'],
  };
}

function teamsWrongEdition(): SampleDataset {
  return {
    name: 'teams-wrong-edition',
    profile: 'teams-json',
    // An original-edition document declared as international: 40 national teams, not 51.
    options: { edition: 'international' },
    files: [teamsFile(teamsJson(teamsDocument('original')))],
    expectedStatus: 'failed',
    expectedCodes: ['team_count'],
  };
}

function teamsSmallRom(): SampleDataset {
  return {
    name: 'teams-small-rom',
    profile: 'teams-json',
    files: [teamsFile(teamsJson(teamsDocument('original'))), romFile(rom(65_536))],
    expectedStatus: 'failed',
    expectedCodes: ['rom_too_small'],
  };
}

function teamsNotJson(): SampleDataset {
  const text = teamsJson(teamsDocument('original')).toString('utf8');
  return {
    name: 'teams-not-json',
    profile: 'teams-json',
    // Cut off in the middle: the document does not parse.
    files: [teamsFile(Buffer.from(text.slice(0, Math.floor(text.length / 2)), 'utf8'))],
    expectedStatus: 'failed',
    expectedCodes: ['json_invalid'],
  };
}

function teamsNoCategories(): SampleDataset {
  const { national, club } = teamsDocument('original');
  return {
    name: 'teams-no-categories',
    profile: 'teams-json',
    files: [teamsFile(Buffer.from(JSON.stringify({ teams: [...national, ...club] }), 'utf8'))],
    expectedStatus: 'failed',
    expectedCodes: ['categories_missing'],
  };
}

/**
 * Every sample dataset, built afresh (the bytes are deterministic): valid ones that
 * pass with no issue at all, and broken ones each with the exact set of issue codes
 * the validator must report. `size_mismatch` is not among them: an upload cannot be
 * completed with a size other than the declared one.
 */
export function sampleDatasets(): SampleDataset[] {
  return [
    xrayValid(),
    xrayBroken(),
    xrayNoManifest(),
    xrayTwoManifests(),
    teamsValid(),
    teamsBroken(),
    teamsWrongEdition(),
    teamsSmallRom(),
    teamsNotJson(),
    teamsNoCategories(),
  ];
}

/**
 * Writes each sample dataset as a folder `dir/<name>/` holding its files (nothing
 * else), and returns the datasets. Each `dir/<name>/` is emptied first, so files of an
 * earlier run do not linger; nothing else in `dir` is touched.
 */
export async function writeSampleDatasets(dir: string): Promise<SampleDataset[]> {
  const datasets = sampleDatasets();
  for (const dataset of datasets) {
    const folder = join(dir, dataset.name);
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    for (const f of dataset.files) await writeFile(join(folder, f.filename), f.content);
  }
  return datasets;
}
