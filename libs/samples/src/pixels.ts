/** Width and height of an image, in pixels. */
export interface ImageSize {
  width: number;
  height: number;
}

/** Deterministic 8-bit greyscale pixels, row by row: a diagonal gradient shifted by `seed`. */
export function pixels(width: number, height: number, seed: number): Buffer {
  const out = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out[y * width + x] = (x * 3 + y * 5 + seed * 37) & 0xff;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32): the same `seed` always gives the same bytes. */
export function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
}
