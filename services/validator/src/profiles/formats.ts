import { constants, gunzipSync, inflateRawSync } from 'node:zlib';

/** The image formats the `xray` profile accepts. */
export type ImageFormat = 'png' | 'jpeg' | 'dicom' | 'metaimage' | 'nifti';

export const FORMAT_NAMES: Record<ImageFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  dicom: 'DICOM',
  metaimage: 'MetaImage',
  nifti: 'NIfTI-1',
};

/** What the first bytes of a file say about it as an image. */
export interface ImageHeader {
  format: ImageFormat;
  /** Why the header cannot be read: set means the file is corrupt. */
  corrupt?: string;
  /** Set when the header was read that far; a header reaching past the bytes kept leaves them unset. */
  width?: number;
  height?: number;
  /** The separate file holding the data: a `.mhd`'s `ElementDataFile`. */
  dataFile?: string;
  /** A two-file NIfTI-1 (`ni1`): its data is the file of the same name with this extension. */
  dataFileExtension?: 'img';
  /** Bytes that separate data file must hold at least, when the header says so. */
  dataFileBytes?: number;
}

const EXTENSIONS: Record<string, ImageFormat> = {
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  jpe: 'jpeg',
  jfif: 'jpeg',
  dcm: 'dicom',
  dicom: 'dicom',
  dic: 'dicom',
  mha: 'metaimage',
  mhd: 'metaimage',
  nii: 'nifti',
  'nii.gz': 'nifti',
  hdr: 'nifti',
};

/** The format an extension (lower-case, as from `extensionOf`) promises, if it names one. */
export function formatOfExtension(extension: string): ImageFormat | undefined {
  return Object.hasOwn(EXTENSIONS, extension) ? EXTENSIONS[extension] : undefined;
}

/**
 * Detects the format from a file's first bytes and reads its header. `size` is the
 * whole file's: when `head` holds all of it, a header that runs out of bytes is
 * corrupt; otherwise it merely reaches past what was kept, and is not judged.
 * Returns `undefined` when the content is none of the supported formats.
 */
export function readImageHeader(head: Buffer, size: number): ImageHeader | undefined {
  const complete = head.length >= size;
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) return readPng(head, complete);
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return readJpeg(head, complete);
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return readDicom(head, complete);
  const nifti = readNifti(head, size);
  if (nifti) return nifti;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return readGzippedNifti(head);
  return readMetaImage(head, size);
}

// ---------------------------------------------------------------------------------- PNG

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Allowed bit depths per colour type (PNG spec, table 11.1). */
const PNG_BIT_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function readPng(head: Buffer, complete: boolean): ImageHeader {
  const corrupt = (why: string): ImageHeader => ({ format: 'png', corrupt: why });
  // Signature (8), IHDR length and type (8), IHDR data (13), CRC (4).
  if (head.length < 33) return complete ? corrupt('the file ends inside the IHDR header chunk') : { format: 'png' };
  if (head.toString('latin1', 12, 16) !== 'IHDR' || head.readUInt32BE(8) !== 13) {
    return corrupt('the first chunk is not a 13-byte IHDR header');
  }
  if (crc32(head.subarray(12, 29)) !== head.readUInt32BE(29)) return corrupt('the IHDR header chunk fails its CRC');
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  const [bitDepth, colourType, compression, filter, interlace] = [head[24]!, head[25]!, head[26]!, head[27]!, head[28]!];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    return corrupt(`the IHDR header gives an impossible size ${width}x${height}`);
  }
  if (!PNG_BIT_DEPTHS[colourType]?.includes(bitDepth)) {
    return corrupt(`the IHDR header gives an invalid colour type ${colourType} with bit depth ${bitDepth}`);
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) return corrupt('the IHDR header names an unknown compression, filter or interlace method');
  return { format: 'png', width, height };
}

// --------------------------------------------------------------------------------- JPEG

/** SOF0–SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isFrameHeader = (marker: number): boolean => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** Markers without a length: TEM, RST0–7, SOI. */
const isStandalone = (marker: number): boolean => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

function readJpeg(head: Buffer, complete: boolean): ImageHeader {
  const corrupt = (why: string): ImageHeader => ({ format: 'jpeg', corrupt: why });
  const outOfBytes = (): ImageHeader => (complete ? corrupt('the file ends before the frame header (SOF) that gives the image size') : { format: 'jpeg' });
  let i = 2;
  for (;;) {
    if (i >= head.length) return outOfBytes();
    if (head[i] !== 0xff) return corrupt(`expected a marker at byte ${i}, found 0x${head[i]!.toString(16).padStart(2, '0')}`);
    while (i < head.length && head[i] === 0xff) i++; // fill bytes
    if (i >= head.length) return outOfBytes();
    const marker = head[i]!;
    i++;
    if (isStandalone(marker)) continue;
    if (marker === 0xd9) return corrupt('the image ends (EOI) without a frame header (SOF)');
    if (marker === 0xda) return corrupt('the scan (SOS) starts without a frame header (SOF)');
    if (i + 2 > head.length) return outOfBytes();
    const length = head.readUInt16BE(i);
    if (length < 2) return corrupt(`marker 0xFF${marker.toString(16).toUpperCase()} at byte ${i - 2} has an invalid length ${length}`);
    if (isFrameHeader(marker)) {
      if (length < 8) return corrupt(`the frame header (SOF) is only ${length} bytes long`);
      if (i + 7 > head.length) return outOfBytes();
      const height = head.readUInt16BE(i + 3);
      const width = head.readUInt16BE(i + 5);
      if (width === 0) return corrupt('the frame header (SOF) gives a width of 0');
      // Height 0 means it is given later, in a DNL segment: only the width is known here.
      return height === 0 ? { format: 'jpeg', width } : { format: 'jpeg', width, height };
    }
    i += length;
  }
}

// -------------------------------------------------------------------------------- DICOM

const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
const EXPLICIT_VR_BE = '1.2.840.10008.1.2.2';
const DEFLATED_EXPLICIT_VR_LE = '1.2.840.10008.1.2.1.99';
/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const ROWS = 0x00280010;
const COLUMNS = 0x00280011;
const MAX_NESTING = 16;

interface Encoding {
  littleEndian: boolean;
  explicitVr: boolean;
}

interface ElementHeader {
  tag: number;
  vr: string;
  length: number;
  valueStart: number;
}

/** A DICOM data set is malformed: raised while walking it, turned into `corrupt`. */
class DicomSyntaxError extends Error {
  override readonly name = 'DicomSyntaxError';
}

/** Raised when the bytes kept end before the walk does. */
class OutOfBytes extends Error {
  override readonly name = 'OutOfBytes';
}

const hexTag = (tag: number): string =>
  `(${(tag >>> 16).toString(16).padStart(4, '0').toUpperCase()},${(tag & 0xffff).toString(16).padStart(4, '0').toUpperCase()})`;

class DicomReader {
  constructor(
    private readonly buf: Buffer,
    private readonly encoding: Encoding,
  ) {}

  private u16(at: number): number {
    if (at + 2 > this.buf.length) throw new OutOfBytes();
    return this.encoding.littleEndian ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }

  private u32(at: number): number {
    if (at + 4 > this.buf.length) throw new OutOfBytes();
    return this.encoding.littleEndian ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  get length(): number {
    return this.buf.length;
  }

  header(at: number): ElementHeader {
    const tag = ((this.u16(at) << 16) | this.u16(at + 2)) >>> 0;
    // Items and delimiters always have a 32-bit length and no VR.
    if (tag >>> 16 === 0xfffe || !this.encoding.explicitVr) return { tag, vr: '', length: this.u32(at + 4), valueStart: at + 8 };
    if (at + 6 > this.buf.length) throw new OutOfBytes();
    const vr = this.buf.toString('latin1', at + 4, at + 6);
    if (!/^[A-Z]{2}$/.test(vr)) throw new DicomSyntaxError(`element ${hexTag(tag)} at byte ${at} has no valid VR`);
    if (LONG_VRS.has(vr)) return { tag, vr, length: this.u32(at + 8), valueStart: at + 12 };
    return { tag, vr, length: this.u16(at + 6), valueStart: at + 8 };
  }

  value(h: ElementHeader): Buffer {
    if (h.valueStart + h.length > this.buf.length) throw new OutOfBytes();
    return this.buf.subarray(h.valueStart, h.valueStart + h.length);
  }

  /** The offset after the element whose header is `h`, skipping nested sequences of undefined length. */
  skip(h: ElementHeader, depth: number): number {
    if (h.length !== UNDEFINED_LENGTH) return h.valueStart + h.length;
    if (depth > MAX_NESTING) throw new DicomSyntaxError('sequences nest too deep');
    if (h.tag === ITEM) return this.until(h.valueStart, ITEM_END, depth + 1);
    // A sequence (SQ, UN, or an implicit-VR element) or encapsulated pixel data: items up to the sequence end.
    let at = h.valueStart;
    for (;;) {
      const item = this.header(at);
      if (item.tag === SEQUENCE_END) return item.valueStart;
      if (item.tag !== ITEM) throw new DicomSyntaxError(`expected an item in ${hexTag(h.tag)} at byte ${at}, found ${hexTag(item.tag)}`);
      at = this.skip(item, depth + 1);
    }
  }

  /** Skips elements from `at` until the delimiter `end`; returns the offset after it. */
  private until(at: number, end: number, depth: number): number {
    for (;;) {
      const h = this.header(at);
      if (h.tag === end) return h.valueStart;
      at = this.skip(h, depth);
    }
  }
}

function readDicom(head: Buffer, complete: boolean): ImageHeader {
  const corrupt = (why: string): ImageHeader => ({ format: 'dicom', corrupt: why });
  const outOfBytes = (where: string): ImageHeader => (complete ? corrupt(`the file ends inside ${where}`) : { format: 'dicom' });
  // File meta information: group 0002, always explicit VR little endian.
  const meta = new DicomReader(head, { littleEndian: true, explicitVr: true });
  let at = 132;
  let transferSyntax: string | undefined;
  try {
    for (;;) {
      if (at + 2 > head.length) break;
      if (head.readUInt16LE(at) !== 0x0002) break;
      const h = meta.header(at);
      if (h.length === UNDEFINED_LENGTH) return corrupt(`file meta element ${hexTag(h.tag)} has an undefined length`);
      if (h.tag === 0x00020010) transferSyntax = meta.value(h).toString('latin1').replace(/[\0 ]+$/, '');
      at = h.valueStart + h.length;
    }
  } catch (error) {
    if (error instanceof OutOfBytes) return outOfBytes('the file meta information');
    if (error instanceof DicomSyntaxError) return corrupt(`file meta information: ${error.message}`);
    throw error;
  }
  if (transferSyntax === undefined) {
    return at + 2 > head.length && !complete ? { format: 'dicom' } : corrupt('the file meta information has no transfer syntax (0002,0010)');
  }
  let dataset = head.subarray(at);
  let whole = complete;
  if (transferSyntax === DEFLATED_EXPLICIT_VR_LE) {
    try {
      // Only a bounded slice is inflated: the header elements come first and are small.
      dataset = inflateRawSync(dataset.subarray(0, 16 * 1024), { finishFlush: constants.Z_SYNC_FLUSH });
      whole = whole && at + 16 * 1024 >= head.length;
    } catch {
      return corrupt('the deflated data set cannot be inflated');
    }
  }
  const reader = new DicomReader(dataset, {
    littleEndian: transferSyntax !== EXPLICIT_VR_BE,
    explicitVr: transferSyntax !== IMPLICIT_VR_LE,
  });
  let rows: number | undefined;
  let columns: number | undefined;
  try {
    let pos = 0;
    while (pos < reader.length) {
      const h = reader.header(pos);
      if (h.tag > COLUMNS) break;
      if (h.tag === ROWS || h.tag === COLUMNS) {
        const value = reader.value(h);
        if (value.length !== 2) return corrupt(`${h.tag === ROWS ? 'Rows' : 'Columns'} ${hexTag(h.tag)} is ${value.length} bytes, not 2`);
        const n = transferSyntax === EXPLICIT_VR_BE ? value.readUInt16BE(0) : value.readUInt16LE(0);
        if (h.tag === ROWS) rows = n;
        else columns = n;
      }
      pos = reader.skip(h, 0);
      if (pos > reader.length) throw new OutOfBytes();
    }
    if (pos >= reader.length && !whole && (rows === undefined || columns === undefined)) return { format: 'dicom' };
  } catch (error) {
    if (error instanceof OutOfBytes) return whole ? corrupt('the file ends inside a data element') : { format: 'dicom' };
    if (error instanceof DicomSyntaxError) return corrupt(error.message);
    throw error;
  }
  if (rows === undefined || columns === undefined) return corrupt('there is no Rows (0028,0010) and Columns (0028,0011): not an image');
  if (rows === 0 || columns === 0) return corrupt(`the image size is ${columns}x${rows}`);
  return { format: 'dicom', width: columns, height: rows };
}

// ---------------------------------------------------------------------------- MetaImage

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

function readMetaImage(head: Buffer, size: number): ImageHeader | undefined {
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

// -------------------------------------------------------------------------------- NIfTI

const NIFTI1_HEADER = 348;

function readNifti(head: Buffer, size: number, compressed = false): ImageHeader | undefined {
  if (head.length < NIFTI1_HEADER) return undefined;
  const littleEndian = head.readInt32LE(0) === NIFTI1_HEADER;
  if (!littleEndian && head.readInt32BE(0) !== NIFTI1_HEADER) return undefined;
  const magic = head.toString('latin1', 344, 348);
  if (magic !== 'n+1\0' && magic !== 'ni1\0') return undefined;
  const corrupt = (why: string): ImageHeader => ({ format: 'nifti', corrupt: why });
  const i16 = (at: number): number => (littleEndian ? head.readInt16LE(at) : head.readInt16BE(at));
  const dim0 = i16(40);
  if (dim0 < 1 || dim0 > 7) return corrupt(`dim[0] is ${dim0}; it must be 1 to 7`);
  const dims = Array.from({ length: dim0 }, (_, k) => i16(42 + 2 * k));
  if (dims.some((d) => d < 1)) return corrupt(`dim is [${dims.join(', ')}]; every dimension must be at least 1`);
  const bitpix = i16(72);
  const voxOffset = littleEndian ? head.readFloatLE(108) : head.readFloatBE(108);
  const dataBytes = bitpix > 0 && bitpix % 8 === 0 ? (dims.reduce((a, b) => a * b, 1) * bitpix) / 8 : undefined;
  const [width, height] = [dims[0]!, dims[1] ?? 1];
  if (magic === 'ni1\0') {
    return { format: 'nifti', width, height, dataFileExtension: 'img', ...(dataBytes !== undefined ? { dataFileBytes: dataBytes } : {}) };
  }
  if (!(voxOffset >= 352)) return corrupt(`vox_offset is ${voxOffset}; a single-file NIfTI-1 needs at least 352`);
  // The file's size is only known uncompressed; a truncated .nii.gz shows when inflated.
  if (!compressed && dataBytes !== undefined && size < voxOffset + dataBytes) {
    return corrupt(`the file is ${size} bytes; its header needs ${voxOffset + dataBytes}`);
  }
  return { format: 'nifti', width, height };
}

function readGzippedNifti(head: Buffer): ImageHeader | undefined {
  let inflated: Buffer;
  try {
    // The header is the first 348 bytes inflated: a small slice of the input is plenty.
    inflated = gunzipSync(head.subarray(0, 4096), { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return undefined;
  }
  return readNifti(inflated, Number.POSITIVE_INFINITY, true);
}
