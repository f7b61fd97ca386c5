import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  FIXTURE_HEIGHT,
  FIXTURE_WIDTH,
  dcmdumpVerdict,
  identifyVerdict,
  niftiToolVerdict,
  plastimatchVerdict,
  thirdPartyImages,
  type ReferenceVerdict,
} from '../../test/support/third-party-images.js';
import { readImageHeader } from './formats.js';
import { DEFAULT_PROFILE_OPTIONS, factsOf } from './index.js';
import { HEAD_BYTES } from './profile.js';
import { xrayProfile } from './xray.profile.js';

/**
 * Files written by dcmtk, ImageMagick, nifti_tool and plastimatch get the verdict those
 * tools' own readers give them: what they read is valid, what they refuse is refused
 * (as `corrupt_image` when it is the format but broken).
 */
interface Fixture {
  /** Path under the fixture directory. */
  file: string;
  /** The separate data file the header names, uploaded beside it. */
  dataFile?: string;
  reference: (path: string) => ReferenceVerdict;
  /** Whether the reference tool reads the file without error. */
  readable: boolean;
  /** The error codes the validator gives the dataset of this image and a manifest naming it. */
  codes: string[];
}

const FIXTURES: Fixture[] = [
  // DICOM, judged by dcmdump.
  { file: 'dicom/explicit-le.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  { file: 'dicom/sequence-undefined-lengths.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  { file: 'dicom/explicit-be.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  { file: 'dicom/deflated.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  { file: 'dicom/implicit-le.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  { file: 'dicom/jpeg-baseline.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  { file: 'dicom/dump-implicit-le.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  { file: 'dicom/dump-explicit-le.dcm', reference: dcmdumpVerdict, readable: true, codes: [] },
  // A well-formed DICOM object with no Pixel Data: dcmdump reads it, but there is no image in it.
  { file: 'dicom/dump-no-pixel-data.dcm', reference: dcmdumpVerdict, readable: true, codes: ['unsupported_format'] },
  { file: 'dicom/truncated-pixel-data.dcm', reference: dcmdumpVerdict, readable: false, codes: ['corrupt_image'] },
  { file: 'dicom/implicit-truncated-pixel-data.dcm', reference: dcmdumpVerdict, readable: false, codes: ['corrupt_image'] },
  { file: 'dicom/jpeg-truncated-fragment.dcm', reference: dcmdumpVerdict, readable: false, codes: ['corrupt_image'] },
  { file: 'dicom/rows-length-past-end.dcm', reference: dcmdumpVerdict, readable: false, codes: ['corrupt_image'] },
  // No "DICM" at byte 128: not a DICOM file at all.
  { file: 'dicom/bad-magic.dcm', reference: dcmdumpVerdict, readable: false, codes: ['unsupported_format'] },
  // PNG and JPEG, judged by ImageMagick's identify.
  { file: 'png/plasma.png', reference: identifyVerdict, readable: true, codes: [] },
  { file: 'png/gray16.png', reference: identifyVerdict, readable: true, codes: [] },
  { file: 'png/interlaced.png', reference: identifyVerdict, readable: true, codes: [] },
  { file: 'png/truncated.png', reference: identifyVerdict, readable: false, codes: ['corrupt_image'] },
  { file: 'jpeg/baseline.jpg', reference: identifyVerdict, readable: true, codes: [] },
  { file: 'jpeg/progressive.jpg', reference: identifyVerdict, readable: true, codes: [] },
  { file: 'jpeg/truncated.jpg', reference: identifyVerdict, readable: false, codes: ['corrupt_image'] },
  // NIfTI-1, judged by nifti_tool copying every voxel.
  { file: 'nifti/uint8.nii', reference: niftiToolVerdict, readable: true, codes: [] },
  { file: 'nifti/int16.nii', reference: niftiToolVerdict, readable: true, codes: [] },
  { file: 'nifti/int16.nii.gz', reference: niftiToolVerdict, readable: true, codes: [] },
  { file: 'nifti/pair.hdr', dataFile: 'nifti/pair.img', reference: niftiToolVerdict, readable: true, codes: [] },
  { file: 'nifti/truncated.nii', reference: niftiToolVerdict, readable: false, codes: ['corrupt_image'] },
  { file: 'nifti/truncated-pair.hdr', dataFile: 'nifti/truncated-pair.img', reference: niftiToolVerdict, readable: false, codes: ['corrupt_image'] },
  // MetaImage, judged by plastimatch reading it through ITK.
  { file: 'metaimage/image.mha', reference: plastimatchVerdict, readable: true, codes: [] },
  { file: 'metaimage/pair.mhd', dataFile: 'metaimage/pair.raw', reference: plastimatchVerdict, readable: true, codes: [] },
  { file: 'metaimage/truncated.mha', reference: plastimatchVerdict, readable: false, codes: ['corrupt_image'] },
  {
    file: 'metaimage/truncated-pair.mhd',
    dataFile: 'metaimage/truncated-pair.raw',
    reference: plastimatchVerdict,
    readable: false,
    codes: ['corrupt_image'],
  },
];

let dir: string;
beforeAll(() => {
  dir = thirdPartyImages();
}, 120_000);

/** The error codes of a dataset holding the fixture (and its data file) and a manifest naming it. */
function errorCodes(fixture: Fixture, summarize: boolean): string[] {
  const names = [fixture.file, ...(fixture.dataFile ? [fixture.dataFile] : [])];
  const images = names.map((name) => ({ filename: basename(name), contentType: 'application/octet-stream', content: readFileSync(join(dir, name)) }));
  const manifest = { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label\n${basename(fixture.file)},normal\n`) };
  const facts = [...images, manifest].map((file) => factsOf(xrayProfile, file));
  const issues = xrayProfile.validate(summarize ? facts.map((f) => xrayProfile.summarize(f)) : facts, DEFAULT_PROFILE_OPTIONS);
  return [...new Set(issues.filter((i) => i.severity === 'error').map((i) => i.code))].sort();
}

describe('images written by third-party tools', () => {
  for (const fixture of FIXTURES) {
    describe(fixture.file, () => {
      it(`the reference tool ${fixture.readable ? 'reads it' : 'refuses it'}`, () => {
        const verdict = fixture.reference(join(dir, fixture.file));
        expect({ readable: verdict.readable, output: fixture.readable === verdict.readable ? '' : verdict.output }).toEqual({
          readable: fixture.readable,
          output: '',
        });
      });

      it(`the validator ${fixture.codes.length === 0 ? 'passes it' : `fails it with ${fixture.codes.join(', ')}`}`, () => {
        expect(errorCodes(fixture, false)).toEqual(fixture.codes);
        expect(errorCodes(fixture, true)).toEqual(fixture.codes);
      });

      if (fixture.codes.length === 0) {
        it(`reads its size, ${FIXTURE_WIDTH}x${FIXTURE_HEIGHT}`, () => {
          const bytes = readFileSync(join(dir, fixture.file));
          const header = readImageHeader(bytes.subarray(0, HEAD_BYTES), bytes.length);
          expect({ width: header?.width, height: header?.height }).toEqual({ width: FIXTURE_WIDTH, height: FIXTURE_HEIGHT });
        });
      }

      it('agrees with the reference tool: what it refuses fails, and corrupt_image only for what it refuses', () => {
        const { readable } = fixture.reference(join(dir, fixture.file));
        const codes = errorCodes(fixture, true);
        expect({ refusedButPassed: !readable && codes.length === 0, corruptButReadable: readable && codes.includes('corrupt_image') }).toEqual({
          refusedButPassed: false,
          corruptButReadable: false,
        });
      });
    });
  }
});
