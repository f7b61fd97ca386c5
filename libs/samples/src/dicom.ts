import { createHash } from 'node:crypto';
import { pixels } from './pixels.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
/** Digital X-Ray Image Storage – For Presentation. */
const DX_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.1.1';

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export interface DicomElement {
  group: number;
  element: number;
  vr: string;
  value: Buffer;
}

/** Pads a value to an even length as DICOM requires: UIDs and binary with NUL, text with a space. */
function even(value: Buffer, vr: string): Buffer {
  if (value.length % 2 === 0) return value;
  const pad = vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0x00 : 0x20;
  return Buffer.concat([value, Buffer.from([pad])]);
}

/** One data element, little endian, explicit or implicit VR. */
export function dicomElement({ group, element, vr, value }: DicomElement, explicitVr = true): Buffer {
  const data = even(value, vr);
  if (!explicitVr) {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(group, 0);
    header.writeUInt16LE(element, 2);
    header.writeUInt32LE(data.length, 4);
    return Buffer.concat([header, data]);
  }
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(element, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(data.length, 8);
  else header.writeUInt16LE(data.length, 6);
  return Buffer.concat([header, data]);
}

const text = (value: string): Buffer => Buffer.from(value, 'latin1');
const us = (value: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
};
const ul = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
};

/** A UID under the 2.25 root (ISO/IEC 9834-8), derived from `seed` so it is stable. */
function uid(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 15).toString('hex')}`).toString(10)}`;
}

/**
 * 128-byte preamble, `DICM`, and the file meta group 0002 (always explicit VR little
 * endian), its group length counting the elements after it.
 */
export function dicomFileMeta(transferSyntax: string, sopInstanceUid: string): Buffer {
  const elements = Buffer.concat(
    [
      { group: 2, element: 0x0001, vr: 'OB', value: Buffer.from([0, 1]) },
      { group: 2, element: 0x0002, vr: 'UI', value: text(DX_IMAGE_STORAGE) },
      { group: 2, element: 0x0003, vr: 'UI', value: text(sopInstanceUid) },
      { group: 2, element: 0x0010, vr: 'UI', value: text(transferSyntax) },
      { group: 2, element: 0x0012, vr: 'UI', value: text(uid('flotilla samples implementation')) },
    ].map((e) => dicomElement(e)),
  );
  const groupLength = dicomElement({ group: 2, element: 0x0000, vr: 'UL', value: ul(elements.length) });
  return Buffer.concat([Buffer.alloc(128), text('DICM'), groupLength, elements]);
}

export interface DicomOptions {
  rows: number;
  columns: number;
  seed?: number;
  /** Defaults to explicit VR little endian; implicit VR little endian is the other one supported. */
  transferSyntax?: typeof EXPLICIT_VR_LITTLE_ENDIAN | typeof IMPLICIT_VR_LITTLE_ENDIAN;
  /** Leaves out Rows and Columns (0028,0010/0011): a file whose image size cannot be read. */
  withoutDimensions?: boolean;
}

/**
 * A DICOM Part 10 file holding one 8-bit MONOCHROME2 digital X-ray image: preamble,
 * `DICM`, file meta group, then the image pixel module — Rows, Columns, bits — and the
 * pixel data (7FE0,0010).
 */
export function dicom(options: DicomOptions): Buffer {
  const { rows, columns } = options;
  const seed = options.seed ?? 0;
  const syntax = options.transferSyntax ?? EXPLICIT_VR_LITTLE_ENDIAN;
  const instance = uid(`sample ${rows}x${columns} ${seed}`);
  const elements: DicomElement[] = [
    { group: 0x0008, element: 0x0016, vr: 'UI', value: text(DX_IMAGE_STORAGE) },
    { group: 0x0008, element: 0x0018, vr: 'UI', value: text(instance) },
    { group: 0x0008, element: 0x0060, vr: 'CS', value: text('DX') },
    { group: 0x0010, element: 0x0020, vr: 'LO', value: text(`SAMPLE-${seed}`) },
    { group: 0x0028, element: 0x0002, vr: 'US', value: us(1) },
    { group: 0x0028, element: 0x0004, vr: 'CS', value: text('MONOCHROME2') },
    ...(options.withoutDimensions
      ? []
      : [
          { group: 0x0028, element: 0x0010, vr: 'US', value: us(rows) },
          { group: 0x0028, element: 0x0011, vr: 'US', value: us(columns) },
        ]),
    { group: 0x0028, element: 0x0100, vr: 'US', value: us(8) },
    { group: 0x0028, element: 0x0101, vr: 'US', value: us(8) },
    { group: 0x0028, element: 0x0102, vr: 'US', value: us(7) },
    { group: 0x0028, element: 0x0103, vr: 'US', value: us(0) },
    { group: 0x7fe0, element: 0x0010, vr: 'OB', value: pixels(columns, rows, seed) },
  ];
  const explicit = syntax === EXPLICIT_VR_LITTLE_ENDIAN;
  return Buffer.concat([dicomFileMeta(syntax, instance), ...elements.map((e) => dicomElement(e, explicit))]);
}
