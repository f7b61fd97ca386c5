// Reads the header of a NIfTI-1 file for the `xray` profile (see ../formats.ts).
import { constants, gunzipSync } from 'node:zlib';
import type { ImageHeader } from '../formats.js';

const NIFTI1_HEADER = 348;

export function readNifti(head: Buffer, size: number, compressed = false): ImageHeader | undefined {
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

export function readGzippedNifti(head: Buffer): ImageHeader | undefined {
  let inflated: Buffer;
  try {
    // The header is the first 348 bytes inflated: a small slice of the input is plenty.
    inflated = gunzipSync(head.subarray(0, 4096), { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return undefined;
  }
  return readNifti(inflated, Number.POSITIVE_INFINITY, true);
}
