// The model-based samplers past their startup: the contract again with histories long
// enough for the models to run, batch diversity, constant liar / believer behaviour, TPE's
// pull towards good regions, and how numeric choices and failed trials are read.
import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import { isInSpace, paramsKey, type SearchSpace, searchSpaceOf, toUnit } from "../src/core/config/space.js";
import { createRng } from "../src/core/rng.js";
import { encodeSpace, observe } from "../src/core/search/samplers/encoding.js";
import { createSampler, resolveSampler } from "../src/core/search/samplers/index.js";
import { createTpeSampler } from "../src/core/search/samplers/tpe.js";
import type { Params, TrialRecord } from "../src/core/types.js";

const everyType: Record<string, ParamSpec> = {
  lr: { type: "loguniform", min: 1e-5, max: 1e-1 },
  wd: { type: "uniform", min: -0.5, max: 0.25 },
  layers: { type: "randint", min: -3, max: 40 },
  batch: { type: "choice", values: [1, "two", true, 0.5] },
  width: { type: "choice", values: [256, 64, 1024, 128] },
  dropout: { type: "quniform", min: 0.05, max: 0.95, q: 0.1 },
  hidden: { type: "qloguniform", min: 16, max: 4096, q: 16 },
  fixed: { type: "uniform", min: 3, max: 3 },
};
const space = searchSpaceOf(everyType);
const modelSamplers = ["gp", "tpe"] as const;

/** A smooth score over the unit positions of the numeric parameters, best near 0.3. */
function score(s: SearchSpace, params: Params): number {
  let total = 0;
  for (const { name, spec } of s) {
    if (spec.type === "choice" && !spec.values.every((v) => typeof v === "number")) continue;
    const u = toUnit(spec, params[name]);
    if (u !== undefined) total -= (u - 0.3) ** 2;
  }
  return total;
}

/** A history of `n` random points of the space, scored by `score` (or the given status). */
function randomHistory(s: SearchSpace, n: number, seed: number, status: TrialRecord["status"] = "completed") {
  const proposals = createSampler("random", { space: s, seed, metricMode: "max" }).propose(n, []);
  return proposals.map(
    (params, i): TrialRecord => ({
      trial_id: `t${String(i).padStart(4, "0")}`,
      params,
      status,
      primary_score: status === "completed" ? score(s, params) : null,
    }),
  );
}

const propose = (name: string, s: SearchSpace, seed: number, count: number, history: TrialRecord[]) =>
  createSampler(name as "gp", { space: s, seed, metricMode: "max" }).propose(count, history);

describe.each(modelSamplers)("sampler %s with a model (contract past startup)", (name) => {
  const history = randomHistory(space, 20, 1);

  it("proposes count points within the space, none of them tried", () => {
    const proposals = propose(name, space, 2, 8, history);
    expect(proposals).toHaveLength(8);
    const tried = new Set(history.map((r) => paramsKey(space, r.params)));
    for (const params of proposals) {
      expect(Object.keys(params)).toEqual(Object.keys(everyType));
      for (const { name: p, spec } of space) expect(isInSpace(spec, params[p]), `${p}`).toBe(true);
      expect(tried.has(paramsKey(space, params))).toBe(false);
    }
  });

  it("is reproducible for a seed and differs for another", () => {
    const a = propose(name, space, 5, 8, history);
    expect(JSON.stringify(propose(name, space, 5, 8, history))).toBe(JSON.stringify(a));
    expect(JSON.stringify(propose(name, space, 6, 8, history))).not.toBe(JSON.stringify(a));
  });

  it("keeps the 8 proposals of one wave apart (batch diversity)", () => {
    const cube = searchSpaceOf({
      a: { type: "uniform", min: 0, max: 1 },
      b: { type: "uniform", min: 0, max: 1 },
      c: { type: "uniform", min: 0, max: 1 },
    });
    for (const seed of [1, 2, 3]) {
      const past = randomHistory(cube, 16, seed);
      const wave = propose(name, cube, seed, 8, past);
      const keys = new Set(wave.map((p) => paramsKey(cube, p)));
      expect(keys.size).toBe(8);
      let closest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < wave.length; i++)
        for (let j = 0; j < i; j++) {
          const [p, q] = [wave[i] as Params, wave[j] as Params];
          closest = Math.min(
            closest,
            Math.hypot(
              (p.a as number) - (q.a as number),
              (p.b as number) - (q.b as number),
              (p.c as number) - (q.c as number),
            ),
          );
        }
      // Collapsed proposals (the same mode 8 times) would sit within 1e-3 of each other.
      expect(closest, `seed ${seed}`).toBeGreaterThan(0.01);
    }
  });

  it("keeps away from running trials (they are pending, not free)", () => {
    const cube = searchSpaceOf({
      a: { type: "uniform", min: 0, max: 1 },
      b: { type: "uniform", min: 0, max: 1 },
    });
    const past = randomHistory(cube, 12, 4);
    const first = propose(name, cube, 4, 8, past);
    // The same wave with its first 4 points running: the next 4 are not those again, nor
    // on top of them.
    const running = first
      .slice(0, 4)
      .map(
        (params, i): TrialRecord => ({ trial_id: `r${i}`, params, status: "running", primary_score: null }),
      );
    const next = propose(name, cube, 4, 4, [...past, ...running]);
    for (const p of next)
      for (const r of running) {
        const d = Math.hypot(
          (p.a as number) - (r.params.a as number),
          (p.b as number) - (r.params.b as number),
        );
        expect(d).toBeGreaterThan(1e-3);
      }
  });

  it("accepts failed, running and out-of-space trials mixed with scored ones", () => {
    const odd: TrialRecord[] = [
      ...history,
      { trial_id: "old-1", params: { lr: 5, other: "x" }, status: "completed", primary_score: 0.9 },
      { trial_id: "old-2", params: {}, status: "timeout", primary_score: null },
      { ...(history[0] as TrialRecord), trial_id: "old-3", status: "failed", primary_score: null },
      { trial_id: "old-4", params: history[1]?.params ?? {}, status: "completed", primary_score: Number.NaN },
    ];
    const proposals = propose(name, space, 8, 5, odd);
    expect(proposals).toHaveLength(5);
    for (const params of proposals)
      for (const { name: p, spec } of space) expect(isInSpace(spec, params[p])).toBe(true);
  });
});

describe("tpe", () => {
  it("moves towards a region where the history's good trials are", () => {
    const s = searchSpaceOf({
      x: { type: "uniform", min: 0, max: 1 },
      y: { type: "uniform", min: 0, max: 1 },
    });
    const rng = createRng(3);
    // Good trials cluster near (0.8, 0.2); the rest are spread out and worse.
    const history: TrialRecord[] = Array.from({ length: 40 }, (_, i) => {
      const near = i % 4 === 0;
      const params = near
        ? { x: 0.8 + 0.05 * (rng.next() - 0.5), y: 0.2 + 0.05 * (rng.next() - 0.5) }
        : { x: rng.next(), y: rng.next() };
      const d = Math.hypot(params.x - 0.8, params.y - 0.2);
      return { trial_id: `t${i}`, params, status: "completed", primary_score: 1 - d };
    });
    const proposals = createTpeSampler({ space: s, seed: 1, metricMode: "max" }).propose(8, history);
    const meanDistance =
      proposals.reduce((sum, p) => sum + Math.hypot((p.x as number) - 0.8, (p.y as number) - 0.2), 0) /
      proposals.length;
    // Uniform points are 0.45 away on average; proposals near the good cluster much less.
    expect(meanDistance).toBeLessThan(0.2);
    // metric_mode min reads the same scores the other way: away from the cluster.
    const away = createTpeSampler({ space: s, seed: 1, metricMode: "min" }).propose(8, history);
    const awayDistance =
      away.reduce((sum, p) => sum + Math.hypot((p.x as number) - 0.8, (p.y as number) - 0.2), 0) /
      away.length;
    expect(awayDistance).toBeGreaterThan(meanDistance * 2);
  });
});

describe("model encoding", () => {
  it("orders numeric choices by value (ordinal positions) and leaves mixed choices categorical", () => {
    const encoding = encodeSpace(space);
    const kinds = Object.fromEntries(encoding.coords.map((c) => [space[c.param]?.name, c.kind]));
    expect(kinds).toEqual({
      lr: "numeric",
      wd: "numeric",
      layers: "numeric",
      batch: "categorical",
      width: "numeric",
      dropout: "numeric",
      hidden: "numeric",
    });
    const widthAt = encoding.coords.findIndex((c) => space[c.param]?.name === "width");
    const base = encoding.decode(new Float64Array(encoding.coords.length).fill(0.5));
    const positions = [64, 128, 256, 1024].map(
      (w) => (encoding.encode({ ...base, width: w }) as Float64Array)[widthAt],
    );
    expect(positions).toEqual([0.125, 0.375, 0.625, 0.875]);
    const x = new Float64Array(encoding.coords.length).fill(0.5);
    x[widthAt] = 0.9;
    expect(encoding.decode(x).width).toBe(1024);
    x[widthAt] = 0.3;
    expect(encoding.decode(x).width).toBe(128);
  });

  it("learns from completed scores only; running and failed trials are pending; min is negated", () => {
    const s = searchSpaceOf({ a: { type: "uniform", min: 0, max: 1 } });
    const history: TrialRecord[] = [
      { trial_id: "1", params: { a: 0.1 }, status: "completed", primary_score: 2 },
      { trial_id: "2", params: { a: 0.2 }, status: "running", primary_score: null },
      { trial_id: "3", params: { a: 0.3 }, status: "failed", primary_score: null },
      { trial_id: "4", params: { a: 7 }, status: "completed", primary_score: 1 },
      { trial_id: "5", params: { a: 0.5 }, status: "completed", primary_score: null },
    ];
    const obs = observe(encodeSpace(s), history, "min");
    expect(obs.y).toEqual([-2]);
    expect(obs.pending.map((x) => x[0])).toEqual([0.2, 0.3, 0.5]);
    expect(obs.tried.size).toBe(5);
  });

  it("learns a pruned trial as poor: an observation at the worst score, pending before any score", () => {
    const s = searchSpaceOf({ a: { type: "uniform", min: 0, max: 1 } });
    const pruned: TrialRecord = { trial_id: "p", params: { a: 0.9 }, status: "pruned", primary_score: null };
    const history: TrialRecord[] = [
      { trial_id: "1", params: { a: 0.1 }, status: "completed", primary_score: 0.6 },
      pruned,
      { trial_id: "2", params: { a: 0.2 }, status: "completed", primary_score: 0.4 },
    ];
    const obs = observe(encodeSpace(s), history, "max");
    expect(obs.x.map((x) => x[0])).toEqual([0.1, 0.2, 0.9]);
    expect(obs.y).toEqual([0.6, 0.4, 0.4]);
    expect(obs.at).toEqual([0, 2, 1]);
    expect(obs.pending).toEqual([]);
    // Under min the worst is the largest score (y is negated).
    expect(observe(encodeSpace(s), history, "min").y).toEqual([-0.6, -0.4, -0.6]);
    const alone = observe(encodeSpace(s), [pruned], "max");
    expect(alone.y).toEqual([]);
    expect(alone.pending.map((x) => x[0])).toEqual([0.9]);
  });

  it("models the trials of one budget when the history mixes budgets", () => {
    const s = searchSpaceOf({ a: { type: "uniform", min: 0, max: 1 } });
    const at = (budget: number, n: number, from: number): TrialRecord[] =>
      Array.from({ length: n }, (_, i) => ({
        trial_id: `b${budget}-${i}`,
        params: { a: (from + i) / 100 },
        status: "completed",
        primary_score: budget,
        budget,
      }));
    const obs = observe(encodeSpace(s), [...at(1, 9, 0), ...at(3, 5, 20), ...at(9, 2, 40)], "max");
    expect(obs.y).toEqual([3, 3, 3, 3, 3]);
  });
});

describe("auto", () => {
  it("resolves to gp, the sampler the benchmark chose (docs/samplers.md)", () => {
    expect(resolveSampler("auto")).toBe("gp");
  });
});
