// Seeded randomness for the example trainer. Math.random is never used: every draw comes
// from a generator built from an explicit seed, so a run is reproducible byte for byte.

/**
 * Mixes a list of unsigned 32-bit integers into one 32-bit seed. Used to derive independent
 * streams from (seed, purpose, step), so a minibatch depends only on its step number and a
 * resumed run draws the same batches as a straight one.
 * @param {...number} parts
 * @returns {number}
 */
export function mixSeed(...parts) {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * sfc32: a small, fast generator with a 128-bit state, seeded from one 32-bit value.
 * @param {number} seed
 * @returns {{ next: () => number, int: (n: number) => number, normal: () => number }}
 *   `next` in [0, 1); `int(n)` in 0..n-1; `normal` from the standard normal distribution.
 */
export function createRng(seed) {
  let a = mixSeed(seed, 1);
  let b = mixSeed(seed, 2);
  let c = mixSeed(seed, 3);
  let d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: the state starts close to its seed.
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      // Box-Muller; 1 - u keeps the logarithm's argument above zero.
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/**
 * A permutation of 0..n-1 (Fisher-Yates) drawn from `rng`.
 * @param {number} n
 * @param {{ int: (n: number) => number }} rng
 * @returns {number[]}
 */
export function permutation(n, rng) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  return order;
}
