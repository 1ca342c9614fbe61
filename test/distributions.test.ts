/**
 * The normal and beta CDFs and quantiles behind the normal, lognormal and beta parameter
 * types, against scipy.stats (skipped where python3 has no scipy), and the types sampled.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { betaCdf, betaQuantile, normalCdf, normalQuantile } from "../src/core/config/distributions.js";
import { fromUnit, isInSpace, toUnit } from "../src/core/config/space.js";

function scipy(script: string, input: unknown): unknown {
  return JSON.parse(execFileSync("python3", ["-c", script], { input: JSON.stringify(input) }).toString());
}
const hasScipy = (() => {
  try {
    execFileSync("python3", ["-c", "import scipy.stats"]);
    return true;
  } catch {
    return false;
  }
})();
const close = (got: number[], want: number[], rel: number) =>
  got.forEach((g, i) => {
    const w = want[i] as number;
    expect(Math.abs(g - w), `${i}: ${g} vs ${w}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(w), 1e-300));
  });

describe.skipIf(!hasScipy)("CDFs and quantiles, against scipy.stats", () => {
  const xs = [-8, -3, -1.5, -0.6, -0.4, 0, 0.3, 0.5, 0.51, 1, 2.5, 6];
  const ps = [1e-10, 1e-3, 0.02, 0.3, 0.5, 0.77, 0.99, 1 - 1e-7];
  const shapes = [
    [0.5, 0.5],
    [2, 5],
    [1, 1],
    [10, 0.7],
    [0.3, 3],
  ];
  it("the normal's", () => {
    const want = scipy(
      "import json,sys; from scipy.stats import norm; d=json.load(sys.stdin); print(json.dumps([[float(norm.cdf(x)) for x in d['x']], [float(norm.ppf(p)) for p in d['p']]]))",
      { x: xs, p: ps },
    ) as [number[], number[]];
    close(xs.map(normalCdf), want[0], 1e-12);
    close(ps.map(normalQuantile), want[1], 1e-9);
  });
  it("the beta's", () => {
    const at = [0.001, 0.01, 0.3, 0.5, 0.9, 0.999];
    const want = scipy(
      "import json,sys; from scipy.stats import beta; d=json.load(sys.stdin); print(json.dumps([[float(beta.cdf(x,a,b)) for a,b in d['s'] for x in d['x']], [float(beta.ppf(p,a,b)) for a,b in d['s'] for p in d['x']]]))",
      { s: shapes, x: at },
    ) as [number[], number[]];
    close(
      shapes.flatMap(([a, b]) => at.map((x) => betaCdf(x, a as number, b as number))),
      want[0],
      1e-12,
    );
    close(
      shapes.flatMap(([a, b]) => at.map((p) => betaQuantile(p, a as number, b as number))),
      want[1],
      1e-9,
    );
  });
});

describe("the normal, lognormal and beta types in the unit cube", () => {
  const us = Array.from({ length: 2000 }, (_, i) => (i + 0.5) / 2000);
  it("normal(mu, sigma): quantiles with the right mean and spread; toUnit inverts fromUnit", () => {
    const spec = { type: "normal", mu: 3, sigma: 0.5 } as const;
    const v = us.map((u) => fromUnit(spec, u) as number);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(mean).toBeCloseTo(3, 3);
    expect(sd).toBeCloseTo(0.5, 2);
    for (const u of [0.01, 0.3, 0.77]) expect(toUnit(spec, fromUnit(spec, u))).toBeCloseTo(u, 8);
  });
  it("lognormal and q: positive values, multiples of q, in the space", () => {
    const spec = { type: "lognormal", mu: 0, sigma: 1, q: 0.5 } as const;
    const v = us.map((u) => fromUnit(spec, u) as number);
    expect(v.every((x) => x >= 0 && Number.isInteger(x / 0.5))).toBe(true);
    expect(v.every((x) => isInSpace(spec, x))).toBe(true);
    expect(isInSpace(spec, 0.3)).toBe(false);
  });
  it("beta(a, b): values in [0, 1] with mean a / (a + b)", () => {
    const spec = { type: "beta", a: 2, b: 6 } as const;
    const v = us.map((u) => fromUnit(spec, u) as number);
    expect(v.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(v.reduce((a, b) => a + b, 0) / v.length).toBeCloseTo(0.25, 3);
  });
});
