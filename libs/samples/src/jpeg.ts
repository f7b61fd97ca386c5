import type { ImageSize } from './pixels.js';

// ITU-T T.81 Annex K: the example luminance quantisation table (natural order) and the
// standard luminance Huffman tables. With them, an 8x8 block of a flat mid-grey image is
// "DC difference category 0" (code 00) followed by "end of block" (code 1010).
const LUMINANCE_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87,
  80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92,
  95, 98, 112, 100, 103, 99,
];
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35,
  42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
const DC_LUMINANCE_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_LUMINANCE_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMINANCE_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMINANCE_VALUES = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32,
  0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16,
  0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
  0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
  0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94,
  0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
  0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
  0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
  0xf9, 0xfa,
];

/** A marker segment: FF, marker, big-endian length (which counts itself), payload. */
function segment(marker: number, payload: Buffer | number[]): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);
const APP0_JFIF = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const DQT = segment(0xdb, [0x00, ...ZIGZAG.map((i) => LUMINANCE_QUANT[i]!)]);
const DHT = segment(0xc4, [0x00, ...DC_LUMINANCE_BITS, ...DC_LUMINANCE_VALUES, 0x10, ...AC_LUMINANCE_BITS, ...AC_LUMINANCE_VALUES]);
const SOS = segment(0xda, [1, 1, 0x00, 0, 63, 0]);

function sof0(width: number, height: number): Buffer {
  const payload = Buffer.from([8, 0, 0, 0, 0, 1, 1, 0x11, 0]);
  payload.writeUInt16BE(height, 1);
  payload.writeUInt16BE(width, 3);
  return segment(0xc0, payload);
}

/** Entropy-coded data of a flat image: "00" + "1010" per block, padded with 1-bits. */
function flatScan(width: number, height: number): Buffer {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = 6 * blocks;
  const out = Buffer.alloc(Math.ceil(bits / 8), 0xff);
  const pattern = [0, 0, 1, 0, 1, 0];
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (pattern[i % 6]) out[byte]! |= mask;
    else out[byte]! &= ~mask;
  }
  // The 6-bit pattern never yields eight 1-bits in a row, so no 0xFF needs stuffing.
  return out;
}

function comment(seed: number | undefined): Buffer[] {
  return seed === undefined ? [] : [segment(0xfe, Buffer.from(`sample ${seed}`, 'latin1'))];
}

/**
 * A decodable baseline JPEG (JFIF, one greyscale component) of a flat mid-grey image.
 * `seed` adds a comment segment, so equal sizes can differ in content.
 */
export function jpeg(options: ImageSize & { seed?: number }): Buffer {
  const { width, height } = options;
  return Buffer.concat([SOI, APP0_JFIF, ...comment(options.seed), DQT, sof0(width, height), DHT, SOS, flatScan(width, height), EOI]);
}

/** A JPEG whose frame header (SOF) is missing: its size cannot be read, decoders refuse it. */
export function jpegWithoutFrameHeader(options: ImageSize = { width: 64, height: 64 }): Buffer {
  const { width, height } = options;
  return Buffer.concat([SOI, APP0_JFIF, DQT, DHT, SOS, flatScan(width, height), EOI]);
}
