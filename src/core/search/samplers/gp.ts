// Batch Bayesian optimisation with a Gaussian process ("gp"): the sampler `auto` stands for.

import { paramsKey } from "../../config/space.js";
import { createRng, type Rng } from "../../rng.js";
import type { Params, TrialRecord } from "../../types.js";
import { logExpectedImprovement, selectionGainScore } from "./acquisition.js";
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
import { createModelBasedSampler } from "./model-based.js";
import type { Sampler, SamplerOptions } from "./sampler.js";

/** Settings of the GP sampler; the defaults are what the sampler benchmark ran. */
export interface GpSettings {
  /** Scored trials needed before the model is used; before that, scrambled Sobol points. */
  startup: (dims: number) => number;
  /** The most scored trials the model conditions on (its cost grows like their cube). */
  maxModelled: number;
  /** Of those, how many are the best trials; the rest are the most recent ones. */
  bestModelled: number;
  /** The most trials the hyperparameters are fitted on (a seeded random subset beyond). */
  maxFitted: number;
  /**
   * The most unscored trials (running, failed) believed before a wave's picks: the most
   * recent ones. Each belief costs a pass over every candidate and every earlier belief,
   * and a long history can hold hundreds of old failures.
   */
  maxBelieved: number;
  /** L-BFGS starts besides the priors' centre. */
  restarts: number;
  /** Fitted trials from which no extra start is made (the likelihood is better determined). */
  fewerRestartsFrom: number;
  /** L-BFGS iterations per start. */
  maxIterations: number;
  /** Uniform candidates: base + perDim * coordinates. */
  uniformBase: number;
  uniformPerDim: number;
  /** Trials (best scores) around which local candidates are drawn, and how many around each. */
  localCentres: number;
  localPerCentre: number;
  /** Rounds of local refinement around the best candidates so far, how many, how many each. */
  refineRounds: number;
  refineKeep: number;
  refinePerPoint: number;
  /**
   * Candidate predictions cost about n^2 each (n modelled trials): the candidate counts
   * above shrink so that candidates * n^2 stays under this (only long histories are affected).
   */
  predictionBudget: number;
  /**
   * What a candidate is worth: "selection", the expected gain of the recommended trial (the
   * best observed score) when the candidate is observed with the fitted noise; or "ei",
   * expected improvement over the best posterior mean at a tried point (see acquisition.ts).
   */
  acquisition: "selection" | "ei";
  /**
   * Around which trials local candidates are drawn: "observed", the best observed scores;
   * "mean", the best posterior means (with noisy scores, the luckiest draws are not the best
   * places to search around).
   */
  centres: "observed" | "mean";
  /** How scores become the GP's targets (see `targets`). */
  transform: "standardise" | "power";
  /**
   * Replication under noise: when the fitted noise is at least `replicateNoise` of the
   * modelled variance, a wave's first proposal runs the incumbent (the tried configuration
   * with the best posterior mean) again, while it has fewer than `replicateRuns` runs, its
   * pending ones included. 0 runs: never.
   */
  replicateRuns: number;
  replicateNoise: number;
  /** The hyperparameters' priors, for a number of coordinates. */
  priors: (dims: number) => GpPriors;
}

/** The settings `gp` runs with. */
export const defaultGpSettings: GpSettings = {
  startup: (dims) => Math.min(8, Math.max(4, dims + 1)),
  maxModelled: 200,
  bestModelled: 120,
  maxFitted: 80,
  maxBelieved: 64,
  restarts: 2,
  fewerRestartsFrom: 64,
  maxIterations: 50,
  uniformBase: 600,
  uniformPerDim: 100,
  localCentres: 5,
  localPerCentre: 60,
  refineRounds: 2,
  refineKeep: 8,
  refinePerPoint: 30,
  predictionBudget: 2.5e7,
  transform: "power",
  acquisition: "selection",
  centres: "observed",
  replicateRuns: 0,
  replicateNoise: 0.05,
  priors: defaultPriors,
};

/**
 * Gaussian-process batch Bayesian optimisation:
 * - until `startup` trials have scores: the scrambled Sobol sequence (`sobol`), so the first
 *   wave covers the space evenly;
 * - then a GP (Matérn-5/2, ARD length scales, a Hamming distance for categorical choices,
 *   a fitted noise; gp-model.ts) on the scored trials, their scores made near-normal by a
 *   Yeo-Johnson power (`targets`: a long tail of failed-looking scores would otherwise set
 *   the scale);
 * - the selection gain (acquisition.ts): how much observing a candidate, with the fitted
 *   noise, is expected to improve the true value of the trial a sweep recommends (the best
 *   observed score). A trial changes the recommendation only by beating that score, and a
 *   mediocre one that wins by luck makes it worse, so with noisy scores this favours
 *   candidates that are likely good over ones that are merely uncertain; without noise it
 *   is expected improvement. Maximised over uniform candidates, candidates near the best
 *   trials and local refinements of the best candidates, every candidate snapped to the
 *   value it decodes to (integers, q steps, choice values) and never a tried point;
 * - a wave of q: after each pick the model believes its own prediction there (kriging
 *   believer: the variance around the pick drops, and the incumbent rises to the believed
 *   value), so the next pick goes elsewhere. Running trials are believed the same way before
 *   the first pick, and so are failed, timed-out and pruned ones (no score to learn from,
 *   no reason to crowd them either).
 *
 * Numeric choices are ordered (ordinal positions, see encoding.ts); integers and q types
 * are modelled as continuous and rounded. metric_mode min is modelled as max of -score.
 * Cost: the model conditions on at most `maxModelled` trials (the best `bestModelled` and
 * the most recent), fits its hyperparameters on at most `maxFitted` of them, and scores
 * fewer candidates when many trials are modelled (`predictionBudget`).
 */
export function createGpSampler(options: SamplerOptions, settings: GpSettings = defaultGpSettings): Sampler {
  return createModelBasedSampler(options, {
    name: "gp",
    startup: settings.startup,
    propose(count, obs, encoding, rng) {
      try {
        return proposeWithModel(encoding, obs, count, rng, settings);
      } catch {
        // A covariance that no jitter makes positive definite: no model this wave, the
        // Sobol sequence instead.
        return [];
      }
    },
  });
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

/** The GP's data: points (the encoding's coordinates) and targets, in the model's layout. */
export function gpData(encoding: Encoding, xs: readonly Float64Array[], ys: ArrayLike<number>): GpData {
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

/** Standardises values to mean 0 and variance 1 (all equal: all 0). */
function standardise(y: ArrayLike<number>): Float64Array {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] as number;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += ((y[i] as number) - mean) ** 2;
  variance /= Math.max(1, n - 1);
  const sd = variance > 0 ? Math.sqrt(variance) : 1;
  return Float64Array.from(y, (v) => (v - mean) / sd);
}

/** The Yeo-Johnson transform of v with power lambda (defined for every real v). */
function yeoJohnson(v: number, lambda: number): number {
  if (v >= 0) return Math.abs(lambda) < 1e-9 ? Math.log1p(v) : ((v + 1) ** lambda - 1) / lambda;
  return Math.abs(lambda - 2) < 1e-9 ? -Math.log1p(-v) : -((1 - v) ** (2 - lambda) - 1) / (2 - lambda);
}

/**
 * The GP's targets from the oriented scores (larger is better): standardised; with
 * "power", then Yeo-Johnson transformed with the power (a grid over [-2, 4]) that makes
 * them most normal by likelihood, and standardised again. Scores of a sweep are often
 * skewed (a few diverged trials far below the rest); the power shrinks that tail so the
 * model spends its flexibility where the good trials are.
 */
export function targets(y: readonly number[], transform: GpSettings["transform"]): Float64Array {
  const z = standardise(y);
  if (transform === "standardise") return z;
  const n = z.length;
  let bestLambda = 1;
  let bestLikelihood = Number.NEGATIVE_INFINITY;
  const t = new Float64Array(n);
  for (let step = 0; step <= 60; step++) {
    const lambda = -2 + step * 0.1;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      t[i] = yeoJohnson(z[i] as number, lambda);
      mean += t[i] as number;
    }
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += ((t[i] as number) - mean) ** 2;
    variance /= n;
    // Normal log-likelihood of the transformed values plus the log-Jacobian of the transform.
    let likelihood = -0.5 * n * Math.log(Math.max(variance, 1e-300));
    for (let i = 0; i < n; i++) {
      const v = z[i] as number;
      likelihood += (lambda - 1) * Math.sign(v) * Math.log1p(Math.abs(v));
    }
    if (likelihood > bestLikelihood) {
      bestLikelihood = likelihood;
      bestLambda = lambda;
    }
  }
  return standardise(Array.from(z, (v) => yeoJohnson(v, bestLambda)));
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

/** A standard normal number (Box-Muller) from the seeded generator. */
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
  /** Snaps x and keeps it when its params are new. */
  add(x: Float64Array): void {
    this.encoding.snap(x);
    const key = paramsKey(this.encoding.space, this.encoding.decode(x));
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.points.push(x);
  }
}

/**
 * A point near `centre`: numeric coordinates moved by normal steps of sd `scale` (all of
 * them, or each with chance 2/dims so that high-dimensional moves stay local), categorical
 * ones redrawn with chance 1/dims; at least one coordinate moves.
 */
function perturb(encoding: Encoding, centre: Float64Array, scale: number, rng: Rng): Float64Array {
  const dims = centre.length;
  const x = Float64Array.from(centre);
  const move = (d: number) => {
    const c = encoding.coords[d];
    if (c?.kind === "categorical") x[d] = rng.int(c.levels);
    else x[d] = Math.min(1, Math.max(0, (x[d] as number) + scale * gaussian(rng)));
  };
  const all = rng.next() < 0.5;
  let moved = false;
  for (let d = 0; d < dims; d++) {
    const categorical = encoding.coords[d]?.kind === "categorical";
    if (categorical ? rng.next() < 1 / dims : all || rng.next() < 2 / dims) {
      move(d);
      moved = true;
    }
  }
  if (!moved && dims > 0) move(rng.int(dims));
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

/** The fitted model for the observations: data, hyperparameters and targets. */
function fitModel(
  encoding: Encoding,
  obs: Observations,
  rng: Rng,
  settings: GpSettings,
): { data: GpData; hyper: GpHyper } {
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
    priors: settings.priors(encoding.coords.length),
    restarts: fitData.n >= settings.fewerRestartsFrom ? 0 : settings.restarts,
    maxIterations: settings.maxIterations,
  });
  return { data, hyper };
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
  const { data, hyper } = fitModel(encoding, obs, rng, settings);
  const posterior = new GpPosterior(data, hyper);
  // The incumbent: the best posterior mean at a tried point.
  let best = Number.NEGATIVE_INFINITY;
  const trainingMeans = posterior.trainingMeans();
  for (const m of trainingMeans) best = Math.max(best, m);
  // The recommended trial today: the best observed target, and its posterior mean.
  let observedBest = Number.NEGATIVE_INFINITY;
  let winnerMean = 0;
  for (let i = 0; i < data.n; i++)
    if ((data.y[i] as number) > observedBest) {
      observedBest = data.y[i] as number;
      winnerMean = trainingMeans[i] as number;
    }
  const acquire = (mean: number, sd: number) =>
    settings.acquisition === "selection"
      ? selectionGainScore(mean, sd, hyper.noise, observedBest, winnerMean)
      : logExpectedImprovement(mean, sd, best);

  // Candidates: uniform, then around the best trials at several scales, as many as the
  // prediction budget allows.
  const planned =
    settings.uniformBase +
    settings.uniformPerDim * dims +
    settings.localCentres * settings.localPerCentre +
    settings.refineRounds * settings.refineKeep * settings.refinePerPoint;
  const share = Math.min(1, settings.predictionBudget / (data.n * data.n * planned));
  const scaled = (k: number) => Math.max(1, Math.round(k * share));
  const candidates = new Candidates(encoding, obs.tried);
  for (let i = scaled(settings.uniformBase + settings.uniformPerDim * dims); i > 0; i--)
    candidates.add(
      Float64Array.from(encoding.coords, (c) => (c.kind === "categorical" ? rng.int(c.levels) : rng.next())),
    );
  const scales = [0.02, 0.05, 0.1, 0.2];
  const centreValues = settings.centres === "mean" ? Array.from(trainingMeans) : Array.from(data.y);
  for (const t of topIndices(centreValues, settings.localCentres)) {
    const centre = data.x.slice(t * dims, (t + 1) * dims);
    for (let i = 0; i < scaled(settings.localPerCentre); i++)
      candidates.add(perturb(encoding, centre, scales[i % scales.length] as number, rng));
  }

  // Predict each candidate once; refine around the best by the acquisition.
  const parts: Prediction[] = [];
  const scores: number[] = [];
  const predictFresh = () => {
    const fresh = candidates.points.slice(scores.length);
    if (fresh.length === 0) return;
    const prediction = posterior.predict(flatten(fresh, dims), fresh.length);
    parts.push(prediction);
    for (let p = 0; p < prediction.size; p++)
      scores.push(acquire(prediction.mean[p] as number, Math.sqrt(prediction.variance[p] as number)));
  };
  for (let round = 0; round < settings.refineRounds; round++) {
    predictFresh();
    const scale = 0.05 / 2 ** round;
    for (const p of topIndices(scores, settings.refineKeep))
      for (let i = 0; i < scaled(settings.refinePerPoint); i++)
        candidates.add(perturb(encoding, candidates.points[p] as Float64Array, scale, rng));
  }
  predictFresh();
  const selectable = candidates.points.length;
  if (selectable === 0) return [];

  // The wave: pending trials believed first, then pick by the acquisition and believe each
  // pick. A believed value counts as observed: the incumbent (and the best observed score)
  // rises to it when it is better, so the next pick must improve on the believed point, not
  // just sit beside it.
  const pending = obs.pending.slice(Math.max(0, obs.pending.length - settings.maxBelieved));
  if (pending.length > 0) parts.push(posterior.predict(flatten(pending, dims), pending.length));
  const pool = new GpPool(posterior, joinPredictions(parts, dims, data.n));
  const believe = (p: number) => {
    pool.believe(p);
    const m = pool.mean[p] as number;
    best = Math.max(best, m);
    if (m > observedBest) {
      observedBest = m;
      winnerMean = m;
    }
  };
  for (let p = selectable; p < selectable + pending.length; p++) believe(p);
  const chosen = new Uint8Array(selectable);
  const proposals: Params[] = [];
  const again = replicate(data, obs, trainingMeans, hyper, settings);
  if (again && count > 0) proposals.push(encoding.decode(again));
  for (let k = proposals.length; k < count && k < selectable; k++) {
    let pick = -1;
    let pickScore = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < selectable; p++) {
      if (chosen[p]) continue;
      const score = acquire(pool.mean[p] as number, Math.sqrt(pool.variance[p] as number));
      if (pick < 0 || score > pickScore) {
        pick = p;
        pickScore = score;
      }
    }
    chosen[pick] = 1;
    proposals.push(encoding.decode(candidates.points[pick] as Float64Array));
    believe(pick);
  }
  return proposals;
}

/**
 * The incumbent to run again (see `GpSettings.replicateRuns`): the tried point with the best
 * posterior mean, when the fitted noise is real and it has fewer runs than allowed.
 */
function replicate(
  data: GpData,
  obs: Observations,
  trainingMeans: Float64Array,
  hyper: GpHyper,
  settings: GpSettings,
): Float64Array | undefined {
  if (settings.replicateRuns <= 0 || hyper.noise < settings.replicateNoise * (hyper.noise + hyper.signal))
    return undefined;
  const { dims } = data;
  const top = topIndices(Array.from(trainingMeans), 1)[0];
  if (top === undefined) return undefined;
  const x = data.x.slice(top * dims, (top + 1) * dims);
  const same = (y: Float64Array, at = 0) => x.every((v, d) => v === y[at + d]);
  let runs = obs.pending.filter((p) => same(p)).length;
  for (let i = 0; i < data.n; i++) if (same(data.x, i * dims)) runs++;
  return runs < settings.replicateRuns ? x : undefined;
}

/** The hyperparameters the sampler fits for a history (for tests), or undefined before startup. */
export function gpHyperFor(
  options: SamplerOptions,
  history: readonly TrialRecord[],
  settings: GpSettings = defaultGpSettings,
): GpHyper | undefined {
  const encoding = encodeSpace(options.space);
  const obs = observe(encoding, history, options.metricMode);
  if (obs.y.length < settings.startup(encoding.coords.length)) return undefined;
  return fitModel(encoding, obs, createRng(options.seed, "gp", history.length), settings).hyper;
}
