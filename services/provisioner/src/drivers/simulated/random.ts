/**
 * A repeatable random source (mulberry32): the same seed gives the same pod names,
 * jitter and chaos victims, so a simulation can be replayed exactly.
 * Returns numbers in [0, 1), like `Math.random`.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters of a generated pod name, like Kubernetes' `-7xk2p`. */
export function nameSuffix(random: () => number, length = 5): string {
  let suffix = '';
  for (let i = 0; i < length; i++) {
    const index = Math.min(SUFFIX_ALPHABET.length - 1, Math.floor(random() * SUFFIX_ALPHABET.length));
    suffix += SUFFIX_ALPHABET[index];
  }
  return suffix;
}
