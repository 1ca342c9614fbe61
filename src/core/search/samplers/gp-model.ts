// A Gaussian-process regressor for the "gp" sampler: a constant mean, a Matérn-5/2 kernel
// with one length scale per coordinate (ARD) and a Hamming distance on categorical
// coordinates, Gaussian noise; hyperparameters by maximum a posteriori (the marginal
// likelihood times weak priors) with a few L-BFGS restarts.

import type { Rng } from "../../rng.js";
import { minimize } from "./lbfgs.js";
import { cholesky, choleskyInverse, choleskyLogDet, solveLower, solveLowerTransposed } from "./linalg.js";

/** Training data: n points of `dims` coordinates (row-major), their targets. */
export interface GpData {
  n: number;
  dims: number;
  /** 1 for a categorical coordinate (distance 0 when equal, 1 when not), 0 for a numeric one. */
  categorical: Uint8Array;
  /** n * dims coordinates. */
  x: Float64Array;
  /** n targets (standardised by the caller). */
  y: Float64Array;
}

/** Fitted hyperparameters. */
export interface GpHyper {
  /** One length scale per coordinate. */
  lengthscales: Float64Array;
  /** Signal variance (the kernel's amplitude). */
  signal: number;
  /** Noise variance. */
  noise: number;
  /** Constant prior mean. */
  mean: number;
}

const sqrt5 = Math.sqrt(5);

/** Matérn-5/2 correlation at distance r: (1 + √5 r + 5r²/3) exp(-√5 r). */
export function matern52(r: number): number {
  return (1 + sqrt5 * r + (5 / 3) * r * r) * Math.exp(-sqrt5 * r);
}

/** Squared scaled distance between point a of `xa` and point b of `xb`. */
function scaledDistance2(
  xa: ArrayLike<number>,
  a: number,
  xb: ArrayLike<number>,
  b: number,
  dims: number,
  categorical: Uint8Array,
  inverseLength2: Float64Array,
): number {
  let r2 = 0;
  const oa = a * dims;
  const ob = b * dims;
  for (let d = 0; d < dims; d++) {
    const va = xa[oa + d] as number;
    const vb = xb[ob + d] as number;
    const delta2 = categorical[d] ? (va === vb ? 0 : 1) : (va - vb) * (va - vb);
    r2 += delta2 * (inverseLength2[d] as number);
  }
  return r2;
}

/** Priors and bounds of the hyperparameters (on their logs, the mean itself). */
export interface GpPriors {
  /** log length scale ~ Normal(logLengthMean, logLengthSd), bounded. */
  logLengthMean: number;
  logLengthSd: number;
  logLengthBounds: [number, number];
  /** log signal variance ~ Normal(0, logSignalSd), bounded. */
  logSignalSd: number;
  logSignalBounds: [number, number];
  /** log noise variance ~ Normal(logNoiseMean, logNoiseSd), bounded. */
  logNoiseMean: number;
  logNoiseSd: number;
  logNoiseBounds: [number, number];
  /** mean ~ Normal(0, meanSd), bounded to ±3 meanSd. */
  meanSd: number;
}

/**
 * Default priors for targets standardised to mean 0 and variance 1 on the unit cube. Length
 * scales: median 0.35 * sqrt(dims) (longer with more coordinates, as "vanilla" BO in high
 * dimensions suggests: Hvarfner et al., 2024), a wide spread. Noise: anywhere from
 * noiseless (1e-6) to as large as the signal.
 */
export function defaultPriors(dims: number): GpPriors {
  return {
    logLengthMean: Math.log(0.35 * Math.sqrt(Math.max(1, dims))),
    logLengthSd: 1.0,
    logLengthBounds: [Math.log(0.01), Math.log(50)],
    logSignalSd: 1.5,
    logSignalBounds: [Math.log(0.02), Math.log(50)],
    logNoiseMean: Math.log(1e-2),
    logNoiseSd: 3,
    logNoiseBounds: [Math.log(1e-6), Math.log(2)],
    meanSd: 1,
  };
}

/**
 * The negative log posterior (up to a constant) of parameters
 * theta = [log l_1..log l_dims, log signal, log noise, mean] and its gradient.
 * Uses precomputed per-coordinate squared differences `delta2[d]` (n * n each).
 */
function negativeLogPosterior(
  data: GpData,
  delta2: Float64Array[],
  priors: GpPriors,
  theta: Float64Array,
  grad: Float64Array,
): number {
  const { n, dims, y } = data;
  const inverseLength2 = new Float64Array(dims);
  for (let d = 0; d < dims; d++) inverseLength2[d] = Math.exp(-2 * (theta[d] as number));
  const signal = Math.exp(theta[dims] as number);
  const noise = Math.exp(theta[dims + 1] as number);
  const mean = theta[dims + 2] as number;

  // K = signal * matern(r) + noise * I; keep r and exp(-√5 r) for the gradient.
  const k = new Float64Array(n * n);
  const shape = new Float64Array(n * n); // signal * (5/3)(1 + √5 r) exp(-√5 r)
  for (let i = 0; i < n; i++) {
    k[i * n + i] = signal + noise;
    for (let j = 0; j < i; j++) {
      let r2 = 0;
      for (let d = 0; d < dims; d++)
        r2 += ((delta2[d] as Float64Array)[i * n + j] as number) * (inverseLength2[d] as number);
      const r = Math.sqrt(r2);
      const e = Math.exp(-sqrt5 * r);
      const kij = signal * (1 + sqrt5 * r + (5 / 3) * r2) * e;
      k[i * n + j] = kij;
      k[j * n + i] = kij;
      const sh = signal * (5 / 3) * (1 + sqrt5 * r) * e;
      shape[i * n + j] = sh;
      shape[j * n + i] = sh;
    }
  }
  const chol = cholesky(k, n, 0);
  if (chol === undefined || chol.added > 0) {
    grad.fill(0);
    return Number.POSITIVE_INFINITY;
  }
  const l = chol.factor;
  const residual = Float64Array.from(y, (v) => v - mean);
  const alpha = solveLowerTransposed(l, n, solveLower(l, n, residual));
  let fit = 0;
  for (let i = 0; i < n; i++) fit += (residual[i] as number) * (alpha[i] as number);
  let value = 0.5 * fit + 0.5 * choleskyLogDet(l, n) + 0.5 * n * Math.log(2 * Math.PI);

  // d/dθ = 0.5 tr(W dK/dθ), W = K^-1 - α α^T.
  const w = choleskyInverse(l, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      w[i * n + j] = (w[i * n + j] as number) - (alpha[i] as number) * (alpha[j] as number);
  grad.fill(0);
  let traceSignal = 0;
  let traceW = 0;
  for (let i = 0; i < n; i++) {
    traceW += w[i * n + i] as number;
    traceSignal += (w[i * n + i] as number) * signal;
    for (let j = 0; j < i; j++) traceSignal += 2 * (w[i * n + j] as number) * (k[i * n + j] as number);
  }
  for (let d = 0; d < dims; d++) {
    const dd = delta2[d] as Float64Array;
    let sum = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++)
        sum += (w[i * n + j] as number) * (shape[i * n + j] as number) * (dd[i * n + j] as number);
    // dK_ij/dlog l_d = shape_ij * delta2_ij / l_d^2; both triangles: factor 2, times the 0.5.
    grad[d] = sum * (inverseLength2[d] as number);
  }
  grad[dims] = 0.5 * traceSignal;
  grad[dims + 1] = 0.5 * noise * traceW;
  let alphaSum = 0;
  for (let i = 0; i < n; i++) alphaSum += alpha[i] as number;
  grad[dims + 2] = -alphaSum;

  // Priors (negative log densities, up to constants).
  for (let d = 0; d < dims; d++) {
    const z = ((theta[d] as number) - priors.logLengthMean) / priors.logLengthSd;
    value += 0.5 * z * z;
    grad[d] = (grad[d] as number) + z / priors.logLengthSd;
  }
  const zs = (theta[dims] as number) / priors.logSignalSd;
  value += 0.5 * zs * zs;
  grad[dims] = (grad[dims] as number) + zs / priors.logSignalSd;
  const zn = ((theta[dims + 1] as number) - priors.logNoiseMean) / priors.logNoiseSd;
  value += 0.5 * zn * zn;
  grad[dims + 1] = (grad[dims + 1] as number) + zn / priors.logNoiseSd;
  const zm = mean / priors.meanSd;
  value += 0.5 * zm * zm;
  grad[dims + 2] = (grad[dims + 2] as number) + zm / priors.meanSd;
  return value;
}

/** Options of `fitGp`. */
export interface FitOptions {
  priors: GpPriors;
  /** Starting points besides the prior's centre, drawn from the priors. */
  restarts: number;
  /** L-BFGS iterations per start. */
  maxIterations: number;
}

/**
 * Fits the hyperparameters by maximum a posteriori: L-BFGS on the log-parameters from the
 * priors' centre and `restarts` random draws of the priors (from `rng`), keeping the best.
 */
export function fitGp(data: GpData, rng: Rng, options: FitOptions): GpHyper {
  const { n, dims, categorical, x } = data;
  const { priors } = options;
  const delta2: Float64Array[] = [];
  for (let d = 0; d < dims; d++) {
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        const a = x[i * dims + d] as number;
        const b = x[j * dims + d] as number;
        const v = categorical[d] ? (a === b ? 0 : 1) : (a - b) * (a - b);
        m[i * n + j] = v;
        m[j * n + i] = v;
      }
    delta2.push(m);
  }
  const size = dims + 3;
  const lower = new Float64Array(size);
  const upper = new Float64Array(size);
  for (let d = 0; d < dims; d++) [lower[d], upper[d]] = priors.logLengthBounds;
  [lower[dims], upper[dims]] = priors.logSignalBounds;
  [lower[dims + 1], upper[dims + 1]] = priors.logNoiseBounds;
  lower[dims + 2] = -3 * priors.meanSd;
  upper[dims + 2] = 3 * priors.meanSd;

  const f = (theta: Float64Array, grad: Float64Array) =>
    negativeLogPosterior(data, delta2, priors, theta, grad);
  const gaussian = () => {
    // Box-Muller from two uniforms of the seeded generator.
    const u = Math.max(rng.next(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const starts: Float64Array[] = [];
  const centre = new Float64Array(size);
  for (let d = 0; d < dims; d++) centre[d] = priors.logLengthMean;
  centre[dims] = 0;
  centre[dims + 1] = Math.log(1e-2);
  centre[dims + 2] = 0;
  starts.push(centre);
  for (let r = 0; r < options.restarts; r++) {
    const start = new Float64Array(size);
    for (let d = 0; d < dims; d++) start[d] = priors.logLengthMean + priors.logLengthSd * gaussian();
    start[dims] = 0.5 * gaussian();
    start[dims + 1] = Math.log(10 ** (-1 - 4 * rng.next()));
    start[dims + 2] = 0;
    starts.push(start);
  }
  let best: { x: Float64Array; value: number } | undefined;
  for (const start of starts) {
    const result = minimize(f, start, { lower, upper, maxIterations: options.maxIterations });
    if (best === undefined || result.value < best.value) best = result;
  }
  const theta = best?.x ?? centre;
  return {
    lengthscales: Float64Array.from({ length: dims }, (_, d) => Math.exp(theta[d] as number)),
    signal: Math.exp(theta[dims] as number),
    noise: Math.exp(theta[dims + 1] as number),
    mean: theta[dims + 2] as number,
  };
}

/** Posterior predictions at some points: means, latent variances and L^-1 k(X, point) rows. */
export interface Prediction {
  /** Number of points. */
  size: number;
  /** The points (size * dims, row-major). */
  points: Float64Array;
  /** Posterior means. */
  mean: Float64Array;
  /** Posterior variances of the latent function (noise excluded). */
  variance: Float64Array;
  /** L^-1 k(X, p) for each point p (size * n, row-major): what covariances between points need. */
  v: Float64Array;
}

/** A GP conditioned on its data: the Cholesky factor of K and K^-1 (y - mean). */
export class GpPosterior {
  readonly data: GpData;
  readonly hyper: GpHyper;
  private readonly l: Float64Array;
  private readonly alpha: Float64Array;
  readonly inverseLength2: Float64Array;

  /** Conditions on `data`; throws when K is not positive definite even with jitter. */
  constructor(data: GpData, hyper: GpHyper) {
    this.data = data;
    this.hyper = hyper;
    const { n, dims, categorical, x, y } = data;
    this.inverseLength2 = Float64Array.from(hyper.lengthscales, (l) => 1 / (l * l));
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      k[i * n + i] = hyper.signal + hyper.noise;
      for (let j = 0; j < i; j++) {
        const r2 = scaledDistance2(x, i, x, j, dims, categorical, this.inverseLength2);
        const kij = hyper.signal * matern52(Math.sqrt(r2));
        k[i * n + j] = kij;
        k[j * n + i] = kij;
      }
    }
    // The fitted noise keeps K well conditioned; the jitter is a guard for duplicates.
    const chol = cholesky(k, n, 1e-10);
    if (chol === undefined) throw new Error("GP covariance is not positive definite even with jitter");
    this.l = chol.factor;
    this.alpha = solveLowerTransposed(
      this.l,
      n,
      solveLower(
        this.l,
        n,
        Float64Array.from(y, (v) => v - hyper.mean),
      ),
    );
  }

  /**
   * Posterior means of the latent function at the training points: y - noise * K^-1 (y - m),
   * without another solve.
   */
  trainingMeans(): Float64Array {
    const { y } = this.data;
    return Float64Array.from(y, (v, i) => v - this.hyper.noise * (this.alpha[i] as number));
  }

  /** Predictions at `size` points (size * dims, row-major). */
  predict(points: Float64Array, size: number): Prediction {
    const { n, dims, categorical, x } = this.data;
    const { signal } = this.hyper;
    const l = this.l;
    const mean = new Float64Array(size);
    const variance = new Float64Array(size);
    const v = new Float64Array(size * n);
    for (let p = 0; p < size; p++) {
      const offset = p * n;
      let mu = this.hyper.mean;
      let norm2 = 0;
      // k(X, p) and forward substitution L v = k in one pass, straight into v's row for p.
      for (let i = 0; i < n; i++) {
        const ki =
          signal *
          matern52(Math.sqrt(scaledDistance2(points, p, x, i, dims, categorical, this.inverseLength2)));
        mu += ki * (this.alpha[i] as number);
        const row = i * n;
        let sum = ki;
        for (let j = 0; j < i; j++) sum -= (l[row + j] as number) * (v[offset + j] as number);
        const vi = sum / (l[row + i] as number);
        v[offset + i] = vi;
        norm2 += vi * vi;
      }
      mean[p] = mu;
      variance[p] = Math.max(0, signal - norm2);
    }
    return { size, points, mean, variance, v };
  }

  /** The posterior covariance of point a of `pa` and point b of `pb` (before any fantasy). */
  covariance(pa: Prediction, a: number, pb: Prediction, b: number): number {
    const { n, dims, categorical } = this.data;
    let c =
      this.hyper.signal *
      matern52(
        Math.sqrt(scaledDistance2(pa.points, a, pb.points, b, dims, categorical, this.inverseLength2)),
      );
    const oa = a * n;
    const ob = b * n;
    for (let i = 0; i < n; i++) c -= (pa.v[oa + i] as number) * (pb.v[ob + i] as number);
    return c;
  }
}

/**
 * A batch of candidate points under a fitted GP, with fantasies: `believe(i)` conditions on
 * point i taking the value the model predicts there (the kriging believer), which leaves
 * every mean as it is and lowers the variances near i.
 */
export class GpPool {
  /** Posterior means at the pool points. */
  readonly mean: Float64Array;
  /** Posterior latent variances at the pool points, after the fantasies so far. */
  readonly variance: Float64Array;
  private readonly posterior: GpPosterior;
  private readonly prediction: Prediction;
  /** For each fantasy so far, its scaled posterior covariance with every pool point. */
  private readonly fantasies: Float64Array[] = [];

  /** The pool of the points of `prediction` (made by `posterior.predict`). */
  constructor(posterior: GpPosterior, prediction: Prediction) {
    this.posterior = posterior;
    this.prediction = prediction;
    this.mean = Float64Array.from(prediction.mean);
    this.variance = Float64Array.from(prediction.variance);
  }

  /** Posterior covariance of pool points p and q given the data and the fantasies so far. */
  private covariance(p: number, q: number): number {
    let c = this.posterior.covariance(this.prediction, p, this.prediction, q);
    for (const f of this.fantasies) c -= (f[p] as number) * (f[q] as number);
    return c;
  }

  /**
   * Conditions on pool point `q` taking its predicted mean (observed with the fitted noise):
   * every variance drops by cov(p, q)^2 / (var(q) + noise).
   */
  believe(q: number): void {
    const size = this.prediction.size;
    const scale = 1 / Math.sqrt(Math.max(this.variance[q] as number, 0) + this.posterior.hyper.noise);
    const column = new Float64Array(size);
    for (let p = 0; p < size; p++) column[p] = this.covariance(p, q) * scale;
    for (let p = 0; p < size; p++)
      this.variance[p] = Math.max(
        0,
        (this.variance[p] as number) - (column[p] as number) * (column[p] as number),
      );
    this.fantasies.push(column);
  }
}

/** Joins predictions (of the same posterior) into one. */
export function joinPredictions(parts: readonly Prediction[], dims: number, n: number): Prediction {
  const size = parts.reduce((s, p) => s + p.size, 0);
  const out: Prediction = {
    size,
    points: new Float64Array(size * dims),
    mean: new Float64Array(size),
    variance: new Float64Array(size),
    v: new Float64Array(size * n),
  };
  let at = 0;
  for (const part of parts) {
    out.points.set(part.points.subarray(0, part.size * dims), at * dims);
    out.mean.set(part.mean, at);
    out.variance.set(part.variance, at);
    out.v.set(part.v, at * n);
    at += part.size;
  }
  return out;
}
