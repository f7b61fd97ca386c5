import { deflateSync } from 'node:zlib';
import { pixels, type ImageSize } from './pixels.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as PNG and gzip use it). */
export function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

function ihdr(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = 8; // bit depth
  data[9] = 0; // colour type: greyscale
  data[10] = 0; // compression: deflate
  data[11] = 0; // filter method 0
  data[12] = 0; // no interlace
  return chunk('IHDR', data);
}

/**
 * A valid 8-bit greyscale PNG of the given size: signature, IHDR, one zlib IDAT and
 * IEND, every CRC correct. `seed` varies the pixels, so equal sizes can differ in content.
 */
export function png(options: ImageSize & { seed?: number }): Buffer {
  const { width, height } = options;
  const grey = pixels(width, height, options.seed ?? 0);
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter type None
    grey.copy(raw, y * (width + 1) + 1, y * width, (y + 1) * width);
  }
  return Buffer.concat([SIGNATURE, ihdr(width, height), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A PNG cut short inside its IHDR chunk: the signature is there, the header cannot be read. */
export function pngWithTruncatedHeader(options: ImageSize = { width: 64, height: 64 }): Buffer {
  return png(options).subarray(0, SIGNATURE.length + 8 + 6);
}
