import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import { gridValues, paramsKey, searchSpaceOf } from "../src/core/config/space.js";
import { InputError } from "../src/core/errors.js";
import { createGridSampler, defaultGridPoints } from "../src/core/search/samplers/grid.js";
import type { Params, TrialRecord } from "../src/core/types.js";

const m34: Record<string, ParamSpec> = {
  learning_rate: { type: "loguniform", min: 1e-5, max: 1e-4 },
  per_device_batch_size: { type: "choice", values: [1, 2, 4] },
  weight_decay: { type: "uniform", min: 0, max: 0.1 },
  warmup_steps: { type: "choice", values: [0, 10, 20] },
};
const space = searchSpaceOf(m34);
const records = (params: readonly Params[], status: TrialRecord["status"] = "completed"): TrialRecord[] =>
  params.map((p, i) => ({
    trial_id: `t${String(i).padStart(4, "0")}`,
    params: p,
    status,
    primary_score: null,
  }));
const grid = (seed = 42) => createGridSampler({ space, seed, metricMode: "max" });

describe("grid values per parameter", () => {
  it("discretises each type as documented", () => {
    expect(defaultGridPoints).toBe(5);
    expect(gridValues({ type: "loguniform", min: 1e-5, max: 1e-1 }, 5)).toEqual([
      1e-5, 1e-4, 1e-3, 1e-2, 1e-1,
    ]);
    expect(gridValues({ type: "uniform", min: 0, max: 0.1 }, 5)).toEqual([0, 0.025, 0.05, 0.075, 0.1]);
    expect(gridValues({ type: "randint", min: 0, max: 3 }, 5)).toEqual([0, 1, 2, 3]);
    expect(gridValues({ type: "randint", min: 0, max: 20 }, 5)).toEqual([0, 5, 10, 15, 20]);
    expect(gridValues({ type: "quniform", min: 0, max: 0.3, q: 0.1 }, 5)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(gridValues({ type: "quniform", min: 0, max: 1, q: 0.1 }, 5)).toEqual([0, 0.3, 0.5, 0.8, 1]);
    expect(gridValues({ type: "qloguniform", min: 1, max: 1000, q: 1 }, 5)).toEqual([1, 6, 32, 178, 1000]);
    expect(gridValues({ type: "choice", values: ["a", false, 3] }, 5)).toEqual(["a", false, 3]);
    expect(gridValues({ type: "uniform", min: 2, max: 2 }, 5)).toEqual([2]);
  });
});

describe("grid sampler", () => {
  it("visits the whole Cartesian product once, then stops", () => {
    const sampler = grid();
    expect(sampler.size).toBe(5 * 3 * 5 * 3);
    const all = sampler.propose(1000, []);
    expect(all.length).toBe(225);
    const keys = new Set(all.map((p) => paramsKey(space, p)));
    expect(keys.size).toBe(225);
    for (const lr of gridValues(m34.learning_rate as ParamSpec, 5)) {
      for (const bs of [1, 2, 4]) {
        for (const wd of [0, 0.025, 0.05, 0.075, 0.1]) {
          for (const ws of [0, 10, 20]) {
            expect(
              keys.has(
                paramsKey(space, {
                  learning_rate: lr,
                  per_device_batch_size: bs,
                  weight_decay: wd,
                  warmup_steps: ws,
                }),
              ),
            ).toBe(true);
          }
        }
      }
    }
    // Exhausted: no point left, whatever the status of the trials that tried them.
    expect(sampler.propose(5, records(all, "failed"))).toEqual([]);
    expect(sampler.propose(5, records(all.slice(0, 223)))).toEqual(all.slice(223));
  });

  it("gives the same points asked 4 then 4 as asked 8 at once, and skips points in the history", () => {
    const sampler = grid();
    const atOnce = sampler.propose(8, []);
    const first = sampler.propose(4, []);
    expect([...first, ...sampler.propose(4, records(first))]).toEqual(atOnce);
    // A history point that the order would give first is skipped, not repeated.
    expect(sampler.propose(3, records([atOnce[0] as Params]))).toEqual(atOnce.slice(1, 4));
  });

  it("visits a shuffled order fixed by the seed, spread over the space", () => {
    const first = grid(42).propose(9, []);
    expect(grid(42).propose(9, [])).toEqual(first);
    expect(grid(43).propose(9, [])).not.toEqual(first);
    // Not the odometer order (which varies only warmup_steps first).
    for (const name of Object.keys(m34)) expect(new Set(first.map((p) => p[name])).size).toBeGreaterThan(1);
  });

  it("refuses a grid too large to walk", () => {
    const huge = searchSpaceOf(
      Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [`p${i}`, { type: "uniform", min: 0, max: 1 } as ParamSpec]),
      ),
    );
    expect(() => createGridSampler({ space: huge, seed: 1, metricMode: "max" })).toThrow(InputError);
    expect(() => createGridSampler({ space: huge, seed: 1, metricMode: "max" })).toThrow(
      /use sampler random/,
    );
  });

  it("proposes from a large grid without listing it", () => {
    const big = searchSpaceOf(
      Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`p${i}`, { type: "uniform", min: 0, max: 1 } as ParamSpec]),
      ),
    );
    const sampler = createGridSampler({ space: big, seed: 1, metricMode: "max" });
    expect(sampler.size).toBe(5 ** 20);
    const points = sampler.propose(50, []);
    expect(new Set(points.map((p) => paramsKey(big, p))).size).toBe(50);
  });
});
