// The benchmark problems, as the JS side of the sampler benchmark sees them. The Python
// driver (optuna_driver.py) implements the same problems from the same files and formulas,
// with the same noise protocol, so both sides score a configuration identically.
import { readFileSync } from "node:fs";
import path from "node:path";

/** The HPOBench sets, relative to the repository root. */
export const hpobenchDir = (root) => path.resolve(root, "../shared/bench/hpobench");
export const hpobenchNames = [
  "australian",
  "blood_transfusion",
  "car",
  "credit_g",
  "kc1",
  "phoneme",
  "segment",
  "vehicle",
];
export const syntheticNames = ["branin", "hartmann6"];
// Noisy problems with known truth, scores in [0, 1] like a primary_score (maximised): a
// trial's score is the noise-free value plus Gaussian noise of standard deviation `level`
// times the range the true scores span (0.8: true scores lie in [0.1, 0.9]), clipped to
// [0, 1] as an accuracy is; regret = the best true score - the true score of the
// recommended configuration. "finetune" without a level is the noise-free surface.
export const noisyLevels = {
  "hartmann6-n01": 0.01,
  "hartmann6-n03": 0.03,
  "hartmann6-n10": 0.1,
  finetune: 0,
  "finetune-n03": 0.03,
  "finetune-n10": 0.1,
};
export const noisyNames = Object.keys(noisyLevels);
/** Problems whose truth is noise-free (a repeat returns the same score). */
export const noiseFreeNames = ["branin", "hartmann6", "finetune"];

// --- The noise protocol (identical in optuna_driver.py) -----------------------------------
// A query of a tabular configuration returns one of its 5 seed values. Which one is fixed by
// a hash of (problem, run seed, configuration index, how many times this run asked for this
// configuration before): the same for every sampler (common random numbers), reproducible,
// and a repeated query of one configuration gets a fresh draw.

/** splitmix32's finaliser (32-bit, the same arithmetic as Python's with masks). */
export function mix32(x) {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** FNV-1a of a string's UTF-16 code units (ASCII names here), 32-bit. */
export function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** The hash of the noise protocol: parts are uint32. */
export function noiseHash(parts) {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix32((h + 0x9e3779b9 + (p >>> 0)) | 0);
  return h;
}

/** Which of `n` seed values query number `occurrence` of configuration `config` returns. */
export function seedIndex(problem, runSeed, config, occurrence, n) {
  return noiseHash([fnv1a(problem), runSeed, config, occurrence]) % n;
}

// --- Synthetic problems (minimised; regret f(x) - f*) --------------------------------------

function branin({ x1, x2 }) {
  const b = 5.1 / (4 * Math.PI * Math.PI);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

const hartmannAlpha = [1.0, 1.2, 3.0, 3.2];
const hartmannA = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const hartmannP = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

function hartmann6(params) {
  const x = [0, 1, 2, 3, 4, 5].map((j) => params[`x${j + 1}`]);
  let f = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += hartmannA[i][j] * (x[j] - hartmannP[i][j]) ** 2;
    f -= hartmannAlpha[i] * Math.exp(-inner);
  }
  return f;
}

// --- Noisy synthetic problems (maximised scores in [0, 1]) -------------------------------

/** The span of the true scores of the noisy problems: [0.1, 0.9]. */
const scoreLow = 0.1;
const scoreSpan = 0.8;

/** Hartmann6 as an accuracy: 0.1 + 0.8 * (-f(x) / -f*), in [0.1, 0.9], best 0.9. */
function hartmannScore(params) {
  return scoreLow + (scoreSpan * hartmann6(params)) / -3.32236801141551;
}

// A fine-tuning-like surface: the learning rate's best value depends on the optimizer (an
// unordered category), warm-up and the LoRA rank (an ordered numeric choice) each cost a
// share away from their best. True scores in [0.1, 0.9]; the best is adamw at lr 10^-3.5,
// warmup 0.1, rank 32: 0.9.
export const finetuneOptimizers = ["adamw", "lion", "sgd"];
const finetunePeak = { adamw: 1, lion: 0.96, sgd: 0.85 };
const finetuneCentre = { adamw: -3.5, lion: -4.2, sgd: -2.4 };
export const finetuneRanks = [4, 8, 16, 32, 64];
function finetuneScore({ lr, warmup, rank, optimizer }) {
  const u = Math.log10(lr);
  const r = Math.log2(rank) - 2;
  const bell = Math.exp(-(((u - finetuneCentre[optimizer]) / 0.5) ** 2));
  const w = 1 - 0.5 * ((warmup - 0.1) / 0.3) ** 2;
  const k = 1 - 0.2 * ((r - 3) / 3) ** 2;
  return scoreLow + scoreSpan * finetunePeak[optimizer] * bell * w * k;
}

/**
 * The noise of the k-th score a run draws (first queries and repeats alike, in the order
 * asked): a standard normal by Box-Muller from two hashes of (problem, run seed, k). The
 * same draws for every sampler (common random numbers), identical in optuna_driver.py.
 */
export function noiseDraw(problem, runSeed, k) {
  const u1 = (noiseHash([fnv1a(problem), runSeed, k, 1]) + 0.5) / 2 ** 32;
  const u2 = (noiseHash([fnv1a(problem), runSeed, k, 2]) + 0.5) / 2 ** 32;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function noisyProblem(name) {
  const level = noisyLevels[name];
  const finetune = name.startsWith("finetune");
  const truth = finetune ? finetuneScore : hartmannScore;
  const space = {};
  if (finetune) {
    space.lr = { type: "loguniform", min: 1e-5, max: 1e-2 };
    space.warmup = { type: "uniform", min: 0, max: 0.3 };
    space.rank = { type: "choice", values: finetuneRanks };
    space.optimizer = { type: "choice", values: finetuneOptimizers };
  } else for (let j = 1; j <= 6; j++) space[`x${j}`] = { type: "uniform", min: 0, max: 1 };
  const best = scoreLow + scoreSpan;
  return {
    name,
    metricMode: "max",
    space,
    range: [0, 1],
    noise: level,
    run: (runSeed) => {
      let k = 0;
      const score = (params) => {
        const value = truth(params) + level * scoreSpan * noiseDraw(name, runSeed, k++);
        return Math.min(1, Math.max(0, value));
      };
      return { evaluate: score, repeat: score, regret: (p) => best - truth(p) };
    },
  };
}

/**
 * A problem: `space` (tunix-rt search_space), `metricMode`, and `run(seed)`, a fresh
 * evaluator for one run: `evaluate(params)` gives the score a trial reports, `repeat(params)`
 * the score of a re-run with a new trainer seed (Branin and Hartmann6 are noise-free: the
 * same value), `regret(params)` the true regret of recommending those params; `range`, where
 * the scores are primary_scores ([0, 1]: the HPOBench accuracies and the noisy problems),
 * the range the product passes to `recommend` (Branin's and Hartmann6's raw values are not
 * scores the product could see, so they get none).
 *
 * Tabular sets are seen the same way by every sampler, ours and Optuna's (`tabular`):
 * - "float" (the default, docs/samplers.md's way for continuous samplers): each log-spaced grid
 *   is a log-uniform range from its first to its last value, depth an integer range, and a
 *   suggestion is mapped to the nearest grid value (on the log scale for the log-spaced ones);
 * - "grid": tunix-rt samplers get each parameter as a choice of its grid values (ordered,
 *   as numeric choices are), Optuna an integer index 0..n-1 (its ordered discrete type).
 */
export function loadProblem(name, root, tabular = "float") {
  if (name in noisyLevels) return noisyProblem(name);
  if (name === "branin") {
    const fStar = 0.397887357729738;
    return {
      name,
      metricMode: "min",
      space: { x1: { type: "uniform", min: -5, max: 10 }, x2: { type: "uniform", min: 0, max: 15 } },
      run: () => ({ evaluate: branin, repeat: branin, regret: (p) => branin(p) - fStar }),
    };
  }
  if (name === "hartmann6") {
    const fStar = -3.32236801141551;
    const space = {};
    for (let j = 1; j <= 6; j++) space[`x${j}`] = { type: "uniform", min: 0, max: 1 };
    return {
      name,
      metricMode: "min",
      space,
      run: () => ({ evaluate: hartmann6, repeat: hartmann6, regret: (p) => hartmann6(p) - fStar }),
    };
  }
  const data = JSON.parse(readFileSync(path.join(hpobenchDir(root), `${name}.json`), "utf8"));
  const order = data.param_order;
  const grids = order.map((p) => data.search_space[p]);
  const radices = grids.map((g) => g.length);
  const means = data.values.map((v) => v.reduce((s, x) => s + x, 0) / v.length);
  // A grid of positive values whose ratio is constant (alpha, batch_size, learning_rate_init,
  // width: all four are log-spaced); depth (1, 2, 3) is not.
  const geometric = (g) => g.length > 3 && g.every((v) => v > 0);
  const space = {};
  for (const [i, p] of order.entries()) {
    const g = grids[i];
    if (tabular === "grid") space[p] = { type: "choice", values: g };
    else if (geometric(g)) space[p] = { type: "loguniform", min: g[0], max: g[g.length - 1] };
    else space[p] = { type: "randint", min: g[0], max: g[g.length - 1] };
  }
  const digitOf = (i, value) => {
    const g = grids[i];
    if (tabular === "grid") return g.indexOf(value);
    // The nearest grid value, on the log scale for the log-spaced grids.
    const key = geometric(g) ? Math.log : (v) => v;
    let best = 0;
    for (let k = 1; k < g.length; k++)
      if (Math.abs(key(g[k]) - key(value)) < Math.abs(key(g[best]) - key(value))) best = k;
    return best;
  };
  const indexOf = (params) => {
    let r = 0;
    for (const [i, p] of order.entries()) {
      const k = digitOf(i, params[p]);
      if (k < 0) throw new Error(`${name}: ${p} = ${params[p]} is not a grid value`);
      r = r * radices[i] + k;
    }
    return r;
  };
  return {
    name,
    metricMode: "max",
    space,
    range: [0, 1],
    run: (runSeed) => {
      const asked = new Map();
      // The seed values each configuration has returned in this run, for `repeat`.
      const drawn = new Map();
      const draw = (r, pick) => {
        const used = drawn.get(r) ?? new Set();
        used.add(pick);
        drawn.set(r, used);
        return data.values[r][pick];
      };
      const next = (r) => {
        const occurrence = asked.get(r) ?? 0;
        asked.set(r, occurrence + 1);
        return occurrence;
      };
      return {
        evaluate: (params) => {
          const r = indexOf(params);
          const occurrence = next(r);
          return draw(r, seedIndex(name, runSeed, r, occurrence, data.values[r].length));
        },
        // A re-run of a configuration with a new trainer seed: one of the table's seed values
        // this run has not returned for it yet (all of them again once each was returned),
        // picked by the same hash.
        repeat: (params) => {
          const r = indexOf(params);
          const occurrence = next(r);
          const used = drawn.get(r) ?? new Set();
          let free = data.values[r].map((_, i) => i).filter((i) => !used.has(i));
          if (free.length === 0) {
            used.clear();
            free = data.values[r].map((_, i) => i);
          }
          return draw(r, free[seedIndex(name, runSeed, r, occurrence, free.length)]);
        },
        regret: (params) => data.best_mean - means[indexOf(params)],
      };
    },
  };
}

/**
 * The simulated duration of the k-th trial of a run (asynchronous regime), in [0.5, 1.5):
 * the same for every sampler, so they all meet the same order of finishing workers.
 */
export function trialDuration(runSeed, k) {
  return 0.5 + noiseHash([fnv1a("duration"), runSeed, k]) / 2 ** 32;
}
