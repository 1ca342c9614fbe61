import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import { paramsKey, searchSpaceOf } from "../src/core/config/space.js";
import { createRandomSampler, maxRandomRedraws } from "../src/core/search/samplers/random.js";
import type { Params, TrialRecord } from "../src/core/types.js";

const m34: Record<string, ParamSpec> = {
  learning_rate: { type: "loguniform", min: 1e-5, max: 1e-4 },
  per_device_batch_size: { type: "choice", values: [1, 2, 4] },
  weight_decay: { type: "uniform", min: 0, max: 0.1 },
  warmup_steps: { type: "choice", values: [0, 10, 20] },
};
const space = searchSpaceOf(m34);
const records = (params: readonly Params[]): TrialRecord[] =>
  params.map((p, i) => ({
    trial_id: `t${String(i).padStart(4, "0")}`,
    params: p,
    status: "completed",
    primary_score: 0.5,
  }));

describe("random sampler", () => {
  it("gives the same 8 trials asked as 4 then 4 (the first 4 in the history) as asked at once", () => {
    const sampler = createRandomSampler({ space, seed: 42, metricMode: "max" });
    const atOnce = sampler.propose(8, []);
    const first = sampler.propose(4, []);
    const then = sampler.propose(4, records(first));
    expect([...first, ...then]).toEqual(atOnce);
    // Also in three uneven waves, and with failed trials in the history.
    const a = sampler.propose(3, []);
    const b = sampler.propose(
      1,
      records(a).map((r) => ({ ...r, status: "failed" as const, primary_score: null })),
    );
    const c = sampler.propose(4, records([...a, ...b]));
    expect([...a, ...b, ...c]).toEqual(atOnce);
  });

  it("draws trial i from (seed, i) only: a history of the same length gives the same draws", () => {
    const sampler = createRandomSampler({ space, seed: 42, metricMode: "max" });
    const atOnce = sampler.propose(6, []);
    const foreign = records(
      Array.from({ length: 2 }, () => ({ learning_rate: 1, per_device_batch_size: 8 })),
    );
    expect(sampler.propose(4, foreign)).toEqual(atOnce.slice(2));
  });

  it("keeps proposals stable across versions (changing them changes every plan)", () => {
    const [first] = createRandomSampler({ space, seed: 42, metricMode: "max" }).propose(1, []);
    expect(JSON.stringify(first)).toBe(
      '{"learning_rate":0.00001028331431,"per_device_batch_size":4,"weight_decay":0.08931995403,"warmup_steps":20}',
    );
  });

  it("avoids repeating a point of a small discrete space until the space is used up", () => {
    const small = searchSpaceOf({
      a: { type: "choice", values: [1, 2, 3] },
      b: { type: "randint", min: 0, max: 2 },
    });
    for (const seed of [0, 1, 2, 3, 4]) {
      const sampler = createRandomSampler({ space: small, seed, metricMode: "min" });
      const nine = sampler.propose(9, []);
      expect(new Set(nine.map((p) => paramsKey(small, p))).size).toBe(9);
      // Past the size of the space, random sampling repeats points rather than stopping.
      expect(sampler.propose(12, []).length).toBe(12);
    }
    expect(maxRandomRedraws).toBeGreaterThanOrEqual(16);
  });
});
