// Batch Bayesian optimisation with a Gaussian process ("gp"): the sampler `auto` stands for.

import { createRng, type Rng } from "../rng.js";
import { paramsKey } from "../space.js";
import type { Params, TrialRecord } from "../types.js";
import { logExpectedImprovement, normalCdf } from "./acquisition.js";
import { type Encoding, encodeSpace, type Observations, observe } from "./encoding.js";
import {
  defaultPriors,
  fitGp,
  type GpData,
  type GpHyper,
  GpPool,
  GpPosterior,
  type GpPriors,
  joinPredictions,
  type Prediction,
} from "./gp-model.js";
import { cholesky } from "./linalg.js";
import type { Sampler, SamplerOptions } from "./sampler.js";
import { createSobolSampler } from "./sobol.js";

/** Settings of the GP sampler; the defaults are what the sampler benchmark was run with. */
export interface GpSettings {
  /** Scored trials needed before the model is used; before that, scrambled Sobol points. */
  startup: (dims: number) => number;
  /** The most scored trials the model conditions on (its cost grows like their cube). */
  maxModelled: number;
  /** Of those, how many are the best trials; the rest are the most recent ones. */
  bestModelled: number;
  /** The most trials the hyperparameters are fitted on (a seeded random subset beyond). */
  maxFitted: number;
  /** L-BFGS starts besides the priors' centre. */
  restarts: number;
  /** L-BFGS iterations per start. */
  maxIterations: number;
  /** Uniform candidates: base + perDim * coordinates. */
  uniformBase: number;
  uniformPerDim: number;
  /** Trials (best scores) around which local candidates are drawn, and how many around each. */
  localCentres: number;
  localPerCentre: number;
  /** Rounds of local refinement around the best candidates so far, and how many they keep. */
  refineRounds: number;
  refineKeep: number;
  refinePerPoint: number;
  /**
   * Candidate predictions cost about n^2 each (n modelled trials): the candidate counts
   * above shrink so that candidates * n^2 stays under this (only long histories are affected).
   */
  predictionBudget: number;
  /** Fitted trials from which one L-BFGS start is enough (the likelihood is better determined). */
  fewerRestartsFrom: number;
  /** How scores are turned into the GP's targets (see `targets`). */
  transform: "standardise" | "copula" | "power";
  /** The hyperparameters' priors for a number of coordinates. */
  priors: (dims: number) => GpPriors;
  /** The acquisition: expected improvement, or an upper confidence bound mean + beta * sd. */
  acquisition: "ei" | "ucb" | "ts";
  ucbBeta: number;
  /** EI's incumbent: the best posterior mean at a tried point, or the best (transformed) score. */
  incumbent: "mean" | "observed";
}

/** The settings `gp` runs with. */
export const defaultGpSettings: GpSettings = {
  startup: (dims) => Math.min(8, Math.max(4, dims + 1)),
  maxModelled: 200,
  bestModelled: 120,
  maxFitted: 80,
  restarts: 2,
  maxIterations: 50,
  uniformBase: 600,
  uniformPerDim: 100,
  localCentres: 5,
  localPerCentre: 60,
  refineRounds: 2,
  refineKeep: 8,
  refinePerPoint: 30,
  predictionBudget: 2.5e7,
  fewerRestartsFrom: 64,
  transform: "standardise",
  priors: defaultPriors,
  acquisition: "ei",
  ucbBeta: 1,
  incumbent: "mean",
};

/**
 * Gaussian-process batch Bayesian optimisation:
 * - until `startup` trials have scores: the scrambled Sobol sequence (`sobol`);
 * - then a GP (Matérn-5/2, ARD length scales, Hamming distance for categorical choices,
 *   fitted noise; see gp-model.ts) on the scored trials, their scores standardised;
 * - expected improvement (in logs) over the best posterior mean of a tried point (robust to
 *   noisy scores), maximised over uniform candidates, candidates near the best trials and
 *   local refinements of the best candidates, every candidate snapped to the value it
 *   decodes to (integers, q steps, choice values) and never a tried point;
 * - a wave of q: after each pick the model "believes" its own prediction there (kriging
 *   believer), which lowers the uncertainty around it so the next pick goes elsewhere.
 *   Running trials are believed the same way before the first pick, and so are failed,
 *   timed-out and pruned ones (no score to learn from, but no reason to crowd them either).
 *
 * Numeric choices are ordered (ordinal positions, see encoding.ts); integers and q types
 * are modelled as continuous and rounded. metric_mode min is modelled as max of -score.
 * Cost: the model conditions on at most `maxModelled` trials (the best `bestModelled` and
 * the most recent), and fits its hyperparameters on at most `maxFitted` of them.
 */
export function createGpSampler(options: SamplerOptions, settings: GpSettings = defaultGpSettings): Sampler {
  const { space, seed, metricMode } = options;
  const encoding = encodeSpace(space);
  const sobol = createSobolSampler(options);
  return {
    name: "gp",
    propose(count: number, history: readonly TrialRecord[]): Params[] {
      if (count <= 0) return [];
      const obs = observe(encoding, history, metricMode);
      if (encoding.coords.length === 0 || obs.y.length < settings.startup(encoding.coords.length))
        return sobol.propose(count, history);
      const rng = createRng(seed, "gp", history.length);
      let picked: Params[];
      try {
        picked = proposeWithModel(encoding, obs, count, rng, settings);
      } catch {
        // A covariance that no jitter makes positive definite (degenerate scores): no model
        // this wave, the Sobol sequence instead.
        picked = [];
      }
      if (picked.length >= count) return picked;
      // The candidates ran out (a small discrete space): fill from the Sobol sequence.
      const filler = sobol.propose(count - picked.length, [
        ...history,
        ...picked.map((params, i) => ({
          trial_id: `\u0000${i}`,
          params,
          status: "running" as const,
          primary_score: null,
        })),
      ]);
      return [...picked, ...filler];
    },
  };
}

/** The trials the model conditions on: all, or the best and the most recent (see `GpSettings`). */
export function modelledIndices(obs: Observations, settings: GpSettings): number[] {
  const n = obs.y.length;
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= settings.maxModelled) return all;
  const byScore = [...all].sort((a, b) => (obs.y[b] as number) - (obs.y[a] as number) || a - b);
  const kept = new Set(byScore.slice(0, settings.bestModelled));
  const byRecency = [...all].sort((a, b) => (obs.at[b] as number) - (obs.at[a] as number));
  for (const i of byRecency) {
    if (kept.size >= settings.maxModelled) break;
    kept.add(i);
  }
  return [...kept].sort((a, b) => a - b);
}

function gpData(encoding: Encoding, xs: readonly Float64Array[], ys: ArrayLike<number>): GpData {
  const dims = encoding.coords.length;
  const x = new Float64Array(xs.length * dims);
  xs.forEach((row, i) => {
    x.set(row, i * dims);
  });
  return {
    n: xs.length,
    dims,
    categorical: Uint8Array.from(encoding.coords, (c) => (c.kind === "categorical" ? 1 : 0)),
    x,
    y: Float64Array.from(ys),
  };
}

/** The inverse of the standard normal distribution function, by bisection (p in (0, 1)). */
function normalQuantile(p: number): number {
  let low = -10;
  let high = 10;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (normalCdf(mid) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/**
 * The GP's targets from the oriented scores: standardised, or first made normal by ranks
 * (copula: tied scores share their mean rank), or by a Yeo-Johnson power fitted by likelihood.
 */
function targets(y: readonly number[], transform: GpSettings["transform"]): Float64Array {
  if (transform === "copula") {
    const n = y.length;
    const order = [...y.keys()].sort((a, b) => (y[a] as number) - (y[b] as number));
    const rank = new Float64Array(n);
    for (let i = 0; i < n; ) {
      let j = i;
      while (j + 1 < n && y[order[j + 1] as number] === y[order[i] as number]) j++;
      for (let k = i; k <= j; k++) rank[order[k] as number] = (i + j) / 2;
      i = j + 1;
    }
    return standardise(Array.from(rank, (r) => normalQuantile((r + 0.5) / n)));
  }
  if (transform === "power") {
    const z = standardise(y);
    const yj = (v: number, l: number) =>
      v >= 0
        ? Math.abs(l) < 1e-6
          ? Math.log1p(v)
          : ((v + 1) ** l - 1) / l
        : Math.abs(l - 2) < 1e-6
          ? -Math.log1p(-v)
          : -((1 - v) ** (2 - l) - 1) / (2 - l);
    let bestL = 1;
    let bestLl = Number.NEGATIVE_INFINITY;
    for (let l = -2; l <= 4.0001; l += 0.1) {
      const t = Array.from(z, (v) => yj(v, l));
      const m = t.reduce((s, v) => s + v, 0) / t.length;
      const variance = t.reduce((s, v) => s + (v - m) ** 2, 0) / t.length;
      let ll = -0.5 * t.length * Math.log(Math.max(variance, 1e-300));
      for (const v of z) ll += (l - 1) * Math.sign(v) * Math.log1p(Math.abs(v));
      if (ll > bestLl) {
        bestLl = ll;
        bestL = l;
      }
    }
    return standardise(Array.from(z, (v) => yj(v, bestL)));
  }
  return standardise(y);
}

/** Standardises scores to mean 0 and variance 1 (all equal: all 0). */
function standardise(y: readonly number[]): Float64Array {
  const n = y.length;
  const mean = y.reduce((s, v) => s + v, 0) / n;
  const variance = y.reduce((s, v) => s + (v - mean) * (v - mean), 0) / Math.max(1, n - 1);
  const sd = variance > 0 ? Math.sqrt(variance) : 1;
  return Float64Array.from(y, (v) => (v - mean) / sd);
}

/** A seeded random subset of `size` of the indices 0..n-1 (all when n <= size). */
function subset(n: number, size: number, rng: Rng): number[] {
  const indices = Array.from({ length: n }, (_, i) => i);
  if (n <= size) return indices;
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    [indices[i], indices[j]] = [indices[j] as number, indices[i] as number];
  }
  return indices.slice(0, size).sort((a, b) => a - b);
}

/** Draws a standard normal number (Box-Muller) from the seeded generator. */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Candidate points, kept unique by the params they decode to and away from tried points. */
class Candidates {
  readonly points: Float64Array[] = [];
  private readonly keys: Set<string>;
  constructor(
    private readonly encoding: Encoding,
    tried: ReadonlySet<string>,
  ) {
    this.keys = new Set(tried);
  }
  /** Snaps x and keeps it when its params are new; returns whether it was kept. */
  add(x: Float64Array): boolean {
    this.encoding.snap(x);
    const key = paramsKey(this.encoding.space, this.encoding.decode(x));
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    this.points.push(x);
    return true;
  }
}

/**
 * A point near `centre`: numeric coordinates moved by normal steps of sd `scale` (all of
 * them, or each with chance 2/dims so that high-dimensional moves stay local), categorical
 * ones redrawn with chance 1/dims.
 */
function perturb(encoding: Encoding, centre: Float64Array, scale: number, rng: Rng): Float64Array {
  const dims = centre.length;
  const x = Float64Array.from(centre);
  const all = rng.next() < 0.5;
  let moved = false;
  for (let d = 0; d < dims; d++) {
    const c = encoding.coords[d];
    if (c === undefined) continue;
    if (c.kind === "categorical") {
      if (rng.next() < 1 / dims) {
        x[d] = rng.int(c.levels);
        moved = true;
      }
    } else if (all || rng.next() < 2 / dims) {
      x[d] = Math.min(1, Math.max(0, (x[d] as number) + scale * gaussian(rng)));
      moved = true;
    }
  }
  if (!moved && dims > 0) {
    const d = rng.int(dims);
    const c = encoding.coords[d];
    if (c?.kind === "categorical") x[d] = rng.int(c.levels);
    else x[d] = Math.min(1, Math.max(0, (x[d] as number) + scale * gaussian(rng)));
  }
  return x;
}

const flatten = (points: readonly Float64Array[], dims: number): Float64Array => {
  const out = new Float64Array(points.length * dims);
  points.forEach((p, i) => {
    out.set(p, i * dims);
  });
  return out;
};

/** The indices of the `k` largest values (ties: lower index first). */
function topIndices(values: readonly number[], k: number): number[] {
  return [...values.keys()]
    .sort((a, b) => (values[b] as number) - (values[a] as number) || a - b)
    .slice(0, k);
}

/** One wave from the model: up to `count` new points (fewer only when no candidate is left). */
function proposeWithModel(
  encoding: Encoding,
  obs: Observations,
  count: number,
  rng: Rng,
  settings: GpSettings,
): Params[] {
  const dims = encoding.coords.length;
  const modelled = modelledIndices(obs, settings);
  const xs = modelled.map((i) => obs.x[i] as Float64Array);
  const ys = targets(
    modelled.map((i) => obs.y[i] as number),
    settings.transform,
  );
  const data = gpData(encoding, xs, ys);
  const fitted = subset(data.n, settings.maxFitted, rng);
  const fitData = gpData(
    encoding,
    fitted.map((i) => xs[i] as Float64Array),
    fitted.map((i) => ys[i] as number),
  );
  const hyper = fitGp(fitData, rng, {
    priors: settings.priors(dims),
    restarts: fitData.n >= settings.fewerRestartsFrom ? 0 : settings.restarts,
    maxIterations: settings.maxIterations,
  });

  // How many candidates the prediction budget allows.
  const planned =
    settings.uniformBase +
    settings.uniformPerDim * dims +
    settings.localCentres * settings.localPerCentre +
    settings.refineRounds * settings.refineKeep * settings.refinePerPoint;
  const share = Math.min(1, settings.predictionBudget / (data.n * data.n * planned));
  const scaled = (k: number) => Math.max(1, Math.round(k * share));

  // Candidates: uniform, then around the best trials at several scales.
  const candidates = new Candidates(encoding, obs.tried);
  const uniform = scaled(settings.uniformBase + settings.uniformPerDim * dims);
  for (let i = 0; i < uniform; i++) {
    const x = Float64Array.from(encoding.coords, (c) =>
      c.kind === "categorical" ? rng.int(c.levels) : rng.next(),
    );
    candidates.add(x);
  }
  const bestTrials = [...ys.keys()]
    .sort((a, b) => (ys[b] as number) - (ys[a] as number))
    .slice(0, settings.localCentres);
  const scales = [0.02, 0.05, 0.1, 0.2];
  for (const t of bestTrials)
    for (let i = 0; i < scaled(settings.localPerCentre); i++)
      candidates.add(perturb(encoding, xs[t] as Float64Array, scales[i % scales.length] as number, rng));

  const acquire = (mean: number, variance: number, incumbent: number) =>
    settings.acquisition === "ucb" || settings.acquisition === "ts"
      ? mean + settings.ucbBeta * Math.sqrt(variance)
      : logExpectedImprovement(mean, Math.sqrt(variance), incumbent);

  // The incumbent: the best posterior mean at a tried point.
  const posterior = new GpPosterior(data, hyper);
  let best = Number.NEGATIVE_INFINITY;
  for (const m of settings.incumbent === "mean" ? posterior.trainingMeans() : ys) best = Math.max(best, m);

  // Predict each candidate once; refine around the best by expected improvement.
  const parts: Prediction[] = [];
  const scores: number[] = [];
  const predictFresh = () => {
    const fresh = candidates.points.slice(scores.length);
    if (fresh.length === 0) return;
    const prediction = posterior.predict(flatten(fresh, dims), fresh.length);
    parts.push(prediction);
    for (let p = 0; p < prediction.size; p++)
      scores.push(acquire(prediction.mean[p] as number, prediction.variance[p] as number, best));
  };
  for (let round = 0; round < settings.refineRounds; round++) {
    predictFresh();
    const scale = 0.05 / 2 ** round;
    for (const p of topIndices(scores, settings.refineKeep))
      for (let i = 0; i < scaled(settings.refinePerPoint); i++)
        candidates.add(perturb(encoding, candidates.points[p] as Float64Array, scale, rng));
  }
  predictFresh();

  // The wave: pending trials believed first, then pick by EI and believe each pick.
  const selectable = candidates.points.length;
  if (selectable === 0) return [];
  if (obs.pending.length > 0) parts.push(posterior.predict(flatten(obs.pending, dims), obs.pending.length));
  const pool = new GpPool(posterior, joinPredictions(parts, dims, data.n));
  // A believed value counts as observed: the incumbent rises to it when it is better, so
  // the next pick must improve on the believed point, not just sit beside it.
  for (let p = selectable; p < selectable + obs.pending.length; p++) {
    pool.believe(p);
    best = Math.max(best, pool.mean[p] as number);
  }
  const chosen = new Uint8Array(selectable);
  const proposals: Params[] = [];
  if (settings.acquisition === "ts") {
    // Thompson sampling: joint posterior draws over the most promising candidates, each
    // draw's best untaken candidate is a pick.
    const ranked = [...Array(selectable).keys()]
      .map((p) => ({ p, u: (pool.mean[p] as number) + 2 * Math.sqrt(pool.variance[p] as number) }))
      .sort((a, b) => b.u - a.u || a.p - b.p)
      .slice(0, 300)
      .map((e) => e.p);
    const m = ranked.length;
    const cov = new Float64Array(m * m);
    for (let a = 0; a < m; a++)
      for (let b = 0; b <= a; b++) {
        const c = pool.covariance(ranked[a] as number, ranked[b] as number);
        cov[a * m + b] = c;
        cov[b * m + a] = c;
      }
    const chol = cholesky(cov, m, 1e-8);
    if (chol !== undefined) {
      const l = chol.factor;
      for (let k = 0; k < count && k < m; k++) {
        const z = Float64Array.from({ length: m }, () => gaussian(rng));
        let pick = -1;
        let pickValue = Number.NEGATIVE_INFINITY;
        for (let a = 0; a < m; a++) {
          let f = pool.mean[ranked[a] as number] as number;
          for (let j = 0; j <= a; j++) f += (l[a * m + j] as number) * (z[j] as number);
          if (!chosen[ranked[a] as number] && f > pickValue) {
            pick = ranked[a] as number;
            pickValue = f;
          }
        }
        if (pick < 0) break;
        chosen[pick] = 1;
        proposals.push(encoding.decode(candidates.points[pick] as Float64Array));
      }
      return proposals;
    }
  }
  for (let k = 0; k < count && k < selectable; k++) {
    let pick = -1;
    let pickScore = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < selectable; p++) {
      if (chosen[p]) continue;
      const score = acquire(pool.mean[p] as number, pool.variance[p] as number, best);
      if (pick < 0 || score > pickScore) {
        pick = p;
        pickScore = score;
      }
    }
    if (pick < 0) break;
    chosen[pick] = 1;
    proposals.push(encoding.decode(candidates.points[pick] as Float64Array));
    pool.believe(pick);
    best = Math.max(best, pool.mean[pick] as number);
  }
  return proposals;
}

/** The fitted hyperparameters the sampler would use for a history (for tests and the benchmark). */
export function gpHyperFor(options: SamplerOptions, history: readonly TrialRecord[]): GpHyper | undefined {
  const encoding = encodeSpace(options.space);
  const obs = observe(encoding, history, options.metricMode);
  if (obs.y.length < 2) return undefined;
  const modelled = modelledIndices(obs, defaultGpSettings);
  const rng = createRng(options.seed, "gp", history.length);
  const ys = standardise(modelled.map((i) => obs.y[i] as number));
  const data = gpData(
    encoding,
    modelled.map((i) => obs.x[i] as Float64Array),
    ys,
  );
  return fitGp(data, rng, {
    priors: defaultPriors(encoding.coords.length),
    restarts: defaultGpSettings.restarts,
    maxIterations: defaultGpSettings.maxIterations,
  });
}
