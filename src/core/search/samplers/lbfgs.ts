// A small box-constrained L-BFGS for the Gaussian-process hyperparameters (a handful of
// log-parameters): two-loop recursion for the direction, variables held at a bound left out
// of the step, backtracking (Armijo) line search on the projected point.

/** The value and gradient of a function at x (the gradient written into `grad`). */
export type ValueAndGradient = (x: Float64Array, grad: Float64Array) => number;

/** Options of `minimize`. */
export interface MinimizeOptions {
  /** Lower bounds, one per variable. */
  lower: ArrayLike<number>;
  /** Upper bounds, one per variable. */
  upper: ArrayLike<number>;
  /** Most iterations (each one line search). */
  maxIterations?: number;
  /** Pairs kept for the inverse-Hessian approximation. */
  memory?: number;
  /** Stop when the projected gradient's largest component is below this. */
  gradientTolerance?: number;
  /** Stop when an iteration improves the value by less than this, relatively. */
  valueTolerance?: number;
}

/** The minimiser found, its value and how many function evaluations it took. */
export interface MinimizeResult {
  x: Float64Array;
  value: number;
  evaluations: number;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

/**
 * Minimises f over the box [lower, upper] from x0 (clamped into the box). A value that is
 * not finite counts as +infinity, so f may return Infinity where it cannot be computed.
 */
export function minimize(
  f: ValueAndGradient,
  x0: ArrayLike<number>,
  options: MinimizeOptions,
): MinimizeResult {
  const {
    lower,
    upper,
    maxIterations = 60,
    memory = 6,
    gradientTolerance = 1e-5,
    valueTolerance = 1e-9,
  } = options;
  const n = x0.length;
  const clamp = (v: number, i: number) => Math.min(upper[i] as number, Math.max(lower[i] as number, v));
  const x = Float64Array.from(x0, (v, i) => clamp(v, i));
  const g = new Float64Array(n);
  let evaluations = 1;
  let fx = f(x, g);
  if (!Number.isFinite(fx)) return { x, value: Number.POSITIVE_INFINITY, evaluations };
  const s: Float64Array[] = [];
  const yv: Float64Array[] = [];
  const rho: number[] = [];
  const free = new Uint8Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);

  for (let iteration = 0; iteration < maxIterations; iteration++) {
    // A variable at a bound whose gradient pushes it outwards stays where it is.
    let largest = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i] as number;
      const atLower = (x[i] as number) <= (lower[i] as number) && gi > 0;
      const atUpper = (x[i] as number) >= (upper[i] as number) && gi < 0;
      free[i] = atLower || atUpper ? 0 : 1;
      if (free[i]) largest = Math.max(largest, Math.abs(gi));
    }
    if (largest < gradientTolerance) break;

    // Two-loop recursion on the free variables.
    const q = Float64Array.from(g, (v, i) => (free[i] ? v : 0));
    const alpha: number[] = [];
    for (let k = s.length - 1; k >= 0; k--) {
      const a = (rho[k] as number) * dot(s[k] as Float64Array, q);
      alpha[k] = a;
      const yk = yv[k] as Float64Array;
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) - a * (yk[i] as number);
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma =
        dot(s[last] as Float64Array, yv[last] as Float64Array) /
        dot(yv[last] as Float64Array, yv[last] as Float64Array);
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) * gamma;
    } else {
      // First step: at most a unit move in the largest component.
      const scale = 1 / Math.max(1, largest);
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) * scale;
    }
    for (let k = 0; k < s.length; k++) {
      const b = (rho[k] as number) * dot(yv[k] as Float64Array, q);
      const sk = s[k] as Float64Array;
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) + ((alpha[k] as number) - b) * (sk[i] as number);
    }
    const direction = Float64Array.from(q, (v, i) => (free[i] ? -v : 0));
    let slope = dot(direction, g);
    if (!(slope < 0)) {
      // Not a descent direction (curvature pairs gone stale): restart from steepest descent.
      s.length = 0;
      yv.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) direction[i] = free[i] ? -(g[i] as number) / Math.max(1, largest) : 0;
      slope = dot(direction, g);
      if (!(slope < 0)) break;
    }

    // Backtracking on the projected step.
    let step = 1;
    let fNew = Number.POSITIVE_INFINITY;
    let accepted = false;
    for (let tries = 0; tries < 20; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = clamp((x[i] as number) + step * (direction[i] as number), i);
      fNew = f(xNew, gNew);
      evaluations++;
      if (Number.isFinite(fNew) && fNew <= fx + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.35;
    }
    if (!accepted) break;

    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = (xNew[i] as number) - (x[i] as number);
      yk[i] = (gNew[i] as number) - (g[i] as number);
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      s.push(sk);
      yv.push(yk);
      rho.push(1 / sy);
      if (s.length > memory) {
        s.shift();
        yv.shift();
        rho.shift();
      }
    }
    const improvement = fx - fNew;
    x.set(xNew);
    g.set(gNew);
    fx = fNew;
    if (improvement < valueTolerance * Math.max(1, Math.abs(fx))) break;
  }
  return { x, value: fx, evaluations };
}
