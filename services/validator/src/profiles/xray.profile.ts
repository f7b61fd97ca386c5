import type { ValidationIssue } from '@flotilla/contracts';
import { FORMAT_NAMES, formatOfExtension, readImageHeader, type ImageHeader } from './formats.js';
import { IssueList } from './issue-list.js';
import { error, extensionOf, integrityIssues, warning } from './issues.js';
import { isManifest, readManifest, type Manifest } from './manifest.js';
import type { FileFacts, Profile, ProfileOptions } from './profile.js';

const EMPTY = Buffer.alloc(0);
const SUPPORTED = 'PNG, JPEG, DICOM, MetaImage (.mha/.mhd) or NIfTI-1';

/**
 * `xray`: image files plus exactly one manifest (`manifest.csv` or `manifest.json`).
 * Only the manifest is read whole; images are judged by their first bytes.
 */
export const xrayProfile: Profile = {
  wantsBody: ({ filename }) => isManifest(filename),

  summarize: (file) => (isManifest(file.filename) ? file : { ...file, image: readImageHeader(file.head, file.size), head: EMPTY }),

  validate(files: FileFacts[], options: ProfileOptions, issues = new IssueList()): ValidationIssue[] {
    issues.add(files.flatMap(integrityIssues));
    const byName = new Map(files.map((f) => [f.filename, f]));

    const manifests = files.filter((f) => isManifest(f.filename));
    let manifest: Manifest | undefined;
    if (manifests.length === 0) {
      issues.push(error('manifest_missing', 'The dataset has no manifest: add manifest.csv (header "filename,label") or manifest.json'));
    } else if (manifests.length > 1) {
      const names = manifests.map((m) => m.filename).sort();
      issues.push(error('manifest_duplicate', `The dataset has ${manifests.length} manifests (${names.join(', ')}): keep exactly one`));
    } else {
      manifest = readManifest(manifests[0]!);
      issues.add(manifest.issues);
    }

    const images = files.filter((f) => !isManifest(f.filename));
    const headers = new Map<string, ImageHeader | undefined>(images.map((f) => [f.filename, f.image ?? readImageHeader(f.head, f.size)]));
    // Files that hold another image's data (a .mhd's .raw, a two-file NIfTI's .img), with the header naming them.
    const dataFiles = new Map<string, { owner: string; bytes?: number }>();
    for (const [filename, header] of headers) {
      const dataFile = header && !header.corrupt && !header.notImage ? dataFileOf(filename, header) : undefined;
      if (dataFile) dataFiles.set(dataFile, { owner: filename, ...(header?.dataFileBytes !== undefined ? { bytes: header.dataFileBytes } : {}) });
    }

    for (const file of images) {
      const data = dataFiles.get(file.filename);
      if (data) {
        if (data.bytes !== undefined && file.size < data.bytes) {
          issues.push(
            error('corrupt_image', `${file.filename} is ${file.size} bytes; ${data.owner} needs ${data.bytes} bytes of image data in it`, {
              file: file.filename,
            }),
          );
        }
        continue;
      }
      issues.add(imageIssues(file, headers.get(file.filename), options, byName));
    }

    if (manifest) manifestIssues(manifest, images, byName, dataFiles, options, issues);
    issues.add(duplicateContent(files));
    return issues.toArray();
  },
};

function dataFileOf(filename: string, header: ImageHeader): string | undefined {
  if (header.dataFile) return header.dataFile;
  if (header.dataFileExtension) return filename.replace(/\.[^.]*$/, `.${header.dataFileExtension}`);
  return undefined;
}

function imageIssues(file: FileFacts, header: ImageHeader | undefined, options: ProfileOptions, byName: Map<string, FileFacts>): ValidationIssue[] {
  const at = { file: file.filename };
  if (!header) {
    return [error('unsupported_format', `${file.filename} is not a supported image: its content is none of ${SUPPORTED}`, at)];
  }
  const issues: ValidationIssue[] = [];
  const extension = extensionOf(file.filename);
  const promised = formatOfExtension(extension);
  if (promised && promised !== header.format) {
    issues.push(
      error('format_mismatch', `${file.filename} is named .${extension} (${FORMAT_NAMES[promised]}) but its content is ${FORMAT_NAMES[header.format]}`, at),
    );
  }
  if (header.notImage) {
    issues.push(error('unsupported_format', `${file.filename} is a ${FORMAT_NAMES[header.format]} file without an image: ${header.notImage}`, at));
    return issues;
  }
  if (header.corrupt) {
    issues.push(error('corrupt_image', `${file.filename}: the ${FORMAT_NAMES[header.format]} header cannot be read: ${header.corrupt}`, at));
    return issues;
  }
  const { width, height } = header;
  const min = options.minImageSize;
  if ((width !== undefined && width < min) || (height !== undefined && height < min)) {
    issues.push(
      error('image_too_small', `${file.filename} is ${width ?? '?'}x${height ?? '?'} pixels; both sides must be at least ${min}`, at),
    );
  }
  const dataFile = dataFileOf(file.filename, header);
  if (dataFile && !byName.has(dataFile)) {
    issues.push(error('missing_file', `${file.filename} keeps its image data in ${dataFile}, which is not in the dataset`, { file: dataFile }));
  }
  return issues;
}

function manifestIssues(
  manifest: Manifest,
  images: FileFacts[],
  byName: Map<string, FileFacts>,
  dataFiles: Map<string, { owner: string }>,
  options: ProfileOptions,
  issues: IssueList,
): void {
  const allowed = new Set(options.labels);
  for (const row of manifest.rows) {
    const at = { file: row.filename, ...(row.path ? { path: row.path } : {}) };
    const file = byName.get(row.filename);
    if (!file) {
      issues.push(error('missing_file', `Manifest ${row.where} names ${row.filename}, which is not in the dataset`, at));
    } else if (row.sha256 !== undefined && row.sha256.toLowerCase() !== file.sha256) {
      issues.push(error('checksum_mismatch', `${row.filename} has SHA-256 ${file.sha256}; the manifest (${row.where}) says ${row.sha256}`, at));
    }
    if (!allowed.has(row.label)) {
      issues.push(
        error('invalid_label', `Manifest ${row.where}: label "${row.label}" of ${row.filename} is not one of ${options.labels.join(', ')}`, at),
      );
    }
  }
  for (const file of images) {
    if (!manifest.named.has(file.filename) && !dataFiles.has(file.filename)) {
      issues.push(warning('unlisted_file', `${file.filename} is in the dataset but not in the manifest`, { file: file.filename }));
    }
  }
  // One patient in two splits leaks between training and evaluation.
  const splits = new Map<string, Map<string, string[]>>();
  for (const row of manifest.rows) {
    if (row.patientId === undefined || row.split === undefined) continue;
    const bySplit = splits.get(row.patientId) ?? new Map<string, string[]>();
    bySplit.set(row.split, [...(bySplit.get(row.split) ?? []), row.where]);
    splits.set(row.patientId, bySplit);
  }
  for (const [patient, bySplit] of splits) {
    if (bySplit.size < 2) continue;
    const where = [...bySplit].map(([split, rows]) => `${split} (${rows.join(', ')})`).join(', ');
    issues.push(error('patient_split_leak', `Patient ${patient} is in more than one split: ${where}`, { file: manifest.file }));
  }
}

/** One warning per file whose bytes equal an earlier file's. */
function duplicateContent(files: FileFacts[]): ValidationIssue[] {
  const first = new Map<string, string>();
  const issues: ValidationIssue[] = [];
  for (const file of files) {
    const earlier = first.get(file.sha256);
    if (earlier === undefined) first.set(file.sha256, file.filename);
    else issues.push(warning('duplicate_content', `${file.filename} has the same content as ${earlier} (SHA-256 ${file.sha256})`, { file: file.filename }));
  }
  return issues;
}
