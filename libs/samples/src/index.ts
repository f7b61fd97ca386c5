/**
 * Sample files and datasets: real image bytes of every format the `xray` profile
 * accepts, `teams-json` documents, and whole datasets (valid and broken) with the
 * verdict the validator must reach on each.
 */
export type { ImageSize } from './pixels.js';
export { png, pngWithTruncatedHeader, crc32 } from './png.js';
export { jpeg, jpegWithoutFrameHeader } from './jpeg.js';
export {
  dicom,
  dicomElement,
  dicomFileMeta,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  type DicomElement,
  type DicomOptions,
} from './dicom.js';
export { metaImage, metaImageHeader, metaImageData, type MetaImageOptions } from './meta-image.js';
export { nifti, type NiftiOptions } from './nifti.js';
export { teamsDocument, teamsJson, rom, type TeamsDocument, type Team, type Kit, type Player } from './teams.js';
export { sampleDatasets, writeSampleDatasets, type SampleDataset, type SampleFile } from './datasets.js';
