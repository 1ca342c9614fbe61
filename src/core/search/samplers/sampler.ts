import { paramsKey, type SearchSpace } from "../../config/space.js";
import type { Params, TrialRecord } from "../../types.js";

/** Whether a larger or a smaller primary_score is better. */
export type MetricMode = "max" | "min";

/** What every sampler is built from. */
export interface SamplerOptions {
  /** The space to propose from, in its canonical order. */
  space: SearchSpace;
  /** The sweep seed (uint32): the same seed and history give the same proposals. */
  seed: number;
  /** Direction of primary_score, for samplers that learn from the history's scores. */
  metricMode: MetricMode;
}

/**
 * A sampler proposes the params of new trials given the trials so far. It is pure: the same
 * options, count and history give the same proposals, and it owns its randomness (seeded
 * from `SamplerOptions.seed`, never Math.random).
 *
 * `history` holds every earlier trial whatever its status: a failed, timed-out, pruned or
 * running trial has no score but still counts as a point already tried (deduplication, grid
 * coverage) and as an index already used. Its params may lie outside the current space (a
 * space changed between waves): samplers keep them for deduplication and leave them out of
 * any model (`toUnit` returns undefined for them).
 */
export interface Sampler {
  /** The concrete sampler's name (never "auto"). */
  readonly name: string;
  /**
   * The params of up to `count` new trials, each with every parameter of the space in the
   * space's order. Fewer than `count` only when the sampler has no new point left (a grid
   * whose points are all in the history); never more.
   */
  propose(count: number, history: readonly TrialRecord[]): Params[];
  /** The number of distinct points the sampler can ever propose, when finite (grid). */
  readonly size?: number;
  /**
   * For a sampler that learns from scores: how many more trials of `history` must have a
   * score before its model proposes (0: the next proposals come from the model; until then
   * they come from its warm-up design). Absent for samplers without a model.
   */
  warmUpLeft?(history: readonly TrialRecord[]): number;
}

/**
 * The loop of the samplers that pick each point on its own (random, Sobol): `pick` gets the
 * point's index in the sweep (the history's length plus its place in this call) and the keys
 * of the points tried so far (the history's and this call's), which it should avoid.
 */
export function proposeEach(
  space: SearchSpace,
  history: readonly TrialRecord[],
  count: number,
  pick: (index: number, tried: ReadonlySet<string>) => Params,
): Params[] {
  const tried = new Set(history.map((record) => paramsKey(space, record.params)));
  const proposals: Params[] = [];
  for (let k = 0; k < count; k++) {
    const params = pick(history.length + k, tried);
    tried.add(paramsKey(space, params));
    proposals.push(params);
  }
  return proposals;
}

/**
 * Proposals of the current call as running trials: a history to hand another sampler (the
 * Sobol filler of a model that ran out of candidates) so it neither repeats nor crowds them.
 */
export function asRunning(proposals: readonly Params[]): TrialRecord[] {
  return proposals.map((params, i) => ({
    trial_id: `\u0000${i}`,
    params,
    status: "running",
    primary_score: null,
  }));
}
