import { pixels, type ImageSize } from './pixels.js';

export interface MetaImageOptions extends ImageSize {
  /** A third dimension (slices); without it the image is 2-D. */
  depth?: number;
  seed?: number;
}

function dims(options: MetaImageOptions): number[] {
  return options.depth === undefined ? [options.width, options.height] : [options.width, options.height, options.depth];
}

/**
 * The text header of a MetaImage with MET_UCHAR elements. `dataFile` is `LOCAL` for a
 * `.mha` (data follows the header) or the name of the raw file beside a `.mhd`.
 * `ElementDataFile` comes last, as MetaIO requires.
 */
export function metaImageHeader(options: MetaImageOptions & { dataFile: string }): Buffer {
  const d = dims(options);
  const lines = [
    'ObjectType = Image',
    `NDims = ${d.length}`,
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    'CompressedData = False',
    `ElementSpacing = ${d.map(() => '1').join(' ')}`,
    `DimSize = ${d.join(' ')}`,
    'ElementType = MET_UCHAR',
    `ElementDataFile = ${options.dataFile}`,
  ];
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}

/** The raw voxels of a MetaImage (one byte each, x fastest): a `.raw` file's content. */
export function metaImageData(options: MetaImageOptions): Buffer {
  const slices = options.depth ?? 1;
  return Buffer.concat(Array.from({ length: slices }, (_, z) => pixels(options.width, options.height, (options.seed ?? 0) + z)));
}

/** A `.mha`: the header with `ElementDataFile = LOCAL`, then the raw voxels. */
export function metaImage(options: MetaImageOptions): Buffer {
  return Buffer.concat([metaImageHeader({ ...options, dataFile: 'LOCAL' }), metaImageData(options)]);
}
