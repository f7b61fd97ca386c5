// Real, small files built in the script: greyscale PNG images (valid signature, IHDR,
// zlib IDAT in stored blocks, IEND, every CRC right) and the manifest of an `xray`
// dataset listing them with their SHA-256.
import crypto from 'k6/crypto';

const CRC_TABLE = (() => {
  const table = new Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes, from, to) {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function adler32(bytes) {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function u32(out, at, value) {
  out[at] = (value >>> 24) & 0xff;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** zlib stream of `raw` in stored (uncompressed) deflate blocks. */
function zlibStored(raw) {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = new Uint8Array(2 + blocks * 5 + raw.length + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let at = 2;
  for (let i = 0; i < blocks; i++) {
    const from = i * 65535;
    const len = Math.min(65535, raw.length - from);
    out[at++] = i === blocks - 1 ? 1 : 0;
    out[at++] = len & 0xff;
    out[at++] = len >>> 8;
    out[at++] = ~len & 0xff;
    out[at++] = (~len >>> 8) & 0xff;
    out.set(raw.subarray(from, from + len), at);
    at += len;
  }
  u32(out, at, adler32(raw));
  return out;
}

/** A valid 8-bit greyscale PNG of `width` × `height`; `seed` varies the pixels. */
export function png(width, height, seed) {
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = (x * 3 + y * 5 + seed * 17) & 0xff;
  }
  const idat = zlibStored(raw);
  const chunks = [
    ['IHDR', [0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0]],
    ['IDAT', idat],
    ['IEND', []],
  ];
  const size = 8 + chunks.reduce((sum, [, data]) => sum + 12 + data.length, 0);
  const out = new Uint8Array(size);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  let at = 8;
  for (const [type, data] of chunks) {
    u32(out, at, data.length);
    for (let i = 0; i < 4; i++) out[at + 4 + i] = type.charCodeAt(i);
    out.set(data, at + 8);
    if (type === 'IHDR') {
      u32(out, at + 8, width);
      u32(out, at + 12, height);
    }
    u32(out, at + 8 + data.length, crc32(out, at + 4, at + 8 + data.length));
    at += 12 + data.length;
  }
  return out;
}

/**
 * A valid `xray` dataset: `images` PNG files (64 px or more on each side, as the profile
 * requires) and `manifest.csv` with label, SHA-256, patient and split of each.
 * Each file is `{filename, contentType, body, sizeBytes, sha256}`; `body` is what to PUT.
 */
export function xrayDataset(images, seed) {
  const files = [];
  const rows = ['filename,label,sha256,patient_id,split'];
  for (let i = 0; i < images; i++) {
    const bytes = png(96 + (i % 4) * 16, 80 + (i % 3) * 16, seed + i);
    const filename = `image-${String(i + 1).padStart(3, '0')}.png`;
    const sha256 = crypto.sha256(bytes.buffer, 'hex');
    files.push({ filename, contentType: 'image/png', body: bytes.buffer, sizeBytes: bytes.length, sha256 });
    rows.push([filename, i % 2 === 0 ? 'normal' : 'abnormal', sha256, `P${seed}-${i}`, ['train', 'val', 'test'][i % 3]].join(','));
  }
  const manifest = `${rows.join('\r\n')}\r\n`; // ASCII only: its length is its size in bytes
  files.push({ filename: 'manifest.csv', contentType: 'text/csv', body: manifest, sizeBytes: manifest.length, sha256: crypto.sha256(manifest, 'hex') });
  return files;
}
