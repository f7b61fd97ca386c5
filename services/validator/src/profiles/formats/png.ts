// Reads the header of a PNG file for the `xray` profile (see ../formats.ts).
import type { ImageHeader } from '../formats.js';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
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

export function readPng(head: Buffer, size: number): ImageHeader {
  const complete = head.length >= size;
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
  const cutShort = chunksCutShort(head, size);
  return cutShort ? corrupt(cutShort) : { format: 'png', width, height };
}

/**
 * Walks the chunks after IHDR by their lengths: a chunk reaching past the end of the file,
 * or a file ending before IEND, was cut short (what image viewers call a truncated PNG).
 * Chunks past the bytes kept are not judged, but their lengths still are against `size`.
 */
function chunksCutShort(head: Buffer, size: number): string | undefined {
  let at = 33;
  while (at + 8 <= head.length) {
    const type = head.toString('latin1', at + 4, at + 8);
    const end = at + 12 + head.readUInt32BE(at);
    if (end > size) return `the file ends inside the ${type} chunk`;
    if (type === 'IEND') return undefined;
    at = end;
  }
  return head.length >= size ? 'the file ends before the IEND chunk' : undefined;
}
