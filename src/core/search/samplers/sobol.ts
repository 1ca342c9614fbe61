// Scrambled Sobol points: a low-discrepancy sequence for the startup waves of the model-based
// samplers and a sampler of its own ("sobol").
//
// Direction numbers: S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better
// two-dimensional projections", SIAM J. Sci. Comput. 30 (2008) 2635-2654, the set
// `new-joe-kuo-6.21201` published at https://web.maths.unsw.edu.au/~fkuo/sobol/ (the same
// numbers SciPy's `scipy.stats.qmc.Sobol` ships). Dimension 1 is van der Corput's sequence;
// dimensions 2..40 are the file's first 39 rows, written below as [degree s, coefficients a,
// initial numbers m_1..m_s].
//
// Scrambling: Owen's nested uniform scramble (A. B. Owen, "Randomly permuted (t,m,s)-nets and
// (t,s)-sequences", 1995): bit k of a coordinate is flipped by a random bit chosen by the bits
// above it, drawn from a hash of (seed, dimension, k, those bits). It keeps the net structure
// (the first 2^m points put exactly one point in each of 2^m equal intervals per dimension)
// and makes each point uniform on the cube.

import { paramsFromUnits, paramsKey, type SearchSpace } from "../../config/space.js";
import { createRng, hashSeed } from "../../rng.js";
import type { Params, TrialRecord } from "../../types.js";
import { proposeEach, type Sampler, type SamplerOptions } from "./sampler.js";

/** Joe-Kuo rows for dimensions 2..40: [s, a, m_1, ..., m_s]. */
const joeKuo: readonly (readonly number[])[] = [
  [1, 0, 1],
  [2, 1, 1, 3],
  [3, 1, 1, 3, 1],
  [3, 2, 1, 1, 1],
  [4, 1, 1, 1, 3, 3],
  [4, 4, 1, 3, 5, 13],
  [5, 2, 1, 1, 5, 5, 17],
  [5, 4, 1, 1, 5, 5, 5],
  [5, 7, 1, 1, 7, 11, 19],
  [5, 11, 1, 1, 5, 1, 1],
  [5, 13, 1, 1, 1, 3, 11],
  [5, 14, 1, 3, 5, 5, 31],
  [6, 1, 1, 3, 3, 9, 7, 49],
  [6, 13, 1, 1, 1, 15, 21, 21],
  [6, 16, 1, 3, 1, 13, 27, 49],
  [6, 19, 1, 1, 1, 15, 7, 5],
  [6, 22, 1, 3, 1, 15, 13, 25],
  [6, 25, 1, 1, 5, 5, 19, 61],
  [7, 1, 1, 3, 7, 11, 23, 15, 103],
  [7, 4, 1, 3, 7, 13, 13, 15, 69],
  [7, 7, 1, 1, 3, 13, 7, 35, 63],
  [7, 8, 1, 3, 5, 9, 1, 25, 53],
  [7, 14, 1, 3, 1, 13, 9, 35, 107],
  [7, 19, 1, 3, 1, 5, 27, 61, 31],
  [7, 21, 1, 1, 5, 11, 19, 41, 61],
  [7, 28, 1, 3, 5, 3, 3, 13, 69],
  [7, 31, 1, 1, 7, 13, 1, 19, 1],
  [7, 32, 1, 3, 7, 5, 13, 19, 59],
  [7, 37, 1, 1, 3, 9, 25, 29, 41],
  [7, 41, 1, 3, 5, 13, 23, 1, 55],
  [7, 42, 1, 3, 7, 3, 13, 59, 17],
  [7, 50, 1, 3, 1, 3, 5, 53, 69],
  [7, 55, 1, 1, 5, 5, 23, 33, 13],
  [7, 56, 1, 1, 7, 7, 1, 61, 123],
  [7, 59, 1, 1, 7, 9, 13, 61, 49],
  [7, 62, 1, 3, 3, 5, 3, 55, 33],
  [8, 14, 1, 3, 1, 15, 31, 13, 49, 245],
  [8, 21, 1, 3, 5, 15, 31, 59, 63, 97],
  [8, 22, 1, 3, 1, 11, 11, 11, 77, 249],
];

/** Dimensions with Sobol direction numbers; further ones are drawn at random (see `sobolUnits`). */
export const sobolMaxDims = joeKuo.length + 1;

/** Bits per coordinate: indices up to 2^32 - 1. */
const bits = 32;

/** directions[j][k]: direction number v_{k+1} of dimension j+1, as a 32-bit fraction. */
const directions: readonly Uint32Array[] = (() => {
  const table: Uint32Array[] = [];
  const first = new Uint32Array(bits);
  for (let k = 0; k < bits; k++) first[k] = 2 ** (bits - 1 - k);
  table.push(first);
  for (const row of joeKuo) {
    const [s = 1, a = 0, ...m] = row;
    const v = new Uint32Array(bits);
    for (let k = 0; k < bits; k++) {
      if (k < s) {
        v[k] = ((m[k] ?? 1) * 2 ** (bits - 1 - k)) >>> 0;
        continue;
      }
      // The recurrence of the primitive polynomial x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1.
      let value = (v[k - s] ?? 0) ^ ((v[k - s] ?? 0) >>> s);
      for (let i = 1; i < s; i++) if ((a >>> (s - 1 - i)) & 1) value ^= v[k - i] ?? 0;
      v[k] = value >>> 0;
    }
    table.push(v);
  }
  return table;
})();

/**
 * Coordinate `dim` (0-based) of unscrambled Sobol point `index`, as a 32-bit integer (the
 * fraction times 2^32). Points follow the Gray-code order of Antonov and Saleev, as Joe and
 * Kuo's own program and SciPy do; the first 2^m points are the same set in either order.
 */
export function sobolInteger(index: number, dim: number): number {
  const v = directions[dim];
  if (v === undefined) throw new RangeError(`Sobol dimension ${dim + 1} is above ${sobolMaxDims}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** bits)
    throw new RangeError(`Sobol index ${index} outside 0..2^32-1`);
  const gray = (index ^ Math.floor(index / 2)) >>> 0;
  let x = 0;
  for (let k = 0; k < bits; k++) if ((gray >>> k) & 1) x ^= v[k] ?? 0;
  return x >>> 0;
}

/** Owen's nested uniform scramble of a 32-bit coordinate, keyed by `key` (seed and dimension). */
function owenScramble(x: number, key: number): number {
  let out = 0;
  for (let level = 0; level < bits; level++) {
    const bit = bits - 1 - level;
    // The bits above this one select the random flip, so points that share a prefix share
    // the permutation of that prefix's sub-interval: nets stay nets.
    const prefix = level === 0 ? 0 : x >>> (bit + 1);
    const flip = hashSeed(key, level, prefix) & 1;
    out = (out | ((((x >>> bit) & 1) ^ flip) << bit)) >>> 0;
  }
  return out;
}

/**
 * Point `index` of the Owen-scrambled Sobol sequence in `dims` dimensions, in [0, 1)^dims.
 * The scramble is fixed by `seed`: the same seed gives the same sequence. Dimensions past
 * `sobolMaxDims` have no direction numbers here: they are uniform draws from
 * (seed, index, dimension), which keeps each point uniform but not low-discrepancy there.
 */
export function sobolUnits(index: number, dims: number, seed: number): number[] {
  const units: number[] = [];
  for (let d = 0; d < dims; d++) {
    if (d < sobolMaxDims) {
      const scrambled = owenScramble(sobolInteger(index, d), hashSeed(seed, "sobol-owen", d));
      // A uniform offset within the 2^-32 cell, so values are not all multiples of 2^-32.
      const within = createRng(seed, "sobol-cell", index, d).next();
      units.push((scrambled + within) / 2 ** bits);
    } else {
      units.push(createRng(seed, "sobol-extra", index, d).next());
    }
  }
  return units;
}

/** Redraws tried before a Sobol proposal may repeat a tried point. */
export const maxSobolRedraws = 64;

/**
 * The params of Sobol point `index`, or, when they equal a tried point (a small discrete
 * space), of uniform draws from (seed, index, attempt), up to `maxSobolRedraws` of them (as
 * the random sampler does), else a repeat. Later points of the sequence are not used as
 * redraws: they belong to later trials (and points 2^k apart differ only in low bits).
 */
function sobolParams(space: SearchSpace, seed: number, index: number, tried: ReadonlySet<string>): Params {
  let params = paramsFromUnits(space, sobolUnits(index, space.length, seed));
  for (let attempt = 1; attempt <= maxSobolRedraws && tried.has(paramsKey(space, params)); attempt++) {
    const rng = createRng(seed, "sobol-redraw", index, attempt);
    params = paramsFromUnits(
      space,
      space.map(() => rng.next()),
    );
  }
  return params;
}

/**
 * Proposes the points of one Owen-scrambled Sobol sequence (one dimension per parameter,
 * mapped by `fromUnit`: log scale for the log types, choices by equal cells).
 *
 * Proposal k of a call is point (history length + k), so asking for 4 and then 4 more, with
 * the first 4 in the history, gives the same 8 points as asking for 8, and the first
 * 2^m trials of a sweep are a scrambled (t, m, s)-net: each parameter's range is covered in
 * 2^m equal parts, one point each. A point whose params equal a point of the history
 * (whatever its status) or of the call is replaced (`sobolParams`).
 */
export function createSobolSampler({ space, seed }: SamplerOptions): Sampler {
  return {
    name: "sobol",
    propose(count: number, history: readonly TrialRecord[]): Params[] {
      return proposeEach(space, history, count, (index, tried) =>
        sobolParams(space, seed, index % 2 ** 32, tried),
      );
    },
  };
}
