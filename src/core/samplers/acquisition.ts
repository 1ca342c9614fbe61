// Expected improvement, in logs so that tiny improvements far from the incumbent still rank.

const inverseSqrt2 = 1 / Math.SQRT2;
const logSqrt2Pi = 0.5 * Math.log(2 * Math.PI);

/**
 * erfc(x) for x >= 0 with a relative error below 1.2e-7: the Chebyshev-fitted exponential
 * form of Numerical Recipes ("erfcc", Press et al., 2nd ed., section 6.2).
 */
function erfcNonNegative(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-x * x + poly);
}

/** The standard normal distribution function Φ(z). */
export function normalCdf(z: number): number {
  const x = z * inverseSqrt2;
  return x >= 0 ? 1 - 0.5 * erfcNonNegative(x) : 0.5 * erfcNonNegative(-x);
}

/** log of h(z) = φ(z) + z Φ(z), the expected improvement of a unit normal over its mean - z. */
export function logH(z: number): number {
  if (z > -8) {
    const h = Math.exp(-0.5 * z * z - logSqrt2Pi) + z * normalCdf(z);
    return Math.log(Math.max(h, Number.MIN_VALUE));
  }
  // Far below: h(z) = φ(z) / z^2 (1 - 3/z^2 + 15/z^4 - 105/z^6 + ...), the asymptotic series.
  const w = 1 / (z * z);
  return -0.5 * z * z - logSqrt2Pi + Math.log(w) + Math.log(1 - 3 * w + 15 * w * w - 105 * w * w * w);
}

/**
 * log EI of a normal posterior N(mean, sd^2) over `best` (larger is better):
 * log(sd) + log h((mean - best) / sd). -Infinity where sd is 0 and mean <= best.
 */
export function logExpectedImprovement(mean: number, sd: number, best: number): number {
  if (!(sd > 1e-12)) return mean > best ? Math.log(mean - best) : Number.NEGATIVE_INFINITY;
  return Math.log(sd) + logH((mean - best) / sd);
}
