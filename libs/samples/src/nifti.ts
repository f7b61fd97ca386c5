import { pixels } from './pixels.js';

export interface NiftiOptions {
  x: number;
  y: number;
  z: number;
  seed?: number;
}

const HEADER_SIZE = 348;
const VOX_OFFSET = 352;
const DT_UINT8 = 2;
const NIFTI_UNITS_MM = 2;
const NIFTI_XFORM_SCANNER_ANAT = 1;

/**
 * A single-file NIfTI-1 volume (`.nii`), little endian, unsigned 8-bit voxels:
 * sizeof_hdr 348, dim = [3, x, y, z, 1, 1, 1, 1], datatype 2, bitpix 8, unit voxel size,
 * an identity qform, vox_offset 352 (the 4-byte extension flag, all zero, sits between
 * header and data) and magic `n+1\0` at byte 344.
 */
export function nifti(options: NiftiOptions): Buffer {
  const { x, y, z } = options;
  const header = Buffer.alloc(VOX_OFFSET);
  header.writeInt32LE(HEADER_SIZE, 0);
  [3, x, y, z, 1, 1, 1, 1].forEach((d, i) => header.writeInt16LE(d, 40 + 2 * i));
  header.writeInt16LE(DT_UINT8, 70);
  header.writeInt16LE(8, 72); // bitpix
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((p, i) => header.writeFloatLE(p, 76 + 4 * i)); // pixdim, pixdim[0] = qfac
  header.writeFloatLE(VOX_OFFSET, 108);
  header.writeFloatLE(1, 112); // scl_slope
  header.writeUInt8(NIFTI_UNITS_MM, 123); // xyzt_units
  header.writeInt16LE(NIFTI_XFORM_SCANNER_ANAT, 252); // qform_code
  header.write('n+1\0', 344, 'latin1');
  const seed = options.seed ?? 0;
  const data = Buffer.concat(Array.from({ length: z }, (_, k) => pixels(x, y, seed + k)));
  return Buffer.concat([header, data]);
}
