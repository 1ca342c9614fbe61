import { describe, expect, it } from "vitest";
import { searchSpaceOf } from "../src/core/config/space.js";
import { createRng } from "../src/core/rng.js";
import {
  logExpectedImprovement,
  logH,
  normalCdf,
  selectionGainScore,
} from "../src/core/search/samplers/acquisition.js";
import { encodeSpace, observe } from "../src/core/search/samplers/encoding.js";
import {
  createGpSampler,
  defaultGpSettings,
  gpHyperFor,
  modelledIndices,
} from "../src/core/search/samplers/gp.js";
import {
  defaultPriors,
  fitGp,
  type GpData,
  type GpHyper,
  GpPool,
  GpPosterior,
  matern52,
} from "../src/core/search/samplers/gp-model.js";
import { minimize } from "../src/core/search/samplers/lbfgs.js";
import {
  cholesky,
  choleskyInverse,
  choleskyLogDet,
  choleskySolve,
  solveLower,
} from "../src/core/search/samplers/linalg.js";
import type { Params, TrialRecord } from "../src/core/types.js";

/** A random symmetric positive-definite matrix B B^T + n I. */
function spd(n: number, seed: number): Float64Array {
  const rng = createRng(seed, "spd");
  const b = Float64Array.from({ length: n * n }, () => rng.next() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n * 0.1 : 0;
      for (let k = 0; k < n; k++) s += (b[i * n + k] as number) * (b[j * n + k] as number);
      a[i * n + j] = s;
    }
  return a;
}

describe("linear algebra", () => {
  it("factors an SPD matrix: L L^T = A, L lower triangular", () => {
    const n = 12;
    const a = spd(n, 1);
    const chol = cholesky(a, n);
    expect(chol?.added).toBe(0);
    const l = chol?.factor as Float64Array;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (j > i) expect(l[i * n + j]).toBe(0);
        let s = 0;
        for (let k = 0; k < n; k++) s += (l[i * n + k] as number) * (l[j * n + k] as number);
        expect(s).toBeCloseTo(a[i * n + j] as number, 10);
      }
  });

  it("solves, inverts and takes the log determinant from the factor", () => {
    const n = 9;
    const a = spd(n, 2);
    const l = cholesky(a, n)?.factor as Float64Array;
    const b = Float64Array.from({ length: n }, (_, i) => i - 4);
    const x = choleskySolve(l, n, b);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (a[i * n + k] as number) * (x[k] as number);
      expect(s).toBeCloseTo(b[i] as number, 10);
    }
    const inv = choleskyInverse(l, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += (a[i * n + k] as number) * (inv[k * n + j] as number);
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
      }
    // log det of a diagonal matrix.
    const d = Float64Array.from([4, 0, 0, 0, 9, 0, 0, 0, 0.25]);
    expect(choleskyLogDet(cholesky(d, 3)?.factor as Float64Array, 3)).toBeCloseTo(Math.log(9), 12);
    expect(Array.from(solveLower(Float64Array.from([2, 0, 1, 4]), 2, [2, 9]))).toEqual([1, 2]);
  });

  it("adds jitter to a singular matrix, and gives up on an indefinite one", () => {
    const singular = Float64Array.from([1, 1, 1, 1]);
    const chol = cholesky(singular, 2);
    expect(chol).toBeDefined();
    expect(chol?.added).toBeGreaterThan(0);
    expect(cholesky(Float64Array.from([1, 0, 0, -1]), 2)).toBeUndefined();
  });
});

describe("L-BFGS with bounds", () => {
  it("finds the minimum of Rosenbrock's function, and stops at a bound", () => {
    const rosenbrock = (x: Float64Array, g: Float64Array) => {
      const [a = 0, b = 0] = x;
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    };
    const free = minimize(rosenbrock, [-1.2, 1], { lower: [-5, -5], upper: [5, 5], maxIterations: 200 });
    expect(free.x[0]).toBeCloseTo(1, 3);
    expect(free.x[1]).toBeCloseTo(1, 3);
    const bounded = minimize(rosenbrock, [-1.2, 1], { lower: [-5, -5], upper: [0.5, 5], maxIterations: 200 });
    expect(bounded.x[0]).toBeCloseTo(0.5, 6);
    expect(bounded.x[1]).toBeCloseTo(0.25, 3);
  });
});

describe("expected improvement", () => {
  it("matches the closed form where it is well conditioned, and stays finite and ordered far below", () => {
    for (const z of [-3, -1, 0, 0.5, 2]) {
      const phi = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
      expect(Math.exp(logH(z))).toBeCloseTo(phi + z * normalCdf(z), 6);
    }
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    let previous = Number.POSITIVE_INFINITY;
    for (let z = -5; z >= -60; z -= 0.5) {
      const value = logH(z);
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeLessThan(previous);
      previous = value;
    }
    expect(logExpectedImprovement(1, 0, 0)).toBe(0);
    expect(logExpectedImprovement(0, 0, 1)).toBe(Number.NEGATIVE_INFINITY);
  });
});

/** The selection gain by quadrature: ∫ (f - w) N(f; mean, sd^2) P(f + e > best) df, e ~ N(0, noise). */
function selectionGainByQuadrature(mean: number, sd: number, noise: number, best: number, w: number): number {
  const steps = 20000;
  const lo = mean - 10 * sd;
  const h = (20 * sd) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const f = lo + i * h;
    const density = Math.exp(-0.5 * ((f - mean) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));
    const beats = noise > 0 ? normalCdf((f - best) / Math.sqrt(noise)) : f > best ? 1 : 0;
    sum += (i === 0 || i === steps ? 0.5 : 1) * (f - w) * density * beats;
  }
  return sum * h;
}

/** The gain a ranking score stands for (see selectionGainScore). */
const gainOf = (score: number) => (score > -1e11 ? Math.exp(score) : score + 1e12);

describe("selection gain", () => {
  it("matches the integral it is defined by, gains and losses alike", () => {
    const cases: [number, number, number, number, number][] = [
      [0, 1, 0.5, 1, 0.5],
      [0.3, 0.2, 0.5, 1, 0.5], // below the winner, may win by luck: a loss
      [0.8, 0.3, 0.2, 1, 0.6],
      [2, 0.5, 0.1, 1, 0.9],
      [-0.5, 0.4, 0.05, 1.2, 1.1],
    ];
    for (const [mean, sd, noise, best, w] of cases) {
      const expected = selectionGainByQuadrature(mean, sd, noise, best, w);
      expect(gainOf(selectionGainScore(mean, sd, noise, best, w))).toBeCloseTo(expected, 4);
    }
    expect(selectionGainScore(0.3, 0.2, 0.5, 1, 0.5)).toBeLessThan(-1e11);
  });

  it("is expected improvement when there is no noise and the winner's mean is its score", () => {
    for (const [mean, sd] of [
      [0, 1],
      [0.9, 0.05],
      [-2, 0.3],
    ] as const)
      expect(selectionGainScore(mean, sd, 0, 1, 1)).toBeCloseTo(logExpectedImprovement(mean, sd, 1), 4);
  });

  it("counts a mediocre trial that may win by luck as a loss, where EI sees a gain", () => {
    // The winner was observed at 1.0 but is believed 0.6 (noise 0.3). A candidate believed
    // 0.5 ± 0.2 would mostly win only by luck, making the recommendation worse: a loss,
    // ranked below one believed 0.6 ± 0.05. EI over the best mean ranks them the other way.
    const mediocre = selectionGainScore(0.5, 0.2, 0.3, 1, 0.6);
    const level = selectionGainScore(0.6, 0.05, 0.3, 1, 0.6);
    expect(gainOf(mediocre)).toBeLessThan(0);
    expect(level).toBeGreaterThan(mediocre);
    expect(logExpectedImprovement(0.5, 0.2, 0.6)).toBeGreaterThan(logExpectedImprovement(0.6, 0.05, 0.6));
  });

  it("stays finite and ordered far below the best observed score", () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let mean = -5; mean >= -60; mean -= 1) {
      const value = selectionGainScore(mean, 1, 0.01, 1, -100);
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeLessThan(previous);
      previous = value;
    }
  });
});

/** 1-D data from a smooth function. */
function data1d(xs: number[], f: (x: number) => number): GpData {
  return {
    n: xs.length,
    dims: 1,
    categorical: new Uint8Array(1),
    x: Float64Array.from(xs),
    y: Float64Array.from(xs, f),
  };
}

/** A pool of `points` under the GP conditioned on `data` with `hyper`. */
function poolAt(data: GpData, hyper: GpHyper, points: number[]): GpPool {
  const posterior = new GpPosterior(data, hyper);
  return new GpPool(posterior, posterior.predict(Float64Array.from(points), points.length));
}

describe("Gaussian process", () => {
  it("interpolates its training points when the noise is tiny", () => {
    const xs = [0.05, 0.2, 0.35, 0.5, 0.7, 0.9];
    const data = data1d(xs, (x) => Math.sin(6 * x));
    const hyper = { lengthscales: Float64Array.from([0.3]), signal: 1, noise: 1e-8, mean: 0 };
    const pool = poolAt(data, hyper, xs);
    // The shortcut for the means at the training points agrees.
    const trainingMeans = new GpPosterior(data, hyper).trainingMeans();
    xs.forEach((_, i) => {
      expect(trainingMeans[i]).toBeCloseTo(pool.mean[i] as number, 6);
    });
    xs.forEach((x, i) => {
      expect(pool.mean[i]).toBeCloseTo(Math.sin(6 * x), 4);
      expect(pool.variance[i]).toBeLessThan(1e-6);
    });
    // Between points it does not interpolate exactly, and is uncertain.
    const between = poolAt(
      data,
      { lengthscales: Float64Array.from([0.3]), signal: 1, noise: 1e-8, mean: 0 },
      [0.8],
    );
    expect(between.variance[0]).toBeGreaterThan(1e-4);
    expect(matern52(0)).toBe(1);
  });

  it("lowers the variance around a believed point and leaves the means alone (kriging believer)", () => {
    const data = data1d([0.1, 0.9], (x) => x);
    const pool = poolAt(
      data,
      { lengthscales: Float64Array.from([0.2]), signal: 1, noise: 1e-6, mean: 0 },
      [0.5, 0.52, 0.8],
    );
    const before = { mean: Array.from(pool.mean), variance: Array.from(pool.variance) };
    pool.believe(0);
    expect(Array.from(pool.mean)).toEqual(before.mean);
    expect(pool.variance[0]).toBeLessThan(1e-5);
    expect(pool.variance[1]).toBeLessThan((before.variance[1] as number) * 0.1);
    expect(pool.variance[2]).toBeGreaterThan((before.variance[2] as number) * 0.5);
  });

  it("fits a short length scale to a wiggly function and a long one to a flat one, with small noise", () => {
    const xs = Array.from({ length: 25 }, (_, i) => i / 24);
    const standard = (d: GpData) => {
      const m = d.y.reduce((s, v) => s + v, 0) / d.n;
      const sd = Math.sqrt(d.y.reduce((s, v) => s + (v - m) ** 2, 0) / d.n);
      return { ...d, y: d.y.map((v) => (v - m) / sd) };
    };
    const options = { priors: defaultPriors(1), restarts: 2, maxIterations: 80 };
    const wiggly = fitGp(standard(data1d(xs, (x) => Math.sin(25 * x))), createRng(1), options);
    const smooth = fitGp(standard(data1d(xs, (x) => x + 0.1 * x * x)), createRng(1), options);
    expect(wiggly.lengthscales[0]).toBeLessThan(0.3);
    expect(smooth.lengthscales[0]).toBeGreaterThan(wiggly.lengthscales[0] as number);
    expect(wiggly.noise).toBeLessThan(1e-2);
    expect(smooth.noise).toBeLessThan(1e-2);
  });
});

describe("gp sampler", () => {
  const space = searchSpaceOf({
    x: { type: "uniform", min: 0, max: 1 },
    y: { type: "uniform", min: 0, max: 1 },
  });
  const f = (p: Params) => -(((p.x as number) - 0.7) ** 2) - ((p.y as number) - 0.3) ** 2;
  const scored = (params: readonly Params[], score: (p: Params) => number, from = 0): TrialRecord[] =>
    params.map((p, i) => ({
      trial_id: `t${String(from + i).padStart(4, "0")}`,
      params: p,
      status: "completed",
      primary_score: score(p),
    }));

  it("models at most maxModelled trials of a long history, and still proposes", () => {
    const rng = createRng(7);
    const history = scored(
      Array.from({ length: 1000 }, () => ({ x: rng.next(), y: rng.next() })),
      f,
    );
    const obs = observe(encodeSpace(space), history, "max");
    const kept = modelledIndices(obs, defaultGpSettings);
    expect(kept.length).toBe(defaultGpSettings.maxModelled);
    // The best trials are among them.
    const best = [...obs.y.keys()].sort((a, b) => (obs.y[b] as number) - (obs.y[a] as number))[0];
    expect(kept).toContain(best);
    const started = performance.now();
    const proposals = createGpSampler({ space, seed: 1, metricMode: "max" }).propose(8, history);
    const seconds = (performance.now() - started) / 1000;
    expect(proposals).toHaveLength(8);
    // Measured, not asserted (timing depends on the machine).
    console.info(`gp: propose(8) with a history of 1000 scored trials took ${seconds.toFixed(2)} s`);
  });

  it("still proposes new points when a history holds hundreds of failed trials", () => {
    const rng = createRng(11);
    const points = Array.from({ length: 340 }, () => ({ x: rng.next(), y: rng.next() }));
    const history: TrialRecord[] = [
      ...scored(points.slice(0, 40), f),
      ...points.slice(40).map((p, i) => ({
        trial_id: `failed${i}`,
        params: p,
        status: "failed" as const,
        primary_score: null,
      })),
    ];
    const proposals = createGpSampler({ space, seed: 2, metricMode: "max" }).propose(8, history);
    expect(proposals).toHaveLength(8);
    const keys = new Set(history.map((t) => JSON.stringify(t.params)));
    for (const p of proposals) expect(keys.has(JSON.stringify(p))).toBe(false);
    expect(new Set(proposals.map((p) => JSON.stringify(p))).size).toBe(8);
  });

  it("replicateRuns (an ablation setting, off by default): under noise a wave runs the incumbent again, up to the cap", () => {
    const rng = createRng(5);
    // Values as a sweep records them (the encoding decodes to 10 significant digits).
    const u = () => Number(rng.next().toPrecision(10));
    const points = Array.from({ length: 24 }, () => ({ x: u(), y: u() }));
    const noisy = scored(points, (p) => f(p) + 0.6 * (rng.next() - 0.5));
    const settings = { ...defaultGpSettings, replicateRuns: 2 };
    const keys = (ps: readonly Params[]) => ps.map((p) => JSON.stringify(p));
    const tried = new Set(keys(points));
    const first = createGpSampler({ space, seed: 4, metricMode: "max" }, settings).propose(8, noisy);
    // The first proposal is a tried configuration; the rest are new.
    expect(tried.has(keys(first)[0] as string)).toBe(true);
    expect(keys(first.slice(1)).filter((k) => tried.has(k))).toEqual([]);
    // Its second run told, it has reached the cap: no replicate again.
    const again = scored([first[0] as Params], (p) => f(p), 24);
    const next = createGpSampler({ space, seed: 4, metricMode: "max" }, settings).propose(8, [
      ...noisy,
      ...again,
    ]);
    expect(keys(next).filter((k) => k === keys(first)[0])).toEqual([]);
    // Noise-free scores: no replicate; nor by default.
    const clean = scored(points, f);
    const free = createGpSampler({ space, seed: 4, metricMode: "max" }, settings).propose(8, clean);
    expect(keys(free).filter((k) => tried.has(k))).toEqual([]);
    const byDefault = createGpSampler({ space, seed: 4, metricMode: "max" }).propose(8, noisy);
    expect(keys(byDefault).filter((k) => tried.has(k))).toEqual([]);
  });

  it("moves towards the optimum, for metric_mode max and min alike", () => {
    const first = createGpSampler({ space, seed: 3, metricMode: "max" }).propose(8, []);
    const dist = (p: Params) => Math.hypot((p.x as number) - 0.7, (p.y as number) - 0.3);
    const maxProposals = createGpSampler({ space, seed: 3, metricMode: "max" }).propose(8, scored(first, f));
    const minProposals = createGpSampler({ space, seed: 3, metricMode: "min" }).propose(
      8,
      scored(first, (p) => -f(p)),
    );
    const meanDistance = (ps: Params[]) => ps.reduce((s, p) => s + dist(p), 0) / ps.length;
    expect(meanDistance(maxProposals)).toBeLessThan(meanDistance(first));
    expect(meanDistance(minProposals)).toBeLessThan(meanDistance(first));
    // Optimising the opposite direction goes elsewhere.
    const away = createGpSampler({ space, seed: 3, metricMode: "min" }).propose(8, scored(first, f));
    expect(meanDistance(away)).toBeGreaterThan(meanDistance(maxProposals));
  });

  it("fits a small noise to noiseless scores and a larger one to noisy scores", () => {
    const rng = createRng(9);
    const points = Array.from({ length: 30 }, () => ({ x: rng.next(), y: rng.next() }));
    const clean = gpHyperFor({ space, seed: 1, metricMode: "max" }, scored(points, f));
    const noisy = gpHyperFor(
      { space, seed: 1, metricMode: "max" },
      scored(points, (p) => f(p) + 0.3 * (rng.next() - 0.5)),
    );
    expect(clean?.noise).toBeLessThan(1e-2);
    expect(noisy?.noise).toBeGreaterThan((clean?.noise as number) * 10);
  });
});
