import { readDicom } from './formats/dicom.js';
import { readJpeg } from './formats/jpeg.js';
import { readMetaImage } from './formats/meta-image.js';
import { readGzippedNifti, readNifti } from './formats/nifti.js';
import { PNG_SIGNATURE, readPng } from './formats/png.js';

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
  /** Why a well-formed file of the format holds no image (a DICOM object without Pixel Data). */
  notImage?: string;
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
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) return readPng(head, size);
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return readJpeg(head, size);
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return readDicom(head, size);
  const nifti = readNifti(head, size);
  if (nifti) return nifti;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return readGzippedNifti(head);
  return readMetaImage(head, size);
}
