import type { ValidationIssue } from '@flotilla/contracts';
import { BODY_LIMIT_BYTES, type FileFacts } from './profile.js';

export const error = (code: string, message: string, where: { file?: string; path?: string } = {}): ValidationIssue => ({
  severity: 'error',
  code,
  ...where,
  message,
});

export const warning = (code: string, message: string, where: { file?: string; path?: string } = {}): ValidationIssue => ({
  severity: 'warning',
  code,
  ...where,
  message,
});

/** `size_mismatch` and, when `upload/start` declared one, `checksum_mismatch` against the declared SHA-256. */
export function integrityIssues(file: FileFacts): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (file.size !== file.declaredSize) {
    issues.push(
      error('size_mismatch', `${file.filename} is ${file.size} bytes; upload/start declared ${file.declaredSize}`, { file: file.filename }),
    );
  }
  if (file.declaredSha256 !== undefined && file.declaredSha256.toLowerCase() !== file.sha256) {
    issues.push(
      error('checksum_mismatch', `${file.filename} has SHA-256 ${file.sha256}; upload/start declared ${file.declaredSha256}`, {
        file: file.filename,
      }),
    );
  }
  return issues;
}

/**
 * The file's content as text, or why it cannot be had — too large, not read, not UTF-8
 * — as a phrase to follow the file's name ("is too large ...").
 */
export function bodyText(file: FileFacts): { text: string } | { problem: string } {
  if (!file.body) {
    return file.size > BODY_LIMIT_BYTES
      ? { problem: `is too large to check: ${file.size} bytes, and at most ${BODY_LIMIT_BYTES} are read` }
      : { problem: 'was not read whole' };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.body);
  } catch {
    return { problem: 'is not UTF-8 text' };
  }
  // TextDecoder drops a leading BOM by default (ignoreBOM false), so `text` starts with the content.
  return { text };
}

/** The lower-case extension after the last dot (`nii.gz` counts as one), or '' when there is none. */
export function extensionOf(filename: string): string {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.nii.gz')) return 'nii.gz';
  const dot = lower.lastIndexOf('.');
  return dot <= 0 ? '' : lower.slice(dot + 1);
}

/** A JSON.parse error, with the line and column where it stopped when that is known. */
export function jsonError(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  const match = /at position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : /Unexpected end/.test(message) ? text.length : undefined;
  if (position === undefined) return message;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}
