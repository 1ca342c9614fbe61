import { paramsFromUnits, paramsKey } from "../../config/space.js";
import { createRng } from "../../rng.js";
import type { Params, TrialRecord } from "../../types.js";
import { proposeEach, type Sampler, type SamplerOptions } from "./sampler.js";

/** Redraws tried before a random proposal may repeat a point already tried. */
export const maxRandomRedraws = 64;

/**
 * Draws every parameter independently and uniformly in the unit cube (so log-uniform on the
 * log scale, choices with equal chances).
 *
 * Trial i (i = the number of trials in the history, plus the proposal's position in this
 * call) draws from its own generator seeded with (seed, "random", i), not from one stream:
 * asking for 4 and then 4 more, with the first 4 in the history, gives the same 8 trials as
 * asking for 8 at once.
 *
 * A draw whose params equal a trial in the history or earlier in the call is redrawn from
 * (seed, "random", i, attempt), up to `maxRandomRedraws` times; only a nearly exhausted
 * discrete space can then give a repeat, which random sampling allows.
 */
export function createRandomSampler({ space, seed }: SamplerOptions): Sampler {
  const draw = (index: number, attempt: number): Params => {
    const rng = attempt === 0 ? createRng(seed, "random", index) : createRng(seed, "random", index, attempt);
    return paramsFromUnits(
      space,
      space.map(() => rng.next()),
    );
  };
  return {
    name: "random",
    propose(count: number, history: readonly TrialRecord[]): Params[] {
      return proposeEach(space, history, count, (index, tried) => {
        let params = draw(index, 0);
        for (let attempt = 1; tried.has(paramsKey(space, params)) && attempt <= maxRandomRedraws; attempt++)
          params = draw(index, attempt);
        return params;
      });
    },
  };
}
