// Seeded randomness for the simulator: deterministic runs from one seed, no Math.random().

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for jitter and ratios. Returns floats in [0, 1). */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a 32-bit: stable hash for picking answer texts and deriving per-server seeds. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef';

/** Deterministic id text of `len` characters from (seed, counter); ids look like the providers' own. */
export function idChars(seed: number, counter: number, len: number, alphabet: 'base62' | 'hex' = 'base62'): string {
  const chars = alphabet === 'hex' ? HEX : BASE62;
  const rng = createRng(hashString(String(counter), seed));
  let out = '';
  for (let i = 0; i < len; i++) out += chars[Math.floor(rng() * chars.length)];
  return out;
}
