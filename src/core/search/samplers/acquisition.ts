// Expected improvement, in logs so that tiny improvements far from the incumbent still rank.

const inverseSqrt2 = 1 / Math.SQRT2;
const logSqrt2Pi = 0.5 * Math.log(2 * Math.PI);

/**
 * erfc(x) for x >= 0 with a relative error below 1.2e-7: the Chebyshev-fitted exponential
 * form of Numerical Recipes ("erfcc", Press et al., 2nd ed., section 6.2).
 */
function erfcNonNegative(x: number): number {
  return erfcScaled(x) * Math.exp(-x * x);
}

/** exp(x^2) erfc(x) for x >= 0, by the same fit: no underflow for large x. */
function erfcScaled(x: number): number {
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
  return t * Math.exp(poly);
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

const sqrt2Pi = Math.sqrt(2 * Math.PI);

/** Mills ratio Φ(-u) / φ(u), without underflow for large u. */
function millsRatio(u: number): number {
  if (u < 0) return normalCdf(-u) / Math.exp(-0.5 * u * u - logSqrt2Pi);
  // Φ(-u) = erfc(u / √2) / 2, and exp(-u^2 / 2) cancels against φ(u).
  return 0.5 * sqrt2Pi * erfcScaled(u * inverseSqrt2);
}

/**
 * How much one more trial is expected to improve the *recommended* trial (the one with the
 * best observed score) when scores are noisy: E[(f - winnerMean) 1{f + e > bestObserved}]
 * for a latent value f ~ N(mean, sd^2) and noise e ~ N(0, noise). A trial changes the
 * recommendation only by beating the best observed score; it then gains its own true value
 * over the current winner's (by the model, winnerMean), which is a loss when a mediocre
 * trial wins by luck. With noise 0 and the winner's mean equal to its score this is expected
 * improvement. Returned as a ranking score: log of the gain where it is positive, and below
 * every such log (ordered by the gain) where it is not.
 */
export function selectionGainScore(
  mean: number,
  sd: number,
  noise: number,
  bestObserved: number,
  winnerMean: number,
): number {
  const sy = Math.sqrt(sd * sd + noise);
  if (!(sy > 1e-12)) return mean > winnerMean && mean > bestObserved ? Math.log(mean - winnerMean) : -1e12;
  const u = (bestObserved - mean) / sy;
  const a = (mean - winnerMean) / sy;
  const rho = (sd * sd) / (sy * sy);
  // gain = sy φ(u) (rho + a R(u)), R the Mills ratio.
  const factor = rho + a * millsRatio(u);
  const logPhi = -0.5 * u * u - logSqrt2Pi;
  if (factor > 0) return Math.log(sy) + logPhi + Math.log(factor);
  return -1e12 + Math.max(-1e3, sy * Math.exp(logPhi) * factor);
}
