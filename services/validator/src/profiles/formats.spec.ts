import { describe, expect, it } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import {
  dicom,
  dicomElement,
  dicomFileMeta,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  jpeg,
  jpegWithoutFrameHeader,
  metaImage,
  metaImageHeader,
  nifti,
  png,
  pngWithTruncatedHeader,
} from '@flotilla/samples';
import { formatOfExtension, readImageHeader } from './formats.js';
import { HEAD_BYTES } from './profile.js';

/** What the validator sees of `bytes`: the first HEAD_BYTES, and the whole size. */
const read = (bytes: Buffer) => readImageHeader(bytes.subarray(0, HEAD_BYTES), bytes.length);

const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);

/** A DICOM whose data set has a sequence of undefined length (with a nested item) before Rows/Columns. */
function dicomWithSequence(explicitVr: boolean): Buffer {
  const tag = (group: number, element: number): Buffer => Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8]);
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const undefinedLength = u32(0xffffffff);
  const sequenceHeader = explicitVr
    ? Buffer.concat([tag(0x0008, 0x1140), Buffer.from('SQ\0\0', 'latin1'), undefinedLength])
    : Buffer.concat([tag(0x0008, 0x1140), undefinedLength]);
  // The nested item holds a Rows element that must not be taken for the image's.
  const nested = dicomElement({ group: 0x0028, element: 0x0010, vr: 'US', value: us(7) }, explicitVr);
  const body = Buffer.concat([
    sequenceHeader,
    tag(0xfffe, 0xe000),
    undefinedLength,
    nested,
    tag(0xfffe, 0xe00d),
    u32(0),
    tag(0xfffe, 0xe0dd),
    u32(0),
    dicomElement({ group: 0x0028, element: 0x0010, vr: 'US', value: us(300) }, explicitVr),
    dicomElement({ group: 0x0028, element: 0x0011, vr: 'US', value: us(200) }, explicitVr),
    dicomElement({ group: 0x7fe0, element: 0x0010, vr: 'OB', value: Buffer.alloc(200 * 300) }, explicitVr),
  ]);
  return Buffer.concat([dicomFileMeta(explicitVr ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN, '2.25.1'), body]);
}

describe('readImageHeader', () => {
  it.each([
    ['PNG', png({ width: 120, height: 90 }), 'png', 120, 90],
    ['JPEG', jpeg({ width: 100, height: 75 }), 'jpeg', 100, 75],
    ['DICOM, explicit VR', dicom({ rows: 90, columns: 120 }), 'dicom', 120, 90],
    ['DICOM, implicit VR', dicom({ rows: 65, columns: 67, transferSyntax: IMPLICIT_VR_LITTLE_ENDIAN }), 'dicom', 67, 65],
    ['MetaImage .mha', metaImage({ width: 64, height: 80 }), 'metaimage', 64, 80],
    ['MetaImage 3-D', metaImage({ width: 70, height: 71, depth: 5 }), 'metaimage', 70, 71],
    ['NIfTI-1', nifti({ x: 64, y: 66, z: 2 }), 'nifti', 64, 66],
    ['gzipped NIfTI-1', gzipSync(nifti({ x: 64, y: 66, z: 2 })), 'nifti', 64, 66],
  ])('detects %s and reads its size', (_, bytes, format, width, height) => {
    expect(read(bytes)).toEqual({ format, width, height });
  });

  it('finds the JPEG frame header after other segments', () => {
    const plain = jpeg({ width: 300, height: 200 });
    // An APP1 segment of 60,000 bytes, as a large EXIF block would be, before the rest.
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0xea, 0x62]), Buffer.alloc(60_000)]);
    const bytes = Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
    expect(read(bytes)).toEqual({ format: 'jpeg', width: 300, height: 200 });
  });

  it.each([true, false])('reads DICOM Rows and Columns past a sequence of undefined length (explicit VR: %s)', (explicitVr) => {
    expect(read(dicomWithSequence(explicitVr))).toEqual({ format: 'dicom', width: 200, height: 300 });
  });

  it('knows a .mhd names its data file and how many bytes it needs', () => {
    const header = metaImageHeader({ width: 64, height: 64, depth: 2, dataFile: 'scan.raw' });
    expect(read(header)).toEqual({ format: 'metaimage', width: 64, height: 64, dataFile: 'scan.raw', dataFileBytes: 64 * 64 * 2 });
  });

  it('knows a two-file NIfTI-1 (ni1) keeps its data in the .img', () => {
    const header = nifti({ x: 64, y: 64, z: 1 }).subarray(0, 348);
    header.write('ni1\0', 344, 'latin1');
    expect(read(header)).toEqual({ format: 'nifti', width: 64, height: 64, dataFileExtension: 'img', dataFileBytes: 64 * 64 });
  });

  describe('tells a well-formed DICOM object without an image from a corrupt one', () => {
    it('no Rows and Columns', () => expect(read(dicom({ rows: 64, columns: 64, withoutDimensions: true }))?.notImage).toMatch(/no Rows/));
    it('no Pixel Data', () => {
      const bytes = dicom({ rows: 64, columns: 64 });
      const withoutPixels = bytes.subarray(0, bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00])));
      expect(read(withoutPixels)).toEqual({ format: 'dicom', notImage: 'there is no Pixel Data (7FE0,0010)' });
    });
    it('Pixel Data cut short, also when only the first bytes of a large file are kept', () => {
      const bytes = dicom({ rows: 1024, columns: 1024 });
      expect(read(bytes.subarray(0, bytes.length - 1))?.corrupt).toMatch(/ends inside element \(7FE0,0010\)/);
      expect(readImageHeader(bytes.subarray(0, HEAD_BYTES), bytes.length - 1)?.corrupt).toMatch(/ends inside element \(7FE0,0010\)/);
      expect(readImageHeader(bytes.subarray(0, HEAD_BYTES), bytes.length)).toEqual({ format: 'dicom', width: 1024, height: 1024 });
    });
  });

  describe('reports a PNG or JPEG cut short after its header as corrupt', () => {
    it('a PNG ending before IEND', () => {
      const bytes = png({ width: 64, height: 64 });
      expect(read(bytes.subarray(0, bytes.length - 12))?.corrupt).toMatch(/ends before the IEND chunk/);
      expect(read(bytes.subarray(0, bytes.length - 20))?.corrupt).toMatch(/ends inside the IDAT chunk/);
    });
    it('a large PNG cut inside a chunk, seen from the first bytes only', () => {
      const small = png({ width: 64, height: 64 });
      // A 300,000-byte text chunk after IHDR makes the file larger than the bytes kept.
      const text = Buffer.alloc(8 + 300_000 + 4);
      text.writeUInt32BE(300_000, 0);
      text.write('tEXt', 4, 'latin1');
      const bytes = Buffer.concat([small.subarray(0, 33), text, small.subarray(33)]);
      expect(readImageHeader(bytes.subarray(0, HEAD_BYTES), 290_000)?.corrupt).toMatch(/ends inside the tEXt chunk/);
      expect(readImageHeader(bytes.subarray(0, HEAD_BYTES), bytes.length)).toEqual({ format: 'png', width: 64, height: 64 });
    });
    it('a JPEG ending before EOI', () => {
      const bytes = jpeg({ width: 64, height: 64 });
      expect(read(bytes.subarray(0, bytes.length - 2))?.corrupt).toMatch(/before the end-of-image marker/);
    });
  });

  describe('reports a header that cannot be read as corrupt', () => {
    const bad = (bytes: Buffer) => read(bytes)?.corrupt;
    it('a PNG cut inside its IHDR', () => expect(bad(pngWithTruncatedHeader())).toMatch(/ends inside the IHDR/));
    it('a PNG whose IHDR fails its CRC', () => {
      const bytes = png({ width: 64, height: 64 });
      bytes[17] = 0x7f;
      expect(bad(bytes)).toMatch(/CRC/);
    });
    it('a PNG whose first chunk is not IHDR', () => {
      const bytes = png({ width: 64, height: 64 });
      bytes.write('IDAT', 12, 'latin1');
      expect(bad(bytes)).toMatch(/not a 13-byte IHDR/);
    });
    it('a JPEG without a frame header', () => expect(bad(jpegWithoutFrameHeader())).toMatch(/without a frame header/));
    it('a JPEG cut before its frame header', () => expect(bad(jpeg({ width: 64, height: 64 }).subarray(0, 40))).toMatch(/ends before the frame header/));
    it('a JPEG whose segments lose their markers', () => {
      const bytes = jpeg({ width: 64, height: 64 });
      bytes[20] = 0x00; // the first byte of the DQT marker
      expect(bad(bytes)).toMatch(/expected a marker/);
    });
    it('a DICOM cut inside its data set', () => {
      const bytes = dicom({ rows: 64, columns: 64 });
      expect(bad(bytes.subarray(0, bytes.indexOf(Buffer.from('MONOCHROME2')) + 4))).toMatch(/ends inside/);
    });
    it('a DICOM without a transfer syntax', () => {
      const bytes = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), dicomElement({ group: 0x0008, element: 0x0060, vr: 'CS', value: Buffer.from('DX') })]);
      expect(bad(bytes)).toMatch(/no transfer syntax/);
    });
    it('a MetaImage without DimSize', () => {
      const text = metaImage({ width: 64, height: 64 }).toString('latin1').replace(/DimSize = .*\n/, '');
      expect(bad(Buffer.from(text, 'latin1'))).toMatch(/DimSize is missing/);
    });
    it('a MetaImage that is not an Image object', () => {
      expect(bad(Buffer.from('ObjectType = Tube\nNDims = 3\nElementDataFile = LOCAL\n'))).toMatch(/ObjectType is Tube/);
    });
    it('a MetaImage whose header never ends', () => expect(bad(Buffer.from('ObjectType = Image\nNDims = 2\n'))).toMatch(/no ElementDataFile/));
    it('a MetaImage with less data than its header needs', () => {
      const bytes = metaImage({ width: 64, height: 64 });
      expect(bad(bytes.subarray(0, bytes.length - 1))).toMatch(/need 4096/);
    });
    it('a NIfTI-1 with impossible dimensions', () => {
      const bytes = nifti({ x: 64, y: 64, z: 1 });
      bytes.writeInt16LE(9, 40);
      expect(bad(bytes)).toMatch(/dim\[0\] is 9/);
    });
    it('a NIfTI-1 shorter than its header says', () => expect(bad(nifti({ x: 64, y: 64, z: 2 }).subarray(0, 2000))).toMatch(/needs 8544/));
  });

  it('does not judge a header that runs past the bytes kept', () => {
    // A JPEG whose frame header lies beyond HEAD_BYTES: the head alone cannot tell.
    const plain = jpeg({ width: 64, height: 64 });
    const app = Buffer.concat([Buffer.from([0xff, 0xe2, 0xff, 0xff]), Buffer.alloc(0xfffd)]);
    const bytes = Buffer.concat([plain.subarray(0, 2), app, app, app, app, app, plain.subarray(2)]);
    expect(bytes.length).toBeGreaterThan(HEAD_BYTES);
    expect(read(bytes)).toEqual({ format: 'jpeg' });
  });

  it.each([
    ['text', Buffer.from('patient moved, repeat the scan\n')],
    ['empty', Buffer.alloc(0)],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1')],
    ['gzip of something else', gzipSync(Buffer.from('hello'))],
    ['an Analyze 7.5 header (348 bytes, no NIfTI magic)', nifti({ x: 64, y: 64, z: 1 }).fill(0, 344, 348)],
  ])('recognises %s as no supported format', (_, bytes) => {
    expect(read(bytes)).toBeUndefined();
  });
});

describe('formatOfExtension', () => {
  it('maps image extensions to formats and others to nothing', () => {
    expect(['png', 'jpg', 'jpeg', 'dcm', 'mha', 'mhd', 'nii', 'nii.gz'].map(formatOfExtension)).toEqual([
      'png',
      'jpeg',
      'jpeg',
      'dicom',
      'metaimage',
      'metaimage',
      'nifti',
      'nifti',
    ]);
    expect(formatOfExtension('raw')).toBeUndefined();
    expect(formatOfExtension('')).toBeUndefined();
    expect(formatOfExtension('constructor')).toBeUndefined();
  });
});
