// Seeded randomness for planning. Math.random is never used: every draw comes from a
// generator built from an explicit seed, and the generator uses only 32-bit integer
// arithmetic (Math.imul, shifts, xor), whose results the ECMAScript spec fixes exactly, so a
// seed gives the same numbers on every Node version and platform.

/** A seeded source of numbers. */
export interface Rng {
  /** A float in [0, 1) with 53 random bits (two 32-bit outputs), so every double step is reachable. */
  next(): number;
  /** A raw 32-bit output, as an unsigned integer. */
  nextUint32(): number;
  /** A whole number in 0..n-1 (n >= 1). Bias is below 2^-20 for n < 2^32. */
  int(n: number): number;
}

/** One part of a seed derivation: a number (taken as uint32 parts) or a label string. */
export type SeedPart = number | string;

/** splitmix32's finaliser: a bijection on uint32 with strong avalanche. */
function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * Mixes seed parts into one uint32. Numbers above 2^32 contribute their high and low words;
 * strings contribute their UTF-16 code units, so `("random", 3)` and `("grid", 3)` give
 * unrelated seeds. The result depends on the order of the parts.
 */
export function hashSeed(...parts: readonly SeedPart[]): number {
  let h = 0x9e3779b9;
  const feed = (word: number) => {
    h = mix32((h + 0x9e3779b9 + (word >>> 0)) | 0);
  };
  for (const part of parts) {
    if (typeof part === "string") {
      feed(0x5bd1e995 ^ part.length);
      for (let i = 0; i < part.length; i++) feed(part.charCodeAt(i));
    } else {
      if (!Number.isSafeInteger(part) || part < 0)
        throw new RangeError(`seed part ${part} is not a non-negative safe integer`);
      feed(Math.floor(part / 2 ** 32));
      feed(part % 2 ** 32);
    }
  }
  return h;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counting generator: 128-bit state, a counter that
 * guarantees a period of at least 2^32), its state filled by splitmix32 from
 * `hashSeed(...parts)`. `createRng(seed, "random", i)` is the generator of trial i.
 */
export function createRng(...parts: readonly SeedPart[]): Rng {
  let s = hashSeed(...parts);
  const splitmix = () => {
    s = (s + 0x9e3779b9) | 0;
    return mix32(s);
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = 1;
  const nextUint32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard a few outputs so the state has moved away from its seeding.
  for (let i = 0; i < 12; i++) nextUint32();
  const next = () => {
    // 27 high bits and 26 low bits make a 53-bit integer, divided by 2^53: exact, in [0, 1).
    const high = nextUint32() >>> 5;
    const low = nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  };
  return {
    next,
    nextUint32,
    int(n: number) {
      if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`int(n) needs a whole n >= 1, got ${n}`);
      return Math.floor(next() * n);
    },
  };
}

/**
 * A seeded permutation of 0..size-1 that is computed one index at a time, without holding
 * the whole order in memory (a balanced Feistel network over the next even power of two,
 * with cycle-walking to stay below `size`). Used to visit a grid of any size in a shuffled
 * order. `size` may be up to 2^52.
 */
export function createPermutation(size: number, ...seed: readonly SeedPart[]): (index: number) => number {
  if (!Number.isSafeInteger(size) || size < 1 || size > 2 ** 52) {
    throw new RangeError(`permutation size must be a whole number in 1..2^52, got ${size}`);
  }
  if (size === 1) return () => 0;
  let bits = Math.ceil(Math.log2(size));
  if (2 ** bits < size) bits++; // guard against log2 rounding down
  if (bits % 2 === 1) bits++;
  const halfBits = Math.max(1, bits / 2);
  const half = 2 ** halfBits;
  const mask = half - 1;
  const rounds = 6;
  const keys = Array.from({ length: rounds }, (_, r) => hashSeed(...seed, "feistel", r));
  const encrypt = (x: number) => {
    let left = Math.floor(x / half);
    let right = x % half;
    for (const key of keys) {
      const f = mix32((key ^ right) >>> 0) & mask;
      const next = (left ^ f) >>> 0;
      left = right;
      right = next;
    }
    return left * half + right;
  };
  return (index: number) => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`permutation index ${index} outside 0..${size - 1}`);
    }
    // The domain is under 4x the size, so a walk takes under 4 steps on average.
    let x = encrypt(index);
    while (x >= size) x = encrypt(x);
    return x;
  };
}
