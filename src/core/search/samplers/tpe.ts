// Multivariate tree-structured Parzen estimator ("tpe"), batch-aware by a constant liar.

import { paramsKey } from "../../config/space.js";
import type { Rng } from "../../rng.js";
import type { Params } from "../../types.js";
import { normalCdf } from "./acquisition.js";
import type { Coordinate, Encoding } from "./encoding.js";
import { createModelBasedSampler } from "./model-based.js";
import type { Sampler, SamplerOptions } from "./sampler.js";

/** Settings of the TPE sampler. */
export interface TpeSettings {
  /** Scored trials needed before the estimators are used; before that, scrambled Sobol points. */
  startup: (dims: number) => number;
  /** How many of n scored trials are "good" (default: a quarter, as Hyperopt, at most 25 as Optuna). */
  good: (n: number) => number;
  /** Candidates drawn from the good density per proposal. */
  candidates: number;
  /** Weight of the prior component (each trial's component weighs 1). */
  priorWeight: number;
  /** Chance a categorical component puts on the other values, spread evenly. */
  categoricalSmoothing: number;
}

/** The settings `tpe` runs with. */
export const defaultTpeSettings: TpeSettings = {
  startup: (dims) => Math.min(8, Math.max(4, dims + 1)),
  good: (n) => Math.min(25, Math.max(1, Math.ceil(0.25 * n))),
  candidates: 24,
  priorWeight: 1,
  categoricalSmoothing: 0.2,
};

/**
 * A mixture of product kernels on the encoded space: one component per point (weight 1) and
 * a broad prior component (centre 0.5, sd 1 on numeric coordinates, uniform on categorical
 * ones). Numeric kernels are normals truncated to [0, 1], one bandwidth for all points
 * (Scott's rule in `dims` dimensions, kept within [1/min(100, m + 1), 1], as Optuna's
 * multivariate TPE does).
 */
class Parzen {
  private readonly sigma: number;
  private readonly weights: number[];
  /**
   * Per component: log weight plus the normalising terms of its numeric kernels (-log sd,
   * -log sqrt(2 pi), -log of the mass the normal keeps in [0, 1]), computed once so that a
   * density costs one pass over the points.
   */
  private readonly constants: Float64Array;
  constructor(
    private readonly coords: readonly Coordinate[],
    private readonly points: readonly Float64Array[],
    private readonly settings: TpeSettings,
  ) {
    const m = points.length;
    const dims = Math.max(1, coords.length);
    this.sigma = Math.min(1, Math.max(1 / Math.min(100, m + 1), 0.2 * Math.max(1, m) ** (-1 / (dims + 4))));
    this.weights = [...points.map(() => 1), settings.priorWeight];
    const total = this.weights.reduce((sum, w) => sum + w, 0);
    this.constants = Float64Array.from(this.weights, (w, component) => {
      const centre = this.points[component];
      const sd = centre === undefined ? 1 : this.sigma;
      let constant = Math.log(w / total);
      coords.forEach((c, d) => {
        if (c.kind === "categorical") return;
        const mu = centre === undefined ? 0.5 : (centre[d] as number);
        const mass = Math.max(normalCdf((1 - mu) / sd) - normalCdf(-mu / sd), 1e-300);
        constant -= Math.log(sd) + 0.5 * Math.log(2 * Math.PI) + Math.log(mass);
      });
      return constant;
    });
  }

  /** Draws a point: a component by weight, then each coordinate from that component's kernel. */
  sample(rng: Rng): Float64Array {
    const total = this.weights.reduce((sum, w) => sum + w, 0);
    let u = rng.next() * total;
    let component = 0;
    while (component < this.weights.length - 1 && u >= (this.weights[component] as number)) {
      u -= this.weights[component] as number;
      component++;
    }
    const centre = this.points[component];
    return Float64Array.from(this.coords, (c, d) => {
      if (c.kind === "categorical") {
        if (centre === undefined || rng.next() < this.settings.categoricalSmoothing) return rng.int(c.levels);
        return centre[d] as number;
      }
      const mu = centre === undefined ? 0.5 : (centre[d] as number);
      const sd = centre === undefined ? 1 : this.sigma;
      // Rejection from the normal keeps the truncated shape; a clamp only after many misses.
      for (let tries = 0; tries < 100; tries++) {
        const z = Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-300))) * Math.cos(2 * Math.PI * rng.next());
        const v = mu + sd * z;
        if (v >= 0 && v <= 1) return v;
      }
      return Math.min(1, Math.max(0, mu));
    });
  }

  /** log density of x under the mixture. */
  logDensity(x: Float64Array): number {
    const eta = this.settings.categoricalSmoothing;
    const terms = new Float64Array(this.weights.length);
    let top = Number.NEGATIVE_INFINITY;
    for (let component = 0; component < this.weights.length; component++) {
      const centre = this.points[component];
      const inverseSd = centre === undefined ? 1 : 1 / this.sigma;
      let log = this.constants[component] as number;
      for (let d = 0; d < this.coords.length; d++) {
        const c = this.coords[d] as Coordinate;
        const v = x[d] as number;
        if (c.kind === "categorical") {
          log += Math.log(
            centre === undefined ? 1 / c.levels : (v === centre[d] ? 1 - eta : 0) + eta / c.levels,
          );
        } else {
          const z = (v - (centre === undefined ? 0.5 : (centre[d] as number))) * inverseSd;
          log -= 0.5 * z * z;
        }
      }
      terms[component] = log;
      if (log > top) top = log;
    }
    let sum = 0;
    for (const t of terms) sum += Math.exp(t - top);
    return top + Math.log(sum);
  }
}

/**
 * Multivariate TPE (Bergstra et al., 2011; the joint estimators of Falkner et al., 2018, as
 * Optuna's `multivariate=True`):
 * - until `startup` trials have scores: the scrambled Sobol sequence (`sobol`);
 * - the scored trials split into the best `good(n)` and the rest; each set gives a Parzen
 *   density over the encoded space (`Parzen`); each proposal is the best of `candidates`
 *   draws from the good density by log good - log bad density, never a tried point;
 * - batch-aware by a constant liar: running, failed, timed-out and pruned trials, and each
 *   proposal already made in this call, join the bad set (they are told as the worst
 *   score), so the proposals of one wave spread instead of piling onto the same mode.
 * Numeric choices are ordered (ordinal positions, see encoding.ts): the kernels are
 * continuous over their positions and the draws are rounded to a value; integers and q types
 * likewise. Categorical choices get a categorical kernel. metric_mode min: -score is maximised.
 */
export function createTpeSampler(
  options: SamplerOptions,
  settings: TpeSettings = defaultTpeSettings,
): Sampler {
  return createModelBasedSampler(options, {
    name: "tpe",
    startup: settings.startup,
    propose(count, obs, encoding, rng) {
      const order = [...obs.y.keys()].sort((a, b) => (obs.y[b] as number) - (obs.y[a] as number) || a - b);
      const nGood = settings.good(order.length);
      const good = new Parzen(
        encoding.coords,
        order.slice(0, nGood).map((i) => obs.x[i] as Float64Array),
        settings,
      );
      const badPoints = [...order.slice(nGood).map((i) => obs.x[i] as Float64Array), ...obs.pending];
      const tried = new Set(obs.tried);
      const proposals: Params[] = [];
      for (let k = 0; k < count; k++) {
        const bad = new Parzen(encoding.coords, badPoints, settings);
        const pick = bestCandidate(encoding, good, bad, tried, rng, settings.candidates);
        if (pick === undefined) break;
        proposals.push(pick.params);
        tried.add(paramsKey(encoding.space, pick.params));
        badPoints.push(pick.x);
      }
      return proposals;
    },
  });
}

/** The untried draw with the largest density ratio; more draws when the first are all tried. */
function bestCandidate(
  encoding: Encoding,
  good: Parzen,
  bad: Parzen,
  tried: ReadonlySet<string>,
  rng: Rng,
  candidates: number,
): { x: Float64Array; params: Params } | undefined {
  let best: { x: Float64Array; params: Params; score: number } | undefined;
  for (let drawn = 0; drawn < candidates * 8 && (best === undefined || drawn < candidates); drawn++) {
    const x = good.sample(rng);
    encoding.snap(x);
    const params = encoding.decode(x);
    if (tried.has(paramsKey(encoding.space, params))) continue;
    const score = good.logDensity(x) - bad.logDensity(x);
    if (best === undefined || score > best.score) best = { x, params, score };
  }
  return best;
}
