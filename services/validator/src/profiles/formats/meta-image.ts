// Reads the header of a MetaImage file for the `xray` profile (see ../formats.ts).
import type { ImageHeader } from '../formats.js';

/** Keys a MetaIO header may start with. */
const METAIO_FIRST_KEY = /^\s*(ObjectType|ObjectSubType|NDims|Comment|Name)\s*=/i;
/** Bytes per element of each MetaIO element type. */
const MET_ELEMENT_BYTES: Record<string, number> = {
  MET_CHAR: 1,
  MET_UCHAR: 1,
  MET_SHORT: 2,
  MET_USHORT: 2,
  MET_INT: 4,
  MET_UINT: 4,
  MET_LONG: 4,
  MET_ULONG: 4,
  MET_LONG_LONG: 8,
  MET_ULONG_LONG: 8,
  MET_FLOAT: 4,
  MET_DOUBLE: 8,
};

export function readMetaImage(head: Buffer, size: number): ImageHeader | undefined {
  // Look only at a bounded prefix for the first line: binary content is not a header.
  if (!METAIO_FIRST_KEY.test(head.toString('latin1', 0, Math.min(head.length, 256)))) return undefined;
  const corrupt = (why: string): ImageHeader => ({ format: 'metaimage', corrupt: why });
  const fields = new Map<string, string>();
  let headerEnd: number | undefined;
  let at = 0;
  while (at < head.length) {
    let end = head.indexOf(0x0a, at);
    if (end < 0) end = head.length;
    const line = head.toString('latin1', at, end).replace(/\r$/, '');
    at = end + 1;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) return corrupt(`header line "${line.slice(0, 60)}" is not "Key = Value"`);
    const key = line.slice(0, eq).trim().toLowerCase();
    fields.set(key, line.slice(eq + 1).trim());
    if (key === 'elementdatafile') {
      headerEnd = Math.min(at, head.length);
      break;
    }
  }
  if (headerEnd === undefined) return corrupt('the header has no ElementDataFile line, which must end it');
  const objectType = fields.get('objecttype');
  if (objectType === undefined) return corrupt('the header has no ObjectType');
  if (objectType.toLowerCase() !== 'image') return corrupt(`ObjectType is ${objectType}, not Image`);
  const nDims = Number(fields.get('ndims'));
  if (!Number.isInteger(nDims) || nDims < 2 || nDims > 10) return corrupt(`NDims ${fields.get('ndims') ?? 'is missing'}: an image has 2 or more dimensions`);
  const dimText = fields.get('dimsize');
  const dims = dimText?.split(/\s+/).map(Number) ?? [];
  if (dims.length !== nDims || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    return corrupt(`DimSize ${dimText === undefined ? 'is missing' : `"${dimText}"`}: NDims = ${nDims} positive integers expected`);
  }
  const elementType = fields.get('elementtype');
  if (elementType === undefined) return corrupt('the header has no ElementType');
  const elementBytes = MET_ELEMENT_BYTES[elementType.toUpperCase()];
  if (elementBytes === undefined) return corrupt(`ElementType ${elementType} is not a MetaIO element type`);
  const channels = Number(fields.get('elementnumberofchannels') ?? '1');
  const compressed = /^true$/i.test(fields.get('compresseddata') ?? 'false');
  const headerSize = Number(fields.get('headersize') ?? '0');
  // Compressed data, or a header of unknown size in the data file, gives no size to check.
  const dataBytes =
    !compressed && Number.isInteger(channels) && channels > 0 && Number.isInteger(headerSize) && headerSize >= 0
      ? headerSize + dims.reduce((a, b) => a * b, 1) * elementBytes * channels
      : undefined;
  const dataFile = fields.get('elementdatafile')!;
  const [width, height] = [dims[0]!, dims[1]!];
  if (dataFile.toUpperCase() === 'LOCAL') {
    if (dataBytes !== undefined && size - headerEnd < dataBytes) {
      return corrupt(`the data after the header is ${size - headerEnd} bytes; DimSize and ElementType need ${dataBytes}`);
    }
    return { format: 'metaimage', width, height };
  }
  // A file list or a numbered pattern names several files: those are not followed.
  if (dataFile.toUpperCase().startsWith('LIST') || dataFile.includes('%') || /\s/.test(dataFile)) {
    return { format: 'metaimage', width, height };
  }
  return { format: 'metaimage', width, height, dataFile, ...(dataBytes !== undefined ? { dataFileBytes: dataBytes } : {}) };
}
