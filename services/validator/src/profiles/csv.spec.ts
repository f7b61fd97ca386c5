import { describe, expect, it } from '@jest/globals';
import { parseCsv } from './csv.js';

describe('parseCsv', () => {
  it('splits records on LF and CRLF, skipping blank lines, with each record’s line', () => {
    expect(parseCsv('a,b\r\n1,2\n\n3,4')).toEqual({
      records: [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', '2'] },
        { line: 4, fields: ['3', '4'] },
      ],
    });
  });

  it('reads quoted fields with commas, doubled quotes and line breaks, and counts the lines they span', () => {
    const result = parseCsv('filename,label\n"chest, lateral.png","ab""normal"\n"two\nlines.png",normal\nlast.png,""\n');
    expect(result).toEqual({
      records: [
        { line: 1, fields: ['filename', 'label'] },
        { line: 2, fields: ['chest, lateral.png', 'ab"normal'] },
        { line: 3, fields: ['two\nlines.png', 'normal'] },
        { line: 5, fields: ['last.png', ''] },
      ],
    });
  });

  it('drops a byte order mark and keeps empty fields', () => {
    expect(parseCsv('\uFEFFfilename,label\n,normal,')).toEqual({
      records: [
        { line: 1, fields: ['filename', 'label'] },
        { line: 2, fields: ['', 'normal', ''] },
      ],
    });
  });

  it('keeps a quote inside an unquoted field as it is', () => {
    expect(parseCsv('o"brien.png,normal')).toEqual({ records: [{ line: 1, fields: ['o"brien.png', 'normal'] }] });
  });

  it('reports a quoted field never closed, with the line it opens on', () => {
    expect(parseCsv('filename,label\na.png,normal\n"b.png,normal\nc.png,normal\n')).toEqual({ error: 'a quoted field is never closed', line: 3 });
  });

  it('reports text after a closing quote', () => {
    expect(parseCsv('"a.png"x,normal')).toEqual({ error: 'a closing quote is followed by more text in the same field', line: 1 });
  });

  it('reads nothing from empty input', () => {
    expect(parseCsv('')).toEqual({ records: [] });
    expect(parseCsv('\r\n\n')).toEqual({ records: [] });
  });
});
