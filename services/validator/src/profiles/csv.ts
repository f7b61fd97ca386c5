/** One CSV record and the line it starts on (1-based; a quoted field may span lines). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export type CsvResult = { records: CsvRecord[] } | { error: string; line: number };

/**
 * Parses CSV as RFC 4180 writes it, and as spreadsheets export it: fields separated by
 * commas, records by CRLF or LF, fields in double quotes may hold commas, line breaks
 * and doubled quotes (`""`). A leading byte order mark is dropped; blank lines are
 * skipped. A quote inside an unquoted field is kept as it is.
 */
export function parseCsv(input: string): CsvResult {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let atFieldStart = true;
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endField = (): void => {
    fields.push(field);
    field = '';
    atFieldStart = true;
  };
  const endRecord = (): void => {
    endField();
    const blank = fields.length === 1 && fields[0]!.trim() === '';
    if (!blank) records.push({ line: recordLine, fields });
    fields = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && atFieldStart) {
      // A quoted field: up to the closing quote, then a separator or the end of the record.
      const quoteLine = line;
      atFieldStart = false;
      i++;
      for (;;) {
        if (i >= text.length) return { error: 'a quoted field is never closed', line: quoteLine };
        const q = text[i]!;
        if (q === '"' && text[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (q === '"') {
          i++;
          break;
        } else {
          if (q === '\n') line++;
          field += q;
          i++;
        }
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        return { error: 'a closing quote is followed by more text in the same field', line };
      }
      continue;
    }
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      field += c;
      atFieldStart = false;
      i++;
    }
  }
  if (!atFieldStart || fields.length > 0) endRecord();
  return { records };
}
