// Reads the header of a JPEG file for the `xray` profile (see ../formats.ts).
import type { ImageHeader } from '../formats.js';

/** SOF0–SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isFrameHeader = (marker: number): boolean => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** End of image. */
const EOI = Buffer.from([0xff, 0xd9]);
/** Markers without a length: TEM, RST0–7, SOI. */
const isStandalone = (marker: number): boolean => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

export function readJpeg(head: Buffer, size: number): ImageHeader {
  const complete = head.length >= size;
  const corrupt = (why: string): ImageHeader => ({ format: 'jpeg', corrupt: why });
  const outOfBytes = (): ImageHeader => (complete ? corrupt('the file ends before the frame header (SOF) that gives the image size') : { format: 'jpeg' });
  let i = 2;
  for (;;) {
    if (i >= head.length) return outOfBytes();
    if (head[i] !== 0xff) return corrupt(`expected a marker at byte ${i}, found 0x${head[i]!.toString(16).padStart(2, '0')}`);
    while (i < head.length && head[i] === 0xff) i++; // fill bytes
    if (i >= head.length) return outOfBytes();
    const marker = head[i]!;
    i++;
    if (isStandalone(marker)) continue;
    if (marker === 0xd9) return corrupt('the image ends (EOI) without a frame header (SOF)');
    if (marker === 0xda) return corrupt('the scan (SOS) starts without a frame header (SOF)');
    if (i + 2 > head.length) return outOfBytes();
    const length = head.readUInt16BE(i);
    if (length < 2) return corrupt(`marker 0xFF${marker.toString(16).toUpperCase()} at byte ${i - 2} has an invalid length ${length}`);
    if (isFrameHeader(marker)) {
      if (length < 8) return corrupt(`the frame header (SOF) is only ${length} bytes long`);
      if (i + 7 > head.length) return outOfBytes();
      const height = head.readUInt16BE(i + 3);
      const width = head.readUInt16BE(i + 5);
      if (width === 0) return corrupt('the frame header (SOF) gives a width of 0');
      // Height 0 means it is given later, in a DNL segment: only the width is known here.
      const frame: ImageHeader = height === 0 ? { format: 'jpeg', width } : { format: 'jpeg', width, height };
      // The end can only be seen when the whole file was kept.
      if (complete && !endsItsImage(head, i + length)) return corrupt('the file ends before the end-of-image marker (EOI): the scan is cut short');
      return frame;
    }
    i += length;
  }
}

/**
 * Whether the segments from `at` lead to a scan (SOS) followed by the end-of-image marker.
 * Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so
 * 0xFF 0xD9 after the first scan is the real EOI (not one of an EXIF thumbnail's, which
 * sits in an APP1 segment before it).
 */
function endsItsImage(bytes: Buffer, at: number): boolean {
  let i = at;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    while (i < bytes.length && bytes[i] === 0xff) i++;
    const marker = bytes[i]!;
    i++;
    if (isStandalone(marker)) continue;
    if (marker === 0xd9) return false;
    if (marker === 0xda) return bytes.indexOf(EOI, i) >= 0;
    i += bytes.readUInt16BE(i);
  }
  return false;
}
