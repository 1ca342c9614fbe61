import { createRng, type Rng } from "../../rng.js";
import type { Params, TrialRecord } from "../../types.js";
import { type Encoding, encodeSpace, type Observations, observe } from "./encoding.js";
import { asRunning, type Sampler, type SamplerOptions } from "./sampler.js";
import { createSobolSampler } from "./sobol.js";

/** What a model-based sampler adds to the frame: its name, its warm-up size, its model. */
export interface SamplerModel {
  /** The sampler's name; also the label of its RNG stream. */
  name: string;
  /** How many scored trials the model needs, given the number of encoded dimensions. */
  startup(dims: number): number;
  /**
   * Up to `count` proposals from the model; fewer when it runs out of untried candidates
   * (the frame fills the rest from the Sobol sequence).
   */
  propose(count: number, obs: Observations, encoding: Encoding, rng: Rng): Params[];
}

/**
 * The frame TPE and GP share: the scrambled Sobol sequence until `startup` trials have a
 * score (and for a space with nothing to model), then the model, its proposals filled up
 * from the Sobol sequence when it runs out of candidates. The RNG of each call is seeded
 * from the sweep seed, the sampler's name and the history's length, so the same history
 * gives the same proposals.
 */
export function createModelBasedSampler(options: SamplerOptions, model: SamplerModel): Sampler {
  const { seed, metricMode } = options;
  const encoding = encodeSpace(options.space);
  const dims = encoding.coords.length;
  const sobol = createSobolSampler(options);
  return {
    name: model.name,
    warmUpLeft(history: readonly TrialRecord[]): number {
      if (dims === 0) return Number.POSITIVE_INFINITY;
      return Math.max(0, model.startup(dims) - observe(encoding, history, metricMode).y.length);
    },
    propose(count: number, history: readonly TrialRecord[]): Params[] {
      if (count <= 0) return [];
      const obs = observe(encoding, history, metricMode);
      if (dims === 0 || obs.y.length < model.startup(dims)) return sobol.propose(count, history);
      const picked = model.propose(count, obs, encoding, createRng(seed, model.name, history.length));
      if (picked.length >= count) return picked;
      const filler = sobol.propose(count - picked.length, [...history, ...asRunning(picked)]);
      return [...picked, ...filler];
    },
  };
}
