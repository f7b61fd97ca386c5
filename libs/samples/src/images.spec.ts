import { describe, expect, it } from '@jest/globals';
import { inflateSync } from 'node:zlib';
import { crc32 } from './png.js';
import {
  dicom,
  IMPLICIT_VR_LITTLE_ENDIAN,
  jpeg,
  jpegWithoutFrameHeader,
  metaImage,
  metaImageData,
  metaImageHeader,
  nifti,
  png,
  pngWithTruncatedHeader,
} from './index.js';

/** PNG chunks as [type, data, crc ok]. */
function chunks(bytes: Buffer): { type: string; data: Buffer; crcOk: boolean }[] {
  const out = [];
  let at = 8;
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + length);
    const crcOk = crc32(bytes.subarray(at + 4, at + 8 + length)) === bytes.readUInt32BE(at + 8 + length);
    out.push({ type, data, crcOk });
    at += 12 + length;
  }
  return out;
}

/** JPEG marker segments up to SOS: [marker, payload]. */
function segments(bytes: Buffer): { marker: number; payload: Buffer }[] {
  const out = [];
  let at = 2;
  for (;;) {
    const marker = bytes[at + 1]!;
    const length = bytes.readUInt16BE(at + 2);
    out.push({ marker, payload: bytes.subarray(at + 4, at + 2 + length) });
    at += 2 + length;
    if (marker === 0xda) return out;
  }
}

describe('png', () => {
  it('has the signature, IHDR, IDAT, IEND, each with a correct CRC', () => {
    const bytes = png({ width: 70, height: 65 });
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const all = chunks(bytes);
    expect(all.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(all.every((c) => c.crcOk)).toBe(true);
    const ihdr = all[0]!.data;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([70, 65, 8, 0]);
  });

  it('holds one filter byte and `width` pixels per row in its zlib stream', () => {
    const idat = chunks(png({ width: 70, height: 65 }))[1]!.data;
    expect(inflateSync(idat).length).toBe(65 * 71);
  });

  it('differs with the seed, not otherwise', () => {
    expect(png({ width: 64, height: 64, seed: 1 }).equals(png({ width: 64, height: 64, seed: 1 }))).toBe(true);
    expect(png({ width: 64, height: 64, seed: 1 }).equals(png({ width: 64, height: 64, seed: 2 }))).toBe(false);
  });

  it('can be cut inside its IHDR', () => {
    const bytes = pngWithTruncatedHeader();
    expect(bytes.toString('latin1', 12, 16)).toBe('IHDR');
    expect(bytes.length).toBeLessThan(8 + 8 + 13 + 4);
  });
});

describe('jpeg', () => {
  it('is SOI, APP0 JFIF, DQT, SOF0, DHT, SOS, entropy data, EOI', () => {
    const bytes = jpeg({ width: 100, height: 60 });
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    const segs = segments(bytes);
    expect(segs.map((s) => s.marker)).toEqual([0xe0, 0xdb, 0xc0, 0xc4, 0xda]);
    expect(segs[0]!.payload.toString('latin1', 0, 5)).toBe('JFIF\0');
    const sof = segs[2]!.payload;
    expect({ precision: sof[0], height: sof.readUInt16BE(1), width: sof.readUInt16BE(3), components: sof[5] }).toEqual({
      precision: 8,
      height: 60,
      width: 100,
      components: 1,
    });
  });

  it('codes each 8x8 block in 6 bits (DC category 0, end of block), with no 0xFF to stuff', () => {
    const bytes = jpeg({ width: 100, height: 60 });
    const sos = bytes.indexOf(Buffer.from([0xff, 0xda]));
    const scan = bytes.subarray(sos + 2 + bytes.readUInt16BE(sos + 2), -2);
    const blocks = Math.ceil(100 / 8) * Math.ceil(60 / 8);
    expect(scan.length).toBe(Math.ceil((blocks * 6) / 8));
    expect(scan.subarray(0, 3)).toEqual(Buffer.from([0b00101000, 0b10100010, 0b10001010]));
    expect(scan.includes(0xff)).toBe(false);
  });

  it('has standard Huffman tables of 12 DC and 162 AC codes', () => {
    const dht = segments(jpeg({ width: 8, height: 8 })).find((s) => s.marker === 0xc4)!.payload;
    const dcCount = [...dht.subarray(1, 17)].reduce((a, b) => a + b, 0);
    const ac = dht.subarray(1 + 16 + dcCount);
    expect(dcCount).toBe(12);
    expect(ac[0]).toBe(0x10);
    expect([...ac.subarray(1, 17)].reduce((a, b) => a + b, 0)).toBe(162);
  });

  it('can leave out the frame header', () => {
    const bytes = jpegWithoutFrameHeader();
    expect(segments(bytes).map((s) => s.marker)).not.toContain(0xc0);
  });
});

describe('dicom', () => {
  it('has the preamble, DICM, and a meta group whose length counts its elements', () => {
    const bytes = dicom({ rows: 80, columns: 90 });
    expect(bytes.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(bytes.toString('latin1', 128, 132)).toBe('DICM');
    expect(bytes.readUInt16LE(132)).toBe(0x0002);
    expect(bytes.toString('latin1', 136, 138)).toBe('UL');
    const groupLength = bytes.readUInt32LE(140);
    const afterMeta = 144 + groupLength;
    expect(bytes.readUInt16LE(afterMeta)).toBe(0x0008); // the data set starts right after
    expect(bytes.subarray(144, afterMeta).toString('latin1')).toContain('1.2.840.10008.1.2.1\0');
  });

  it('holds Rows and Columns as US, and rows x columns bytes of pixel data', () => {
    const bytes = dicom({ rows: 80, columns: 90 });
    const rows = bytes.indexOf(Buffer.from([0x28, 0x00, 0x10, 0x00, 0x55, 0x53, 0x02, 0x00]));
    const columns = bytes.indexOf(Buffer.from([0x28, 0x00, 0x11, 0x00, 0x55, 0x53, 0x02, 0x00]));
    expect(bytes.readUInt16LE(rows + 8)).toBe(80);
    expect(bytes.readUInt16LE(columns + 8)).toBe(90);
    const pixelData = bytes.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0]));
    expect(bytes.readUInt32LE(pixelData + 8)).toBe(80 * 90);
    expect(bytes.length).toBe(pixelData + 12 + 80 * 90);
  });

  it('writes implicit VR when asked, and can leave out the image size', () => {
    const implicit = dicom({ rows: 64, columns: 64, transferSyntax: IMPLICIT_VR_LITTLE_ENDIAN });
    expect(implicit.toString('latin1')).toContain('1.2.840.10008.1.2\0');
    const rows = implicit.indexOf(Buffer.from([0x28, 0x00, 0x10, 0x00, 0x02, 0x00, 0x00, 0x00]));
    expect(implicit.readUInt16LE(rows + 8)).toBe(64);
    const without = dicom({ rows: 64, columns: 64, withoutDimensions: true });
    expect(without.indexOf(Buffer.from([0x28, 0x00, 0x10, 0x00]))).toBe(-1);
  });
});

describe('metaImage', () => {
  it('is a text header ending with ElementDataFile = LOCAL, then width x height bytes', () => {
    const bytes = metaImage({ width: 64, height: 70 });
    const text = bytes.toString('latin1');
    const end = text.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length;
    const header = text.slice(0, end);
    expect(header).toMatch(/^ObjectType = Image\n/);
    expect(header).toContain('NDims = 2\n');
    expect(header).toContain('DimSize = 64 70\n');
    expect(header).toContain('ElementType = MET_UCHAR\n');
    expect(bytes.length - end).toBe(64 * 70);
  });

  it('splits into a .mhd header naming its .raw file and the raw data', () => {
    const header = metaImageHeader({ width: 64, height: 64, depth: 3, dataFile: 'scan.raw' }).toString('latin1');
    expect(header).toContain('NDims = 3\n');
    expect(header).toContain('DimSize = 64 64 3\n');
    expect(header.trimEnd().endsWith('ElementDataFile = scan.raw')).toBe(true);
    expect(metaImageData({ width: 64, height: 64, depth: 3 }).length).toBe(64 * 64 * 3);
  });
});

describe('nifti', () => {
  it('has sizeof_hdr 348, dims, uint8 data at 352 and the n+1 magic', () => {
    const bytes = nifti({ x: 64, y: 65, z: 3 });
    expect(bytes.readInt32LE(0)).toBe(348);
    expect([0, 1, 2, 3].map((i) => bytes.readInt16LE(40 + 2 * i))).toEqual([3, 64, 65, 3]);
    expect([bytes.readInt16LE(70), bytes.readInt16LE(72)]).toEqual([2, 8]);
    expect(bytes.readFloatLE(108)).toBe(352);
    expect(bytes.toString('latin1', 344, 348)).toBe('n+1\0');
    expect(bytes.length).toBe(352 + 64 * 65 * 3);
  });
});
