// One contract that every sampler honours (the optuna habit: bounds, types, same seed -> same
// params, other seed -> other params), run against each registered sampler name.
import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import {
  decimalPlaces,
  isInSpace,
  paramsKey,
  type SearchSpace,
  searchSpaceOf,
} from "../src/core/config/space.js";
import { createSampler, samplerNames } from "../src/core/search/samplers/index.js";
import type { Params, TrialRecord } from "../src/core/types.js";

/** Every parameter type, with awkward but valid bounds. */
const everyType: Record<string, ParamSpec> = {
  lr: { type: "loguniform", min: 1e-5, max: 1e-1 },
  wd: { type: "uniform", min: -0.5, max: 0.25 },
  layers: { type: "randint", min: -3, max: 40 },
  batch: { type: "choice", values: [1, "two", true, 0.5] },
  dropout: { type: "quniform", min: 0.05, max: 0.95, q: 0.1 },
  hidden: { type: "qloguniform", min: 16, max: 4096, q: 16 },
  fixed: { type: "uniform", min: 3, max: 3 },
};
const space = searchSpaceOf(everyType);

const history = (params: readonly Params[], status: TrialRecord["status"] = "completed"): TrialRecord[] =>
  params.map((p, i) => ({
    trial_id: `t${String(i).padStart(4, "0")}`,
    params: p,
    status,
    primary_score: status === "completed" ? i / 100 : null,
  }));

const propose = (
  name: (typeof samplerNames)[number],
  s: SearchSpace,
  seed: number,
  count: number,
  past: TrialRecord[] = [],
) => createSampler(name, { space: s, seed, metricMode: "max" }).propose(count, past);

describe.each(samplerNames)("sampler %s (contract)", (name) => {
  it("proposes at most count points, every parameter in the space's order and within the space", () => {
    const proposals = propose(name, space, 1, 300);
    expect(proposals.length).toBeGreaterThan(0);
    expect(proposals.length).toBeLessThanOrEqual(300);
    expect(propose(name, space, 1, 0)).toEqual([]);
    for (const params of proposals) {
      expect(Object.keys(params)).toEqual(Object.keys(everyType));
      for (const { name: param, spec } of space) {
        const value = params[param];
        expect(isInSpace(spec, value), `${param} = ${String(value)}`).toBe(true);
        if (spec.type === "randint") expect(Number.isInteger(value)).toBe(true);
        if (spec.type === "choice") expect(spec.values).toContain(value);
        if (spec.type === "quniform" || spec.type === "qloguniform") {
          // Written cleanly: no more decimals than q has (no 0.30000000000000004).
          expect(decimalPlaces(value as number)).toBeLessThanOrEqual(
            decimalPlaces((spec as { q: number }).q),
          );
        }
      }
    }
  });

  it("covers a loguniform range evenly per decade", () => {
    const oneParam = searchSpaceOf({ lr: { type: "loguniform", min: 1e-5, max: 1e-1 } });
    const values = propose(name, oneParam, 3, 2000).map((p) => p.lr as number);
    const decades = [0, 1, 2, 3].map(
      (d) => values.filter((v) => Math.min(3, Math.floor(Math.log10(v) + 5)) === d).length,
    );
    // Uniform on the log scale puts a quarter in each decade; uniform on the linear scale
    // would put about 90% in the last one.
    for (const count of decades) {
      expect(count / values.length).toBeGreaterThan(0.15);
      expect(count / values.length).toBeLessThan(0.45);
    }
  });

  it("gives the same proposals for the same seed and history", () => {
    const past = history(propose(name, space, 5, 3), "failed");
    const a = propose(name, space, 9, 20, past);
    const b = propose(name, space, 9, 20, past);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it("gives other proposals for another seed", () => {
    const a = propose(name, space, 9, 10);
    const b = propose(name, space, 10, 10);
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
  });

  it("does not propose again a point of the history, whatever its status", () => {
    const first = propose(name, space, 4, 12);
    const past = [...history(first.slice(0, 6), "completed"), ...history(first.slice(6), "failed")].map(
      (r, i) => ({
        ...r,
        trial_id: `t${String(i).padStart(4, "0")}`,
      }),
    );
    const next = propose(name, space, 4, 12, past);
    expect(next.length).toBe(12);
    const seen = new Set(first.map((p) => paramsKey(space, p)));
    for (const params of next) expect(seen.has(paramsKey(space, params))).toBe(false);
  });

  it("accepts a history with params outside the space, extra keys or missing ones", () => {
    const odd: TrialRecord[] = [
      { trial_id: "old-1", params: { lr: 5, other: "x" }, status: "completed", primary_score: 0.9 },
      { trial_id: "old-2", params: {}, status: "timeout", primary_score: null },
      {
        trial_id: "old-3",
        params: { ...propose(name, space, 8, 1)[0] },
        status: "running",
        primary_score: null,
      },
    ];
    const proposals = propose(name, space, 8, 5, odd);
    expect(proposals.length).toBe(5);
    for (const params of proposals)
      for (const { name: p, spec } of space) expect(isInSpace(spec, params[p])).toBe(true);
  });
});
