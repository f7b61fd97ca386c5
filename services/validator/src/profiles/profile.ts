import type { TeamsEdition, ValidationIssue } from '@flotilla/contracts';
import type { ImageHeader } from './formats.js';
import type { IssueList } from './issue-list.js';

/**
 * What the validator read of one object, in a single pass: sizes, content hashes, the
 * first bytes, and the whole content when the profile asked for it.
 */
export interface FileFacts {
  fileId: string;
  filename: string;
  contentType: string;
  /** The size `upload/start` declared. */
  declaredSize: number;
  /** The SHA-256 `upload/start` declared, if any (hex, lower-case). */
  declaredSha256?: string;
  /** Bytes actually read. */
  size: number;
  /** Hex of the content. */
  sha256: string;
  md5: string;
  /**
   * The first {@link HEAD_BYTES} bytes, all of them when the object is smaller. Emptied
   * by {@link Profile.summarize} once what the rules need of it is taken out.
   */
  head: Buffer;
  /** `xray`: the image header read from `head` (set by `summarize`). */
  image?: ImageHeader;
  /** The whole content: only when the profile's `wantsBody` said so and `size <= BODY_LIMIT_BYTES`. */
  body?: Buffer;
}

/**
 * How much of each object is kept for format checks. Enough for a JPEG frame header
 * after typical EXIF and ICC segments, a DICOM header up to Rows/Columns, a NIfTI or
 * MetaImage header. An image whose header reaches past it is not judged corrupt.
 */
export const HEAD_BYTES = 256 * 1024;

/** Largest content kept whole (manifests, team documents); a bigger one is reported too large. */
export const BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** A deployment's and a dataset's settings for a profile. */
export interface ProfileOptions {
  /** `teams-json`: the declared edition, used when no ROM is in the dataset. */
  edition?: TeamsEdition;
  /** `xray`: the smallest width and height accepted, in pixels. */
  minImageSize: number;
  /** `xray`: the allowed labels. */
  labels: string[];
}

export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = { minImageSize: 64, labels: ['normal', 'abnormal'] };

/** The rules of one dataset profile: pure functions of what was read, no I/O. */
export interface Profile {
  /** Whether the validator must keep this file's whole content (subject to BODY_LIMIT_BYTES). */
  wantsBody(file: { filename: string; contentType: string; sizeBytes: number }): boolean;
  /**
   * Keeps what the rules need of one file's first bytes and drops the bytes, so a
   * dataset of many files is held in little memory until {@link validate}.
   */
  summarize(file: FileFacts): FileFacts;
  /**
   * Every issue found in the dataset, in a stable order, added to `issues` (which may keep
   * only some of them, see {@link IssueList}); answers what `issues` kept.
   */
  validate(files: FileFacts[], options: ProfileOptions, issues?: IssueList): ValidationIssue[];
  /**
   * The same as {@link validate}, in steps: a profile whose check of one dataset may take
   * seconds yields between parts of it, so the validator's other jobs, its lease renewals
   * and its RPCs run in between.
   */
  validateInSteps?(files: FileFacts[], options: ProfileOptions, issues?: IssueList): Generator<void, ValidationIssue[]>;
}

/** Runs the steps of {@link Profile.validateInSteps} at once. */
export function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
