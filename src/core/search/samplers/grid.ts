import { gridValues, paramsKey } from "../../config/space.js";
import { InputError } from "../../errors.js";
import { createPermutation } from "../../rng.js";
import type { Params, ParamValue, TrialRecord } from "../../types.js";
import type { Sampler, SamplerOptions } from "./sampler.js";

/** Points per continuous parameter (uniform, loguniform; randint and q types with more values). */
export const defaultGridPoints = 5;

/** The largest grid the sampler walks (its shuffled order is computed index by index). */
export const maxGridSize = 2 ** 52;

/** Options of the grid sampler beyond those of every sampler. */
export interface GridOptions extends SamplerOptions {
  /** Points per continuous parameter (default `defaultGridPoints`). */
  gridPoints?: number;
}

/**
 * The Cartesian product of each parameter's grid values (`gridValues`: every choice; 5
 * points per continuous parameter, log-spaced for the log types, both ends included; every
 * integer or multiple of q when there are at most 5).
 *
 * Order: the grid's points are visited in a shuffled order fixed by the seed (a seeded
 * permutation of the point indices), so the first trials of a large grid are spread over the
 * whole space instead of varying only the last parameter, and another seed visits another
 * order. Each call walks that order from the start and proposes the first points whose
 * params are not in the history (matched by value, whatever the record's status) nor
 * already proposed: asking for 4 and then 4 more gives the same 8 points as asking for 8.
 *
 * Exhaustion: when fewer than `count` points are left, it proposes only those (possibly
 * none); it never repeats a point. `size` tells how many points the grid has.
 */
export function createGridSampler({ space, seed, gridPoints = defaultGridPoints }: GridOptions): Sampler {
  const axes: ParamValue[][] = space.map(({ spec }) => gridValues(spec, gridPoints));
  const size = axes.reduce((product, values) => product * values.length, 1);
  if (size > maxGridSize) {
    const shape = axes.map((values, i) => `${space[i]?.name} ${values.length}`).join(" x ");
    throw new InputError(
      `sampler grid: the grid has ${size} points (${shape}); at most ${maxGridSize}; use sampler random`,
    );
  }
  const order = createPermutation(size, seed, "grid");
  const pointAt = (index: number): Params => {
    // Mixed-radix digits of the point index, the last parameter varying fastest.
    const digits: number[] = [];
    let rest = index;
    for (let i = axes.length - 1; i >= 0; i--) {
      const length = axes[i]?.length ?? 1;
      digits[i] = rest % length;
      rest = Math.floor(rest / length);
    }
    const params: Params = {};
    space.forEach(({ name }, i) => {
      params[name] = axes[i]?.[digits[i] ?? 0] ?? null;
    });
    return params;
  };
  return {
    name: "grid",
    size,
    propose(count: number, history: readonly TrialRecord[]): Params[] {
      const tried = new Set(history.map((record) => paramsKey(space, record.params)));
      const proposals: Params[] = [];
      for (let position = 0; position < size && proposals.length < count; position++) {
        const params = pointAt(order(position));
        const key = paramsKey(space, params);
        if (tried.has(key)) continue;
        tried.add(key);
        proposals.push(params);
      }
      return proposals;
    },
  };
}
