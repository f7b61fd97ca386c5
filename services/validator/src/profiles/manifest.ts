import type { ValidationIssue } from '@flotilla/contracts';
import { parseCsv } from './csv.js';
import { bodyText, error, jsonError } from './issues.js';
import type { FileFacts } from './profile.js';

/** A manifest row with a filename and a label: the rows the dataset is checked against. */
export interface ManifestRow {
  /** Where the row is, for messages: `line 4` (CSV) or `entry 3` (JSON, 1-based). */
  where: string;
  /** The row's JSON pointer in a `manifest.json`. */
  path?: string;
  filename: string;
  label: string;
  sha256?: string;
  patientId?: string;
  split?: string;
}

export interface Manifest {
  /** The manifest's filename. */
  file: string;
  /** Rows with both a filename and a label, each filename once. */
  rows: ManifestRow[];
  /** Every filename the manifest names, valid row or not: such a file is not "unlisted". */
  named: Set<string>;
  issues: ValidationIssue[];
}

export const MANIFEST_NAMES = ['manifest.csv', 'manifest.json'];
export const isManifest = (filename: string): boolean => MANIFEST_NAMES.includes(filename.toLowerCase());

const REQUIRED_COLUMNS = ['filename', 'label'];
const OPTIONAL_COLUMNS = ['sha256', 'patient_id', 'split'];

interface RawRow {
  where: string;
  path?: string;
  values: Partial<Record<'filename' | 'label' | 'sha256' | 'patient_id' | 'split', string>>;
  /** Why the row is broken beyond a missing filename or label; its filename still counts as named. */
  problem?: { message: string; path?: string };
}

/**
 * Reads `manifest.csv` (header `filename,label`, optionally `sha256`, `patient_id`,
 * `split`; other columns ignored) or `manifest.json` (an array of objects with the same
 * members). Each row without a filename or label, or naming a file a second time, is
 * one `manifest_invalid` issue; an unreadable or empty manifest is one for the file.
 */
export function readManifest(file: FileFacts): Manifest {
  const manifest: Manifest = { file: file.filename, rows: [], named: new Set(), issues: [] };
  // `message` follows the file's name: "manifest.csv line 4: no label", "manifest.json is not UTF-8 text".
  const invalid = (message: string, path?: string): void => {
    manifest.issues.push(error('manifest_invalid', `${file.filename} ${message}`, { file: file.filename, ...(path ? { path } : {}) }));
  };
  const content = bodyText(file);
  if ('problem' in content) {
    invalid(content.problem);
    return manifest;
  }
  const raw = file.filename.toLowerCase().endsWith('.json') ? jsonRows(content.text, invalid) : csvRows(content.text, invalid);
  if (!raw) return manifest;
  if (raw.length === 0) {
    invalid('has no rows: it needs one row per image');
    return manifest;
  }
  const firstSeen = new Map<string, string>();
  for (const row of raw) {
    const { filename, label } = row.values;
    if (filename) manifest.named.add(filename);
    if (row.problem) {
      invalid(`${row.where}: ${row.problem.message}`, row.problem.path);
      continue;
    }
    if (!filename && !label) {
      invalid(`${row.where}: no filename and no label`, row.path);
      continue;
    }
    if (!filename) {
      invalid(`${row.where}: no filename`, row.path);
      continue;
    }
    if (!label) {
      invalid(`${row.where}: ${filename} has no label`, row.path);
      continue;
    }
    const earlier = firstSeen.get(filename);
    if (earlier) {
      invalid(`${row.where}: ${filename} is already listed (${earlier})`, row.path);
      continue;
    }
    firstSeen.set(filename, row.where);
    manifest.rows.push({
      where: row.where,
      ...(row.path ? { path: row.path } : {}),
      filename,
      label,
      ...(row.values.sha256 ? { sha256: row.values.sha256 } : {}),
      ...(row.values.patient_id ? { patientId: row.values.patient_id } : {}),
      ...(row.values.split ? { split: row.values.split } : {}),
    });
  }
  return manifest;
}

function csvRows(text: string, invalid: (message: string) => void): RawRow[] | undefined {
  const parsed = parseCsv(text);
  if ('error' in parsed) {
    invalid(`line ${parsed.line}: ${parsed.error}`);
    return undefined;
  }
  const [header, ...records] = parsed.records;
  if (!header) {
    invalid('is empty: it needs a header "filename,label" and one row per image');
    return undefined;
  }
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    invalid(`line ${header.line}: the header has no ${missing.join(' or ')} column (it reads "${header.fields.join(',')}")`);
    return undefined;
  }
  const repeated = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].filter((c) => columns.indexOf(c) !== columns.lastIndexOf(c));
  if (repeated.length > 0) {
    invalid(`line ${header.line}: the header has more than one ${repeated.join(' and ')} column`);
    return undefined;
  }
  const rows: RawRow[] = [];
  for (const record of records) {
    // Fewer fields than columns reads the missing ones as empty (some exports drop
    // trailing empty fields); more fields than columns is a broken row.
    const values: RawRow['values'] = {};
    for (const column of [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS] as (keyof RawRow['values'])[]) {
      const index = columns.indexOf(column);
      const value = index >= 0 ? record.fields[index]?.trim() : undefined;
      if (value) values[column] = value;
    }
    const where = `line ${record.line}`;
    if (record.fields.length > columns.length) {
      rows.push({ where, values, problem: { message: `${record.fields.length} fields, but the header has ${columns.length} columns` } });
      continue;
    }
    rows.push({ where, values });
  }
  return rows;
}

function jsonRows(text: string, invalid: (message: string) => void): RawRow[] | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    invalid(`is not valid JSON: ${jsonError(e, text)}`);
    return undefined;
  }
  if (!Array.isArray(data)) {
    invalid('must hold an array of {"filename", "label", ...} objects at its top level');
    return undefined;
  }
  const rows: RawRow[] = [];
  data.forEach((entry: unknown, index) => {
    const where = `entry ${index + 1}`;
    const path = `/${index}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      rows.push({ where, path, values: {}, problem: { message: 'not an object', path } });
      return;
    }
    const record = entry as Record<string, unknown>;
    const values: RawRow['values'] = {};
    let problem: RawRow['problem'];
    for (const key of [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS] as (keyof RawRow['values'])[]) {
      const value = record[key];
      if (value === undefined || value === null) continue;
      // Identifiers are often numbers in JSON; a filename, label or checksum must be text.
      const numberAllowed = key === 'patient_id' || key === 'split';
      if (typeof value === 'string' || (numberAllowed && typeof value === 'number')) {
        const text = String(value).trim();
        if (text) values[key] = text;
      } else {
        problem ??= { message: `"${key}" must be ${numberAllowed ? 'a string or a number' : 'a string'}`, path: `${path}/${key}` };
      }
    }
    rows.push({ where, path, values, ...(problem ? { problem } : {}) });
  });
  return rows;
}
