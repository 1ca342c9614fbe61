// Small dense linear algebra for the Gaussian-process sampler: symmetric positive-definite
// matrices as row-major Float64Arrays of n * n, Cholesky factors as their lower triangles.

/**
 * The Cholesky factor L (lower, row-major, L L^T = A) of a symmetric positive-definite n x n
 * matrix. When a pivot is not positive (A singular or nearly so), the factorisation starts
 * again with `jitter` times the mean diagonal added to the diagonal, the jitter growing
 * tenfold up to 1e-2 of it; returns undefined past that. `added` tells what was added.
 */
export function cholesky(
  a: Float64Array,
  n: number,
  jitter = 1e-10,
): { factor: Float64Array; added: number } | undefined {
  let meanDiagonal = 0;
  for (let i = 0; i < n; i++) meanDiagonal += a[i * n + i] ?? 0;
  meanDiagonal = Math.max(meanDiagonal / Math.max(1, n), Number.MIN_VALUE);
  const l = new Float64Array(n * n);
  for (let added = 0, step = jitter; ; ) {
    if (factorInto(a, n, added, l)) return { factor: l, added };
    if (step > 1e-2) return undefined;
    added = step * meanDiagonal;
    step *= 10;
  }
}

/** Writes the Cholesky factor of A + added * I into l; false when a pivot is not positive. */
function factorInto(a: Float64Array, n: number, added: number, l: Float64Array): boolean {
  l.fill(0);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let pivot = (a[rowJ + j] ?? 0) + added;
    for (let k = 0; k < j; k++) {
      const v = l[rowJ + k] ?? 0;
      pivot -= v * v;
    }
    if (!(pivot > 0) || !Number.isFinite(pivot)) return false;
    const diagonal = Math.sqrt(pivot);
    l[rowJ + j] = diagonal;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = a[rowI + j] ?? 0;
      for (let k = 0; k < j; k++) sum -= (l[rowI + k] ?? 0) * (l[rowJ + k] ?? 0);
      l[rowI + j] = sum / diagonal;
    }
  }
  return true;
}

/** Solves L z = b for z (forward substitution), L lower triangular n x n; returns a new array. */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= (l[row + k] ?? 0) * (z[k] ?? 0);
    z[i] = sum / (l[row + i] ?? 1);
  }
  return z;
}

/** Solves L^T x = z for x (back substitution), L lower triangular n x n; returns a new array. */
export function solveLowerTransposed(l: Float64Array, n: number, z: ArrayLike<number>): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] ?? 0;
    for (let k = i + 1; k < n; k++) sum -= (l[k * n + i] ?? 0) * (x[k] ?? 0);
    x[i] = sum / (l[i * n + i] ?? 1);
  }
  return x;
}

/** Solves A x = b given the Cholesky factor L of A. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  return solveLowerTransposed(l, n, solveLower(l, n, b));
}

/** A^-1 (row-major, symmetric) from the Cholesky factor L of A: (L^-1)^T L^-1. */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  // Columns of L^-1, by forward substitution on the unit vectors; only the lower part is nonzero.
  const inv = new Float64Array(n * n); // inv[i * n + j] = (L^-1)_{ij}
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / (l[j * n + j] ?? 1);
    for (let i = j + 1; i < n; i++) {
      const row = i * n;
      let sum = 0;
      for (let k = j; k < i; k++) sum -= (l[row + k] ?? 0) * (inv[k * n + j] ?? 0);
      inv[row + j] = sum / (l[row + i] ?? 1);
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      // (A^-1)_{ij} = sum_k (L^-1)_{ki} (L^-1)_{kj}, over k >= max(i, j) = i.
      let sum = 0;
      for (let k = i; k < n; k++) sum += (inv[k * n + i] ?? 0) * (inv[k * n + j] ?? 0);
      out[i * n + j] = sum;
      out[j * n + i] = sum;
    }
  }
  return out;
}

/** log det A from the Cholesky factor L of A: 2 * sum log L_ii. */
export function choleskyLogDet(l: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.log(l[i * n + i] ?? 1);
  return 2 * sum;
}
