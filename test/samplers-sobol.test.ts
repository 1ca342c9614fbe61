import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import { paramsKey, searchSpaceOf, toUnit } from "../src/core/config/space.js";
import {
  createSobolSampler,
  sobolInteger,
  sobolMaxDims,
  sobolUnits,
} from "../src/core/search/samplers/sobol.js";
import type { Params, TrialRecord } from "../src/core/types.js";

const records = (params: readonly Params[]): TrialRecord[] =>
  params.map((p, i) => ({
    trial_id: `t${String(i).padStart(4, "0")}`,
    params: p,
    status: "completed",
    primary_score: 0.5,
  }));

describe("Sobol sequence (Joe-Kuo direction numbers)", () => {
  it("gives the published unscrambled points", () => {
    // The first points of dimensions 1..6 (Gray-code order), as Joe and Kuo's program and
    // scipy.stats.qmc.Sobol(scramble=False) print them.
    const expected = [
      [0, 0, 0, 0, 0, 0],
      [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
      [0.75, 0.25, 0.25, 0.25, 0.75, 0.75],
      [0.25, 0.75, 0.75, 0.75, 0.25, 0.25],
      [0.375, 0.375, 0.625, 0.875, 0.375, 0.125],
      [0.875, 0.875, 0.125, 0.375, 0.875, 0.625],
      [0.625, 0.125, 0.875, 0.625, 0.625, 0.875],
      [0.125, 0.625, 0.375, 0.125, 0.125, 0.375],
      [0.1875, 0.3125, 0.9375, 0.4375, 0.5625, 0.3125],
      [0.6875, 0.8125, 0.4375, 0.9375, 0.0625, 0.8125],
    ];
    expected.forEach((point, i) => {
      expect(point.map((_, d) => sobolInteger(i, d) / 2 ** 32)).toEqual(point);
    });
    // The last dimension with direction numbers (40), points 37 and 63.
    expect(sobolMaxDims).toBe(40);
    expect(sobolInteger(37, 39) / 2 ** 32).toBe(0.078125);
    expect(sobolInteger(63, 39) / 2 ** 32).toBe(0.171875);
    expect(sobolInteger(63, 10) / 2 ** 32).toBe(0.421875);
  });

  it("keeps the net structure when scrambled: one of the first 2^m points in each 1/2^m bin", () => {
    for (const seed of [0, 1, 42, 2 ** 32 - 1]) {
      for (const m of [3, 4, 5]) {
        const points = Array.from({ length: 2 ** m }, (_, i) => sobolUnits(i, 21, seed));
        for (let d = 0; d < 21; d++) {
          const bins = new Set(points.map((p) => Math.floor((p[d] as number) * 2 ** m)));
          expect(bins.size, `seed ${seed}, ${2 ** m} points, dimension ${d + 1}`).toBe(2 ** m);
        }
      }
      // Dimensions 1 and 2 form a (0, 4, 2)-net: the first 16 points fill a 4 x 4 grid.
      const cells = new Set(
        Array.from({ length: 16 }, (_, i) => {
          const [a = 0, b = 0] = sobolUnits(i, 2, seed);
          return `${Math.floor(a * 4)},${Math.floor(b * 4)}`;
        }),
      );
      expect(cells.size).toBe(16);
    }
  });

  it("scrambles differently for another seed, and each point lies in [0, 1)", () => {
    const a = sobolUnits(5, 8, 1);
    const b = sobolUnits(5, 8, 2);
    expect(a).not.toEqual(b);
    for (const u of [...a, ...b, ...sobolUnits(3, 50, 9)]) {
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
    expect(sobolUnits(3, 50, 9)).toHaveLength(50);
  });

  it("has a uniform mean over seeds (the scramble makes each point uniform)", () => {
    let sum = 0;
    const seeds = 400;
    for (let s = 0; s < seeds; s++) sum += sobolUnits(0, 1, s)[0] as number;
    expect(Math.abs(sum / seeds - 0.5)).toBeLessThan(0.05);
  });
});

describe("sobol sampler", () => {
  const space = searchSpaceOf({
    lr: { type: "loguniform", min: 1e-5, max: 1e-1 },
    batch: { type: "choice", values: [8, 16, 32, 64] },
    warmup: { type: "randint", min: 0, max: 100 },
  });

  it("gives the same 8 trials asked as 4 then 4 as asked at once", () => {
    const sampler = createSobolSampler({ space, seed: 3, metricMode: "max" });
    const atOnce = sampler.propose(8, []);
    const first = sampler.propose(4, []);
    const then = sampler.propose(4, records(first));
    expect([...first, ...then]).toEqual(atOnce);
  });

  it("covers each parameter evenly in its first 8 trials", () => {
    const proposals = createSobolSampler({ space, seed: 11, metricMode: "max" }).propose(8, []);
    const lrBins = new Set(
      proposals.map((p) => Math.floor((toUnit((space[0] as { spec: ParamSpec }).spec, p.lr) as number) * 8)),
    );
    expect(lrBins.size).toBe(8);
    const batches = proposals.map((p) => p.batch);
    for (const b of [8, 16, 32, 64]) expect(batches.filter((x) => x === b)).toHaveLength(2);
  });

  it("never repeats a point of a small discrete space until it is exhausted", () => {
    const small = searchSpaceOf({
      a: { type: "choice", values: [1, 2, 3] },
      b: { type: "choice", values: ["x", "y"] },
    });
    const sampler = createSobolSampler({ space: small, seed: 5, metricMode: "max" });
    const first = sampler.propose(4, []);
    const rest = sampler.propose(2, records(first));
    const keys = new Set([...first, ...rest].map((p) => paramsKey(small, p)));
    expect(keys.size).toBe(6);
    // All 6 points tried: a further proposal may only repeat one.
    expect(sampler.propose(1, records([...first, ...rest]))).toHaveLength(1);
  });
});
