// Reads the header of a DICOM file for the `xray` profile (see ../formats.ts).
import { constants, inflateRawSync } from 'node:zlib';
import type { ImageHeader } from '../formats.js';

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
const PIXEL_DATA = 0x7fe00010;
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

export function readDicom(head: Buffer, size: number): ImageHeader {
  const complete = head.length >= size;
  const corrupt = (why: string): ImageHeader => ({ format: 'dicom', corrupt: why });
  const notImage = (why: string): ImageHeader => ({ format: 'dicom', notImage: why });
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
  // Bytes of the data set in the whole file: an element reaching past them is cut off, even
  // where the bytes kept end first. Unknown for a deflated data set, whose offsets are inflated ones.
  const datasetBytes = transferSyntax === DEFLATED_EXPLICIT_VR_LE ? Number.POSITIVE_INFINITY : size - at;
  let rows: number | undefined;
  let columns: number | undefined;
  let pixelData = false;
  const image = (): ImageHeader => {
    if (rows === undefined || columns === undefined) return notImage('there is no Rows (0028,0010) and Columns (0028,0011)');
    if (rows === 0 || columns === 0) return corrupt(`the image size is ${columns}x${rows}`);
    return { format: 'dicom', width: columns, height: rows };
  };
  try {
    let pos = 0;
    // Every top-level element up to the Pixel Data, skipped by its length: Rows and Columns
    // are read, and the Pixel Data must be there and whole.
    while (pos < reader.length) {
      const h = reader.header(pos);
      if (h.tag === ROWS || h.tag === COLUMNS) {
        const value = reader.value(h);
        if (value.length !== 2) return corrupt(`${h.tag === ROWS ? 'Rows' : 'Columns'} ${hexTag(h.tag)} is ${value.length} bytes, not 2`);
        const n = transferSyntax === EXPLICIT_VR_BE ? value.readUInt16BE(0) : value.readUInt16LE(0);
        if (h.tag === ROWS) rows = n;
        else columns = n;
      }
      if (h.length !== UNDEFINED_LENGTH && h.valueStart + h.length > datasetBytes) {
        return corrupt(`the file ends inside element ${hexTag(h.tag)}: its value is ${h.length} bytes, ${Math.max(0, datasetBytes - h.valueStart)} are left`);
      }
      if (h.tag === PIXEL_DATA) pixelData = true;
      pos = reader.skip(h, 0);
      if (pos > reader.length) throw new OutOfBytes();
      if (pixelData) break;
    }
  } catch (error) {
    if (error instanceof OutOfBytes) {
      if (whole) return corrupt(pixelData ? 'the file ends inside the Pixel Data (7FE0,0010)' : 'the file ends inside a data element');
      // The rest is past the bytes kept: what was read is judged, the rest is not.
      return rows === undefined || columns === undefined ? { format: 'dicom' } : image();
    }
    if (error instanceof DicomSyntaxError) return corrupt(error.message);
    throw error;
  }
  if (!pixelData) {
    if (!whole) return rows === undefined || columns === undefined ? { format: 'dicom' } : image();
    if (rows !== undefined && columns !== undefined) return notImage('there is no Pixel Data (7FE0,0010)');
  }
  return image();
}
