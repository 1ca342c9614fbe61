// Which configuration a sweep recommends. Scores are noisy (a 25- to 120-item evalset moves
// in steps of 1-4 points, another trainer seed moves more), so the single best observed
// score is partly luck: the configuration that drew the luckiest seed. The rules:
//
// - "best_observed": the trial with the best primary_score (`compareTrials`), as before.
// - "model": among the 5 best observed configurations, the one whose true score a Gaussian
//   process on every scored run estimates best: the posterior mean at the configuration
//   (Matérn-5/2, the noise the GP fits, the sampler's model and its power transform of the
//   scores, samplers/gp.ts; mapped back to score units). A lucky score among worse
//   neighbours is pulled down towards them; a good score among good neighbours keeps most
//   of its value. The shortlist of the best observed keeps the model from recommending a
//   configuration that only its neighbours make look good. Too few scored runs for the
//   model (the GP sampler's warm-up count): best_observed, with a note.
// - "repeats_mean": chosen, whatever the configured rule, once some configuration was run
//   again (re-evaluation: records with `repeat_of`): among the configurations with the most
//   runs, the highest mean score. The configurations to re-run (`reevaluationTargets`) are
//   the rule's best; none when the model finds the scores free of noise (a re-run would
//   repeat them).
//
// Pure and deterministic: the same space, records and seed give the same recommendation,
// so `verify` can recompute it from trials.jsonl.

import { compareTrialIds, fidelityLevel } from "../best-trial.js";
import type { SearchSpace } from "../config/space.js";
import { append, maxOf } from "../limits.js";
import { createRng, type Rng } from "../rng.js";
import type { Params, TrialRecord } from "../types.js";
import { encodeSpace } from "./samplers/encoding.js";
import { defaultGpSettings, gpData, targets } from "./samplers/gp.js";
import { fitGp, GpPosterior } from "./samplers/gp-model.js";

/** The rule a sweep config asks for (`recommend:`). */
export type RecommendRule = "model" | "best_observed";

/** What a recommendation knows of one configuration (its original trial and any repeats). */
export interface ConfigEstimate {
  /** The configuration's original trial (a repeat names it in `repeat_of`). */
  trial_id: string;
  /** Every completed, scored run of this configuration: the original first, then repeats by id. */
  trial_ids: string[];
  params: Params;
  /** The original trial's own primary_score (or, if the original has none, the first run's). */
  observed: number;
  /** Mean primary_score over its runs. */
  mean: number;
  /** Sample standard deviation over its runs (0 for one run). */
  spread: number;
  /** Number of runs. */
  count: number;
  /** The rule's estimate of the configuration's true primary_score, in score units. */
  estimate: number;
}

/** The recommended configuration and how it was chosen. */
export interface Recommendation {
  /** The rule that actually chose: repeats_mean when re-evaluation ran, best_observed on a fallback. */
  rule: "model" | "best_observed" | "repeats_mean";
  /** The recommended configuration; undefined when nothing is scored. */
  best: ConfigEstimate | undefined;
  /** Every scored configuration, best first. */
  configs: ConfigEstimate[];
  /** Why the rule differs from the one asked for, and other facts a reader needs. */
  notes: string[];
}

/** Options of `recommend`. */
export interface RecommendOptions {
  rule: RecommendRule;
  /** The sweep's seed: the model's hyperparameter fit draws its restarts from it. */
  seed: number;
  /** Whether a larger score is better (the default) or a smaller one. */
  metricMode?: "max" | "min";
  /**
   * The range a score can take (primary_score: [0, 1]): the model's estimates are kept in it,
   * so none reads as better than a perfect score. Default: unbounded.
   */
  range?: readonly [number, number];
}

/** Settings of the "model" rule; the defaults are what the sampler benchmark chose. */
export interface RecommendSettings {
  /** Scored runs the model needs; with fewer, best_observed. */
  minRuns: (dims: number) => number;
  /** How scores become the GP's targets (samplers/gp.ts `targets`). */
  transform: "standardise" | "power";
  /** The most runs the model conditions on: the best by score (the others are predicted). */
  maxModelled: number;
  /** The most runs the hyperparameters are fitted on (the best by score). */
  maxFitted: number;
  /**
   * repeats_mean's estimate of a re-evaluated configuration: "mean", the mean of its runs;
   * "model", the GP's posterior mean with every run as data (its repeats and its neighbours).
   */
  repeatsEstimate: "mean" | "model";
  /** The model may recommend only one of this many best observed configurations (0: any). */
  candidates: number;
  /** The share of runs (the best by score) the hyperparameters are fitted on. */
  fitShare: number;
  /**
   * Below this share of the score variance, the model's fitted noise counts as none: no
   * configuration is worth re-running (`reevaluationTargets` returns none).
   */
  noiseFreeShare: number;
  /**
   * The targets of the fit that judges the noise (`noiseFreeShare`). Measured at 40 trials
   * of auto: on standardised scores noise-free Styblinski-Tang (4-d) stays below 1.9e-3 (20
   * seeds), but HPOBench's car, whose real seed noise is small beside a long tail of
   * diverged configurations, falls below 5e-3 too (re-evaluation ran in 1 of 30 seeds
   * instead of 28, and its ratio to Optuna went from 0.46 to 0.84); on the power transform
   * car stays near 1e-3 and above, so "power".
   */
  noiseTransform: "standardise" | "power";
}

/** The settings `recommend` runs with. */
export const defaultRecommendSettings: RecommendSettings = {
  minRuns: defaultGpSettings.startup,
  // Measured on the sampler benchmark's HPOBench sets (seeds 1000..1099, geometric mean of
  // the true-regret ratios to Optuna TPE): standardised 0.93, power 0.89, power with the
  // choice among the 5 best observed 0.85, best observed 0.96.
  transform: "power",
  maxModelled: 300,
  maxFitted: 80,
  repeatsEstimate: "mean",
  candidates: 5,
  fitShare: 1,
  // Measured at 40 trials of auto (5 waves of 8) on the power-transformed scores: noise-free
  // Branin at most 1e-5, Hartmann6 2.8e-4, a fine-tuning-like surface 4e-6 (20 seeds each;
  // none over in 150 bench runs); HPOBench's car at least 5e-4, Hartmann6 with noise of 3%
  // of its span 3.4e-3. Noise-free Styblinski-Tang (4-d) is a known miss: over 1e-3 in 7 of
  // 30 seeds (up to 4.7e-3), a misfit the model cannot tell from noise without a repeat.
  noiseFreeShare: 1e-3,
  noiseTransform: "power",
};

/** A completed, scored run at the level that counts. */
interface Run {
  record: TrialRecord;
  score: number;
}

/** A configuration's runs, before any rule. */
interface Group {
  id: string;
  original: Run | undefined;
  runs: Run[];
}

const isScoredRun = (r: TrialRecord): boolean =>
  r.status === "completed" && typeof r.primary_score === "number" && Number.isFinite(r.primary_score);

const repeatOf = (r: TrialRecord): string | undefined =>
  typeof r.repeat_of === "string" && r.repeat_of !== "" ? r.repeat_of : undefined;

/**
 * The scored runs that take part, grouped by configuration: only the highest fidelity
 * level (`fidelityLevel`, the level the best-trial rule ranks first), a repeat with its
 * original's id.
 */
function groupRuns(records: readonly TrialRecord[]): Group[] {
  const scored = records.filter(isScoredRun);
  let top = Number.NEGATIVE_INFINITY;
  for (const r of scored) top = Math.max(top, fidelityLevel(r));
  const groups = new Map<string, Group>();
  for (const record of scored) {
    if (fidelityLevel(record) !== top) continue;
    const id = repeatOf(record) ?? record.trial_id;
    let group = groups.get(id);
    if (group === undefined) {
      group = { id, original: undefined, runs: [] };
      groups.set(id, group);
    }
    const run = { record, score: record.primary_score as number };
    if (repeatOf(record) === undefined) group.original = run;
    group.runs.push(run);
  }
  for (const group of groups.values())
    group.runs.sort((a, b) => {
      if (a === group.original) return -1;
      if (b === group.original) return 1;
      return compareTrialIds(a.record.trial_id, b.record.trial_id);
    });
  return [...groups.values()];
}

/** The plain statistics of a group; the estimate is filled in by a rule. */
function statistics(group: Group): ConfigEstimate {
  const scores = group.runs.map((r) => r.score);
  const count = scores.length;
  const mean = scores.reduce((s, x) => s + x, 0) / count;
  const variance = count < 2 ? 0 : scores.reduce((s, x) => s + (x - mean) ** 2, 0) / (count - 1);
  const first = (group.original ?? group.runs[0]) as Run;
  return {
    trial_id: group.id,
    trial_ids: group.runs.map((r) => r.record.trial_id),
    params: first.record.params,
    observed: first.score,
    mean,
    spread: Math.sqrt(variance),
    count,
    estimate: first.score,
  };
}

/**
 * The order of configurations, best first: the estimate, then the original's observed score
 * and trial id as `compareTrials` orders them. `sign` is -1 when smaller is better.
 */
function byEstimate(sign: number) {
  return (a: ConfigEstimate, b: ConfigEstimate): number => {
    if (a.estimate !== b.estimate) return sign * (b.estimate - a.estimate);
    if (a.observed !== b.observed) return sign * (b.observed - a.observed);
    return compareTrialIds(a.trial_id, b.trial_id);
  };
}

/**
 * The note on a tie at the top: when the first two configurations have the same value of
 * what the rule compares, which one was taken and why (`byEstimate`'s order).
 */
function tieNote(
  first: ConfigEstimate | undefined,
  second: ConfigEstimate | undefined,
  what: string,
): string[] {
  if (!first || !second || first.estimate !== second.estimate) return [];
  const why =
    first.observed !== second.observed
      ? `its observed score, ${first.observed}, is the better one (${second.observed})`
      : "neither score tells them apart, and its trial id comes first";
  return [
    `tie: ${first.trial_id} and ${second.trial_id} have the same ${what}, ${first.estimate}; ${first.trial_id} was taken: ${why}`,
  ];
}

/** Oriented scores (larger is better) to the scale `z` of the model, and back, monotone. */
function interpolator(from: readonly number[], to: readonly number[]): (v: number) => number {
  const pairs = from.map((f, i) => [f, to[i] as number] as const).sort((a, b) => a[0] - b[0]);
  return (v) => {
    const first = pairs[0] as readonly [number, number];
    const last = pairs[pairs.length - 1] as readonly [number, number];
    if (v <= first[0]) return first[1] + (v - first[0]) * slope(pairs, 0);
    if (v >= last[0]) return last[1] + (v - last[0]) * slope(pairs, pairs.length - 2);
    let lo = 0;
    let hi = pairs.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((pairs[mid] as readonly [number, number])[0] <= v) lo = mid;
      else hi = mid;
    }
    const [x0, y0] = pairs[lo] as readonly [number, number];
    const [x1, y1] = pairs[hi] as readonly [number, number];
    return x1 === x0 ? y0 : y0 + ((v - x0) / (x1 - x0)) * (y1 - y0);
  };
}

/** The slope of a sorted pair list between points i and i+1 (1 where undefined). */
function slope(pairs: ReadonlyArray<readonly [number, number]>, i: number): number {
  const a = pairs[i];
  const b = pairs[i + 1];
  if (a === undefined || b === undefined || b[0] === a[0]) return 1;
  return (b[1] - a[1]) / (b[0] - a[0]);
}

/** The model's estimates, in the order of the configurations, and its fitted noise. */
interface ModelFit {
  estimates: number[];
  /** The fitted noise variance's share of the targets' variance (noise + signal). */
  noiseShare: number;
}

/** The indices of the `size` largest values (ties: lower index first), in index order. */
function bestIndices(values: readonly number[], size: number): number[] {
  return [...values.keys()]
    .sort((a, b) => (values[b] as number) - (values[a] as number) || a - b)
    .slice(0, size)
    .sort((a, b) => a - b);
}

/**
 * The GP's estimate of each configuration's true score (score units), or a reason it has
 * none: every run is a point (a repeated configuration is several points at one place), the
 * targets are the sampler's (`targets`), and a configuration's estimate is the posterior
 * mean of the latent function at its params, mapped back to the score scale.
 */
function modelEstimates(
  space: SearchSpace,
  groups: readonly Group[],
  configs: readonly ConfigEstimate[],
  sign: number,
  rng: Rng,
  settings: RecommendSettings,
): ModelFit | string {
  const encoding = encodeSpace(space);
  const dims = encoding.coords.length;
  if (dims === 0) return "the search space has no parameter to model";
  const xs: Float64Array[] = [];
  const ys: number[] = [];
  const points: Float64Array[] = [];
  for (const group of groups) {
    const first = encoding.encode((group.original ?? group.runs[0])?.record.params ?? {});
    if (first === undefined) return `trial ${group.id}'s params are outside the search space`;
    points.push(first);
    for (const run of group.runs) {
      xs.push(first);
      ys.push(sign * run.score);
    }
  }
  const needed = settings.minRuns(dims);
  if (ys.length < needed) return `${ys.length} scored runs, fewer than the ${needed} the model needs`;

  const modelled = bestIndices(ys, settings.maxModelled);
  const modelledY = modelled.map((i) => ys[i] as number);
  const z = targets(modelledY, settings.transform);
  const data = gpData(
    encoding,
    modelled.map((i) => xs[i] as Float64Array),
    z,
  );
  const fitted = bestIndices(
    Array.from(z),
    Math.min(settings.maxFitted, Math.max(needed, Math.ceil(settings.fitShare * z.length))),
  );
  const fitData = gpData(
    encoding,
    fitted.map((i) => xs[modelled[i] as number] as Float64Array),
    fitted.map((i) => z[i] as number),
  );
  let posterior: GpPosterior;
  try {
    const hyper = fitGp(fitData, rng, {
      priors: defaultGpSettings.priors(dims),
      restarts: fitData.n >= defaultGpSettings.fewerRestartsFrom ? 0 : defaultGpSettings.restarts,
      maxIterations: defaultGpSettings.maxIterations,
    });
    posterior = new GpPosterior(data, hyper);
  } catch {
    return "the GP's covariance is not positive definite";
  }
  const flat = new Float64Array(points.length * dims);
  points.forEach((p, i) => {
    flat.set(p, i * dims);
  });
  const means = posterior.predict(flat, points.length).mean;
  const back = interpolator(Array.from(z), modelledY);
  const { noise, signal } = posterior.hyper;
  // groups and configs are in the same order.
  return {
    estimates: configs.map((_, i) => sign * back(means[i] as number)),
    noiseShare: noise / (noise + signal),
  };
}

/**
 * The recommended configuration of a sweep's records under `options.rule` (see the file
 * comment), with every scored configuration's statistics and estimate. Only completed
 * records with a finite primary_score count, and only at the highest fidelity level.
 */
export function recommend(
  space: SearchSpace,
  records: readonly TrialRecord[],
  options: RecommendOptions,
  settings: RecommendSettings = defaultRecommendSettings,
): Recommendation {
  return rank(space, records, options, settings).recommendation;
}

/** `recommend`, with the model's fitted noise share when the model chose. */
function rank(
  space: SearchSpace,
  records: readonly TrialRecord[],
  options: RecommendOptions,
  settings: RecommendSettings,
): { recommendation: Recommendation; noiseShare?: number } {
  const sign = options.metricMode === "min" ? -1 : 1;
  const [low, high] = options.range ?? [-Infinity, Infinity];
  const bounded = (estimate: number) => Math.min(high, Math.max(low, estimate));
  const groups = groupRuns(records);
  const configs = groups.map(statistics);
  const notes: string[] = [];
  let noiseShare: number | undefined;
  const finish = (rule: Recommendation["rule"], ordered: ConfigEstimate[]) => ({
    recommendation: { rule, best: ordered[0], configs: ordered, notes },
    ...(noiseShare === undefined ? {} : { noiseShare }),
  });
  if (configs.length === 0) return finish(options.rule, []);

  const rng = createRng(options.seed, "recommend", records.length);
  const most = maxOf(configs.map((c) => c.count));
  if (most >= 2) {
    const estimates =
      settings.repeatsEstimate === "model" ? modelEstimates(space, groups, configs, sign, rng, settings) : "";
    configs.forEach((c, i) => {
      c.estimate = typeof estimates === "string" ? c.mean : bounded(estimates.estimates[i] as number);
    });
    const repeated = configs.filter((c) => c.count === most).length;
    notes.push(
      `repeats_mean: ${repeated} configuration${repeated === 1 ? "" : "s"} with ${most} runs; the best mean among them`,
    );
    const order = byEstimate(sign);
    const ordered = configs.sort((a, b) =>
      (a.count === most) !== (b.count === most) ? (a.count === most ? -1 : 1) : order(a, b),
    );
    if (ordered[1]?.count === most)
      append(
        notes,
        tieNote(
          ordered[0],
          ordered[1],
          `${typeof estimates === "string" ? "mean" : "estimate"} of ${most} runs`,
        ),
      );
    return finish("repeats_mean", ordered);
  }

  if (options.rule === "model") {
    const fit = modelEstimates(space, groups, configs, sign, rng, settings);
    if (typeof fit !== "string") {
      configs.forEach((c, i) => {
        c.estimate = bounded(fit.estimates[i] as number);
      });
      noiseShare = fit.noiseShare;
      notes.push(`model: fitted noise ${(100 * fit.noiseShare).toFixed(1)}% of the modelled score variance`);
      if (settings.candidates <= 0) return finish("model", configs.sort(byEstimate(sign)));
      const observedOrder = byEstimate(sign);
      const eligible = new Set(
        [...configs]
          .sort((a, b) => observedOrder({ ...a, estimate: a.observed }, { ...b, estimate: b.observed }))
          .slice(0, settings.candidates),
      );
      const order = byEstimate(sign);
      const ordered = configs.sort((a, b) =>
        eligible.has(a) !== eligible.has(b) ? (eligible.has(a) ? -1 : 1) : order(a, b),
      );
      if (ordered[1] && eligible.has(ordered[1])) append(notes, tieNote(ordered[0], ordered[1], "estimate"));
      return finish("model", ordered);
    }
    notes.push(`model: ${fit}; best observed used`);
  }
  const ordered = configs.sort(byEstimate(sign));
  append(notes, tieNote(ordered[0], ordered[1], "primary_score"));
  return finish("best_observed", ordered);
}

/** Options of `reevaluationTargets`. */
export interface ReevaluationOptions extends RecommendOptions {
  /** How many configurations to run again. */
  topK: number;
}

/**
 * The configurations to run again before promotion: the `topK` best by the rule's estimate
 * among the configurations not re-run yet (repeats are left out of the estimate, so a
 * config's place does not depend on which others were re-run). None, under either rule,
 * when the model's fitted noise is below `noiseFreeShare` of the score variance: a re-run
 * would return the same score.
 */
export function reevaluationTargets(
  space: SearchSpace,
  records: readonly TrialRecord[],
  options: ReevaluationOptions,
  settings: RecommendSettings = defaultRecommendSettings,
): ConfigEstimate[] {
  const rerun = new Set(records.map(repeatOf).filter((id) => id !== undefined));
  const originals = records.filter((r) => repeatOf(r) === undefined);
  const ranked = rank(space, originals, options, settings);
  // Whatever the rule, a re-run of scores the model finds free of noise would repeat them.
  // Under the model rule on the noise test's transform, the ranking's own fit is that test.
  const noiseShare =
    options.rule === "model" && settings.transform === settings.noiseTransform
      ? ranked.noiseShare
      : rank(
          space,
          originals,
          { ...options, rule: "model" },
          { ...settings, transform: settings.noiseTransform },
        ).noiseShare;
  if (noiseShare !== undefined && noiseShare < settings.noiseFreeShare) return [];
  return ranked.recommendation.configs
    .filter((c) => !rerun.has(c.trial_id))
    .slice(0, Math.max(0, options.topK));
}
