// Parameter importance of a sweep, for its report: fANOVA on a random forest (Hutter, Hoos &
// Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter Importance", ICML 2014,
// https://proceedings.mlr.press/v32/hutter14.html; what Optuna's default
// FanovaImportanceEvaluator computes).
//
// A random forest (./random-forest.ts) learns the score from the parameters, each in the
// sampler's unit-cube coordinates (../samplers/encoding.ts). Each tree's prediction is a
// step function, constant on the box of each leaf, so its functional ANOVA is exact: under
// the uniform measure on the space (numeric coordinates uniform on [0, 1], so log-uniform for
// log types and one equal cell per ordered choice; each level of a categorical equally
// likely), the tree's variance is sum_leaf w (v - mean)^2 over the leaves' volumes w, and the
// variance of a parameter's main effect (the prediction averaged over every other parameter,
// as a function of that one) is computed cell by cell over the tree's own split points on
// it. A parameter's importance in a tree is that share of the tree's variance; the report
// gives its mean over the trees and their standard deviation, which says how much the
// estimate depends on which trials a tree happened to see. Optuna normalises importances to
// sum to 1; here they stay shares of the whole variance, so what the main effects leave
// (1 - mainEffects) is the share of interactions, which a reader should see.

import { fidelityLevel } from "../best-trial.js";
import type { SearchSpace } from "../config/space.js";
import { type Coordinate, encodeSpace } from "../search/samplers/encoding.js";
import type { TrialRecord } from "../types.js";
import { type ForestFeature, fitForest, type LeafRegion } from "./random-forest.js";

/** How importance is estimated; every field has a default (`importanceDefaults`). */
export interface ImportanceOptions {
  /** Seed of the forest's random choices (bootstrap samples, features tried). */
  seed?: number;
  /** Trees in the forest. */
  trees?: number;
  /** Share of the parameters tried at each split. */
  featureFraction?: number;
  /** The fewest samples a leaf may hold. */
  minSamplesLeaf?: number;
  /** The deepest a leaf may be. */
  maxDepth?: number;
  /** The fewest scored trials importance is computed from; fewer give an empty result. */
  minTrials?: number;
}

/**
 * The defaults, and why:
 * - 64 trees and depth 64: Optuna's FanovaImportanceEvaluator (n_trees=64, max_depth=64).
 * - featureFraction 0.7: the fANOVA reference implementation's max_features = 7/10 of the
 *   parameters; a random subset decorrelates the trees, so their spread is an honest
 *   uncertainty, while 7/10 still lets most splits find the parameter that matters.
 * - minSamplesLeaf 1: fANOVA and Optuna split until leaves are pure; bootstrap averaging
 *   over the trees already smooths the forest. On the test's synthetic sweeps (64 and 32
 *   trials, noise up to the size of the effects) leaves of 1, 2, 3 and 5 ranked the
 *   parameters alike, so the default stays with the references.
 * - minTrials 5: a bootstrap sample of 4 trials holds 2.7 distinct trials on average, too
 *   few for a tree to do more than pick a parameter nearly at random; 5 is also what the
 *   samplers' models ask of a budget level (../samplers/encoding.ts `observe`). Between 5
 *   and a few dozen trials the result is rough, and the std says by how much.
 */
export const importanceDefaults: Readonly<Required<ImportanceOptions>> = Object.freeze({
  seed: 0,
  trees: 64,
  featureFraction: 0.7,
  minSamplesLeaf: 1,
  maxDepth: 64,
  minTrials: 5,
});

/** One parameter's importance. */
export interface ParamImportance {
  /** The parameter's name in the search space. */
  name: string;
  /** Mean over the trees of the share of a tree's variance this parameter's main effect explains, 0..1. */
  importance: number;
  /** Standard deviation of that share over the trees: its uncertainty. */
  std: number;
}

/** Parameter importance of a sweep, as plain data for the report. */
export interface ParameterImportance {
  method: "fanova-random-forest";
  /** Trees whose variance decomposition was averaged (trees predicting a constant are left out). */
  trees: number;
  /** Scored trials the forest learned from. */
  samples: number;
  /** The budget of those trials in a multi-fidelity sweep; null when they have none. */
  budget: number | null;
  /**
   * Every parameter of the search space, most important first (ties: in the space's order).
   * A parameter with a single value in the space has importance 0 and std 0. Empty when
   * there were too few trials.
   */
  params: ParamImportance[];
  /**
   * Mean over the trees of the share of variance all main effects together explain, 0..1;
   * the rest is interactions between parameters. Each parameter's importance is its share
   * of the same whole, so the importances sum to this.
   */
  mainEffects: number;
  /** What the reader should know: trials left out and why, a result left empty and why. */
  notes: string[];
}

/** What importance needs of a trial record. */
type ImportanceTrial = Pick<TrialRecord, "params" | "status" | "primary_score" | "budget">;

/**
 * The importance of each parameter of `space` for the primary_score of `trials`, by fANOVA
 * on a random forest (see the file comment). Learns from completed trials with a finite
 * primary_score and params in the space; in a multi-fidelity sweep, only from those at the
 * highest fidelity level (`fidelityLevel`) that has `minTrials` of them, since scores at
 * different budgets do not compare. Pure and deterministic: the same trials, space and options give the same result.
 * With fewer than `minTrials` such trials, returns no params and a note saying why.
 */
export function parameterImportance(
  space: SearchSpace,
  trials: readonly ImportanceTrial[],
  options: ImportanceOptions = {},
): ParameterImportance {
  const settings = settingsOf(options);
  const encoding = encodeSpace(space);
  const notes: string[] = [];

  const scored = trials.filter(
    (t) =>
      t.status === "completed" && typeof t.primary_score === "number" && Number.isFinite(t.primary_score),
  );
  // Scores at different budgets do not compare: the forest learns from one budget, the
  // highest with enough trials (a successive-halving sweep's top rung is often 1-3 trials),
  // else the highest.
  const counts = new Map<number, number>();
  for (const t of scored) counts.set(fidelityLevel(t), (counts.get(fidelityLevel(t)) ?? 0) + 1);
  const levels = [...counts.keys()].sort((a, b) => b - a);
  const level =
    levels.find((l) => (counts.get(l) as number) >= settings.minTrials) ??
    levels[0] ??
    Number.NEGATIVE_INFINITY;
  const atLevel = scored.filter((t) => fidelityLevel(t) === level);
  const budget = Number.isFinite(level) ? level : null;
  const which = level === levels[0] ? "the highest budget" : "the highest budget with enough trials";
  if (atLevel.length < scored.length) {
    notes.push(
      `multi-fidelity sweep: importance from the ${trialCount(atLevel.length)} at ${which}` +
        ` (${budget ?? "full"}) only, of ${scored.length} scored; scores at different budgets do not compare`,
    );
  }
  const x: Float64Array[] = [];
  const y: number[] = [];
  for (const trial of atLevel) {
    const point = encoding.encode(trial.params);
    if (point === undefined) continue;
    x.push(point);
    y.push(trial.primary_score as number);
  }
  if (x.length < atLevel.length) {
    notes.push(`${trialCount(atLevel.length - x.length)} left out: params not in the search space`);
  }
  const result = (params: ParamImportance[], trees: number, mainEffects: number): ParameterImportance => ({
    method: "fanova-random-forest",
    trees,
    samples: x.length,
    budget: scored.length > 0 ? budget : null,
    params,
    mainEffects,
    notes,
  });
  if (x.length < settings.minTrials) {
    notes.push(
      `${trialCount(x.length)}${atLevel.length < scored.length ? " at the highest budget" : ""}:` +
        ` importance needs at least ${settings.minTrials}`,
    );
    return result([], 0, 0);
  }

  const coords = encoding.coords;
  const features = coords.map((c): ForestFeature => ({ kind: c.kind, levels: c.levels }));
  const forest = fitForest(features, x, y, settings);
  // A tree whose variance is rounding error (its leaves all predict one score) says nothing
  // about any parameter: its shares would be 0/0.
  const scale = y.reduce((top, v) => Math.max(top, Math.abs(v)), Number.MIN_VALUE);
  const shares: Float64Array[] = [];
  for (const tree of forest) {
    const { total, main } = decomposeVariance(tree.leaves, coords);
    if (total > 1e-24 * scale * scale) shares.push(main.map((v) => v / total));
  }
  if (coords.length === 0) {
    notes.push("no parameter takes more than one value in the search space");
  } else if (shares.length === 0) {
    notes.push("the scores do not vary with the parameters: no parameter explains anything");
  } else if (shares.length < forest.length) {
    notes.push(
      `${forest.length - shares.length} of ${forest.length} trees predict one score and are left out`,
    );
  }

  const byParam = new Map(coords.map((c, j) => [c.param, j]));
  const params = space.map(({ name }, param): ParamImportance => {
    const j = byParam.get(param);
    if (j === undefined || shares.length === 0) return { name, importance: 0, std: 0 };
    const values = shares.map((s) => s[j] as number);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    // The trees are the whole population averaged, so the population standard deviation.
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
    return { name, importance: mean, std: Math.sqrt(variance) };
  });
  const fixed = space.filter((_, param) => !byParam.has(param)).map(({ name }) => name);
  if (fixed.length > 0) notes.push(`one value in the search space, importance 0: ${fixed.join(", ")}`);
  // A stable sort keeps the space's order among equal importances.
  params.sort((a, b) => b.importance - a.importance);
  const mainEffects =
    shares.length === 0
      ? 0
      : shares.reduce((sum, s) => sum + s.reduce((a, b) => a + b, 0), 0) / shares.length;
  return result(params, shares.length, Math.min(1, mainEffects));
}

/** One tree's variance and the variance of each coordinate's main effect. */
export interface VarianceDecomposition {
  /** The variance of the tree's prediction over the space. */
  total: number;
  /** Per coordinate, the variance of its main effect. */
  main: Float64Array;
}

/**
 * The exact functional ANOVA of a step function given as the leaves of a partition of the
 * space (numeric coordinates on [0, 1] with the uniform measure; categorical ones with each
 * of `levels` levels equally likely): its variance, and the variance of each coordinate's
 * main effect, the function averaged over every other coordinate (Hutter et al. 2014).
 * Exported for the tests, which check it against a brute-force grid and by hand.
 */
export function decomposeVariance(
  leaves: readonly LeafRegion[],
  coords: readonly Pick<Coordinate, "kind" | "levels">[],
): VarianceDecomposition {
  const d = coords.length;
  const count = leaves.length;
  // widths[l * d + k]: the measure of leaf l's extent along coordinate k.
  const widths = new Float64Array(count * d);
  const volume = new Float64Array(count);
  leaves.forEach((leaf, l) => {
    let w = 1;
    for (let k = 0; k < d; k++) {
      const mask = leaf.levels[k];
      const extent = mask
        ? mask.reduce((a, b) => a + b, 0) / (coords[k]?.levels ?? mask.length)
        : (leaf.high[k] as number) - (leaf.low[k] as number);
      widths[l * d + k] = extent;
      w *= extent;
    }
    volume[l] = w;
  });
  let mean = 0;
  for (let l = 0; l < count; l++) mean += (volume[l] as number) * (leaves[l] as LeafRegion).value;
  // Centred values: the variance as a sum of squares, with no cancellation against mean^2.
  const centred = leaves.map((leaf) => leaf.value - mean);
  let total = 0;
  for (let l = 0; l < count; l++) total += (volume[l] as number) * (centred[l] as number) ** 2;

  const main = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    // A coordinate no split uses has no main effect: exactly 0, not the rounding error of
    // a sum that cancels (a chart would show 1e-33 as a bar).
    if (!leaves.some((leaf) => splitsOn(leaf, j))) continue;
    // Each leaf adds (v - mean) times its measure along the other coordinates to the main
    // effect of every cell of coordinate j its box covers: the average over the others.
    const weight = new Float64Array(count);
    for (let l = 0; l < count; l++) {
      let w = centred[l] as number;
      for (let k = 0; k < d; k++) if (k !== j) w *= widths[l * d + k] as number;
      weight[l] = w;
    }
    const coord = coords[j] as Pick<Coordinate, "kind" | "levels">;
    main[j] =
      coord.kind === "categorical"
        ? categoricalMainEffect(leaves, j, coord.levels, weight)
        : numericMainEffect(leaves, j, weight);
  }
  return { total, main };
}

/** Whether a leaf's box is narrower than the whole space along coordinate j. */
function splitsOn(leaf: LeafRegion, j: number): boolean {
  const mask = leaf.levels[j];
  return mask ? mask.includes(0) : leaf.low[j] !== 0 || leaf.high[j] !== 1;
}

/** Σ over the levels of (1 / levels) · effect(level)², effect(level) = Σ of the weights of the leaves holding it. */
function categoricalMainEffect(
  leaves: readonly LeafRegion[],
  j: number,
  levels: number,
  weight: Float64Array,
): number {
  const effect = new Float64Array(levels);
  leaves.forEach((leaf, l) => {
    const mask = leaf.levels[j] as Uint8Array;
    for (let level = 0; level < levels; level++)
      if (mask[level] === 1) effect[level] = (effect[level] as number) + (weight[l] as number);
  });
  return effect.reduce((sum, e) => sum + e * e, 0) / levels;
}

/**
 * Σ over the cells between coordinate j's split points of length · effect(cell)²: each leaf
 * adds its weight to the cells of its interval, through a difference array over the cells.
 */
function numericMainEffect(leaves: readonly LeafRegion[], j: number, weight: Float64Array): number {
  const points = new Set<number>([0, 1]);
  for (const leaf of leaves) {
    points.add(leaf.low[j] as number);
    points.add(leaf.high[j] as number);
  }
  const edges = Float64Array.from(points).sort();
  const index = new Map<number, number>();
  edges.forEach((edge, i) => {
    index.set(edge, i);
  });
  const change = new Float64Array(edges.length);
  leaves.forEach((leaf, l) => {
    const from = index.get(leaf.low[j] as number) as number;
    const to = index.get(leaf.high[j] as number) as number;
    change[from] = (change[from] as number) + (weight[l] as number);
    change[to] = (change[to] as number) - (weight[l] as number);
  });
  let effect = 0;
  let variance = 0;
  for (let i = 0; i + 1 < edges.length; i++) {
    effect += change[i] as number;
    variance += ((edges[i + 1] as number) - (edges[i] as number)) * effect * effect;
  }
  return variance;
}

const trialCount = (n: number) => `${n} scored ${n === 1 ? "trial" : "trials"}`;

function settingsOf(options: ImportanceOptions): Required<ImportanceOptions> {
  const settings = { ...importanceDefaults, ...options };
  const whole = (name: keyof ImportanceOptions, min: number) => {
    const v = settings[name];
    if (!Number.isSafeInteger(v) || v < min)
      throw new RangeError(`importance ${name}: got ${v}; expected a whole number >= ${min}`);
  };
  whole("seed", 0);
  whole("trees", 1);
  whole("minSamplesLeaf", 1);
  whole("maxDepth", 1);
  whole("minTrials", 2);
  if (!(settings.featureFraction > 0 && settings.featureFraction <= 1))
    throw new RangeError(
      `importance featureFraction: got ${settings.featureFraction}; expected a number in (0, 1]`,
    );
  return settings;
}
