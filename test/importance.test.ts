// Parameter importance (fANOVA on a random forest): the exact variance decomposition by hand
// and against a brute-force grid, the forest on data whose answer is known, and the report's
// contract (order, notes, no NaN, determinism, which trials count).
import { describe, expect, it } from "vitest";
import type { ParamSpec } from "../src/core/config/config.js";
import { type SearchSpace, searchSpaceOf, toUnit } from "../src/core/config/space.js";
import { decomposeVariance, parameterImportance } from "../src/core/report/importance.js";
import { type ForestFeature, fitForest, type LeafRegion } from "../src/core/report/random-forest.js";
import { createRng } from "../src/core/rng.js";
import { createSampler } from "../src/core/search/samplers/index.js";
import type { Params, TrialRecord } from "../src/core/types.js";

const numeric = { kind: "numeric", levels: 0 } as const;
const categorical = (levels: number) => ({ kind: "categorical", levels }) as const;

/** A leaf from per-coordinate extents: [low, high] for numeric ones, a list of levels for categorical ones. */
function leaf(
  value: number,
  extents: ReadonlyArray<readonly [number, number] | { levels: number[]; of: number }>,
) {
  return {
    value,
    low: Float64Array.from(extents, (e) => ("of" in e ? 0 : e[0])),
    high: Float64Array.from(extents, (e) => ("of" in e ? 1 : e[1])),
    levels: extents.map((e) =>
      "of" in e ? Uint8Array.from({ length: e.of }, (_, i) => (e.levels.includes(i) ? 1 : 0)) : undefined,
    ),
  } satisfies LeafRegion;
}

const mixedSpace: Record<string, ParamSpec> = {
  lr: { type: "loguniform", min: 1e-5, max: 1e-1 },
  wd: { type: "uniform", min: 0, max: 0.1 },
  warmup: { type: "randint", min: 0, max: 100 },
  batch: { type: "choice", values: [8, 16, 32, 64] },
  optimizer: { type: "choice", values: ["adam", "sgd", "adamw"] },
  dropout: { type: "quniform", min: 0, max: 0.5, q: 0.05 },
};
const space = searchSpaceOf(mixedSpace);
const unit = (name: string, value: unknown) =>
  toUnit(space.find((p) => p.name === name)?.spec as ParamSpec, value) as number;

/** `count` random trials of `s` (the random sampler), scored by `score` plus uniform noise. */
function sweep(
  s: SearchSpace,
  count: number,
  seed: number,
  score: (params: Params) => number,
  noise = 0.02,
): TrialRecord[] {
  const rng = createRng(seed, "test-noise");
  return createSampler("random", { space: s, seed, metricMode: "max" })
    .propose(count, [])
    .map((params, i) => ({
      trial_id: `t${String(i).padStart(4, "0")}`,
      params,
      status: "completed",
      primary_score: score(params) + noise * (rng.next() - 0.5),
    }));
}

/** Two parameters of six drive the score: lr (a bump on the log scale) and warmup (rising). */
const twoDrivers = (p: Params) =>
  0.4 + 0.3 * Math.exp(-((unit("lr", p.lr) - 0.6) ** 2) / 0.05) + 0.2 * unit("warmup", p.warmup) ** 2;

describe("decomposeVariance (exact functional ANOVA of one tree)", () => {
  it("matches a two-parameter tree computed by hand", () => {
    // x1 < 0.5: x2 < 0.25 -> 0, else 4; x1 >= 0.5 -> 2. Mean 2.5, E[f^2] 8, variance 1.75.
    // Main effect of x1: 3 on [0, .5), 2 on [.5, 1]: variance .5*9 + .5*4 - 6.25 = 0.25.
    // Main effect of x2: 1 on [0, .25), 3 on [.25, 1]: variance .25 + .75*9 - 6.25 = 0.75.
    const leaves = [
      leaf(0, [
        [0, 0.5],
        [0, 0.25],
      ]),
      leaf(4, [
        [0, 0.5],
        [0.25, 1],
      ]),
      leaf(2, [
        [0.5, 1],
        [0, 1],
      ]),
    ];
    const { total, main } = decomposeVariance(leaves, [numeric, numeric]);
    expect(total).toBeCloseTo(1.75, 14);
    expect(main[0]).toBeCloseTo(0.25, 14);
    expect(main[1]).toBeCloseTo(0.75, 14);
  });

  it("matches a categorical subset split computed by hand, each level of equal weight", () => {
    // c in {0, 2} -> 1; c = 1: u < .4 -> 4, else 10. Volumes 2/3, 2/15, 1/5: mean 3.2,
    // E[f^2] 22.8, variance 12.56. Main effect of c: 1, 7.6, 1 -> (1 + 57.76 + 1)/3 - 10.24 = 9.68.
    // Main effect of u: 2 on [0, .4), 4 on [.4, 1] -> 1.6 + 9.6 - 10.24 = 0.96.
    const leaves = [
      leaf(1, [{ levels: [0, 2], of: 3 }, [0, 1]]),
      leaf(4, [{ levels: [1], of: 3 }, [0, 0.4]]),
      leaf(10, [{ levels: [1], of: 3 }, [0.4, 1]]),
    ];
    const { total, main } = decomposeVariance(leaves, [categorical(3), numeric]);
    expect(total).toBeCloseTo(12.56, 12);
    expect(main[0]).toBeCloseTo(9.68, 12);
    expect(main[1]).toBeCloseTo(0.96, 12);
  });

  it("matches a brute-force average over every cell of fitted trees' partitions", () => {
    const features: ForestFeature[] = [numeric, categorical(3), numeric];
    const rng = createRng(5, "brute-force");
    const x = Array.from({ length: 40 }, () => Float64Array.of(rng.next(), rng.int(3), rng.next()));
    const y = x.map(
      (r) => Math.sin(6 * (r[0] as number)) + (r[1] === 1 ? 1 : 0) * (r[2] as number) + rng.next(),
    );
    const forest = fitForest(features, x, y, {
      trees: 5,
      featureFraction: 0.7,
      minSamplesLeaf: 1,
      maxDepth: 64,
      seed: 3,
    });
    for (const { leaves } of forest) {
      // The cells of the grid: between every split point of each numeric coordinate; each level.
      const cuts = [0, 2].map((k) => [...new Set(leaves.flatMap((l) => [l.low[k], l.high[k]]))].sort());
      const cells = cuts.map((edges) =>
        edges.slice(1).map((high, i) => ({
          at: ((edges[i] as number) + (high as number)) / 2,
          width: (high as number) - (edges[i] as number),
        })),
      );
      const [cellsA = [], cellsC = []] = cells;
      const predict = (a: number, b: number, c: number) => {
        const hits = leaves.filter(
          (l) =>
            (l.low[0] as number) <= a &&
            a < (l.high[0] as number) &&
            l.levels[1]?.[b] === 1 &&
            (l.low[2] as number) <= c &&
            c < (l.high[2] as number),
        );
        expect(hits).toHaveLength(1); // the leaves partition the space
        return (hits[0] as LeafRegion).value;
      };
      // f on the grid, weighted by cell volume; then the averages defining each main effect.
      let mean = 0;
      let square = 0;
      const byA = new Map<number, number>();
      const byB = [0, 0, 0];
      const byC = new Map<number, number>();
      for (const ca of cellsA)
        for (let b = 0; b < 3; b++)
          for (const cc of cellsC) {
            const w = (ca.width * cc.width) / 3;
            const f = predict(ca.at, b, cc.at);
            mean += w * f;
            square += w * f * f;
            byA.set(ca.at, (byA.get(ca.at) ?? 0) + (w / ca.width) * f);
            byB[b] = (byB[b] as number) + 3 * w * f;
            byC.set(cc.at, (byC.get(cc.at) ?? 0) + (w / cc.width) * f);
          }
      const variance = square - mean * mean;
      const mainA = cellsA.reduce((s, ca) => s + ca.width * ((byA.get(ca.at) as number) - mean) ** 2, 0);
      const mainB = byB.reduce((s, v) => s + (v - mean) ** 2 / 3, 0);
      const mainC = cellsC.reduce((s, cc) => s + cc.width * ((byC.get(cc.at) as number) - mean) ** 2, 0);

      const exact = decomposeVariance(leaves, features);
      expect(variance).toBeGreaterThan(0);
      expect(exact.total).toBeCloseTo(variance, 10);
      expect(exact.main[0]).toBeCloseTo(mainA, 10);
      expect(exact.main[1]).toBeCloseTo(mainB, 10);
      expect(exact.main[2]).toBeCloseTo(mainC, 10);
    }
  });
});

describe("the random forest", () => {
  it("grows stumps, each from its own bootstrap sample, that all split on the one parameter that separates the scores", () => {
    // y is a step in x1 at 0.5, x2 a shuffle of the same grid. Every depth-1 tree trying both
    // features splits x1 into two pure leaves, 0 and 1: a stump is all main effect, all x1's.
    const x = Array.from({ length: 40 }, (_, i) =>
      Float64Array.of((i + 0.5) / 40, (((i * 17) % 40) + 0.5) / 40),
    );
    const y = x.map((r) => ((r[0] as number) > 0.5 ? 1 : 0));
    const forest = fitForest([numeric, numeric], x, y, {
      trees: 16,
      featureFraction: 1,
      minSamplesLeaf: 1,
      maxDepth: 1,
      seed: 0,
    });
    for (const { leaves } of forest) {
      expect(leaves.map((l) => l.value)).toEqual([0, 1]);
      expect(leaves[0]?.high[0]).toBeGreaterThan(0.3);
      expect(leaves[0]?.high[0]).toBeLessThan(0.7);
      expect(leaves[1]?.low[0]).toBe(leaves[0]?.high[0]);
      const { total, main } = decomposeVariance(leaves, [numeric, numeric]);
      expect(main[0]).toBeCloseTo(total, 14);
      expect(main[1]).toBe(0);
    }
    // Each tree saw its own bootstrap sample, so the trees place the cut differently.
    expect(new Set(forest.map(({ leaves }) => leaves[0]?.high[0])).size).toBeGreaterThan(1);
  });

  it("splits a categorical by the subset of levels that separates the scores, not by index order", () => {
    // Levels 0 and 2 score 1, levels 1 and 3 score 0: no prefix of 0, 1, 2, 3 separates them,
    // the levels sorted by mean response do.
    const x = Array.from({ length: 40 }, (_, i) => Float64Array.of(i % 4));
    const y = x.map((r) => (r[0] === 0 || r[0] === 2 ? 1 : 0));
    const forest = fitForest([categorical(4)], x, y, {
      trees: 8,
      featureFraction: 1,
      minSamplesLeaf: 1,
      maxDepth: 1,
      seed: 1,
    });
    for (const { leaves } of forest) {
      expect(leaves.map((l) => [l.value, [...(l.levels[0] as Uint8Array)]])).toEqual([
        [0, [0, 1, 0, 1]],
        [1, [1, 0, 1, 0]],
      ]);
    }
  });

  it("sends a level no sample of the node has to the larger child", () => {
    // Level 3 never appears; levels 0 and 1 (30 samples, score 0) outnumber level 2 (6, score 1).
    const x = Array.from({ length: 36 }, (_, i) => Float64Array.of(i < 30 ? i % 2 : 2));
    const y = x.map((r) => (r[0] === 2 ? 1 : 0));
    const forest = fitForest([categorical(4)], x, y, {
      trees: 8,
      featureFraction: 1,
      minSamplesLeaf: 1,
      maxDepth: 1,
      seed: 2,
    });
    for (const { leaves } of forest) {
      expect(leaves.map((l) => [l.value, [...(l.levels[0] as Uint8Array)]])).toEqual([
        [0, [1, 1, 0, 1]],
        [1, [0, 0, 1, 0]],
      ]);
    }
  });
});

describe("parameterImportance", () => {
  it("ranks the two parameters that drive the score first, over 10 seeds of 64 random trials", () => {
    for (let seed = 0; seed < 10; seed++) {
      const result = parameterImportance(space, sweep(space, 64, seed, twoDrivers), { seed });
      const names = result.params.map((p) => p.name);
      expect(names.slice(0, 2).sort(), `seed ${seed}: ${JSON.stringify(result.params)}`).toEqual([
        "lr",
        "warmup",
      ]);
      const irrelevant = result.params.slice(2).reduce((s, p) => s + p.importance, 0);
      expect(irrelevant).toBeLessThan(0.15);
      expect(result.mainEffects).toBeGreaterThan(0.5);
    }
  });

  it("finds a string-choice parameter that matters", () => {
    const byOptimizer = (p: Params) => (p.optimizer === "sgd" ? 0.3 : 0.6) + 0.1 * unit("wd", p.wd);
    for (let seed = 0; seed < 5; seed++) {
      const result = parameterImportance(space, sweep(space, 48, seed, byOptimizer, 0.05), { seed });
      expect(result.params[0]?.name, JSON.stringify(result.params)).toBe("optimizer");
      expect(result.params[0]?.importance).toBeGreaterThan(0.5);
    }
  });

  it("returns plain data: every parameter once, most important first, shares in [0, 1] summing to mainEffects", () => {
    const result = parameterImportance(space, sweep(space, 64, 1, twoDrivers));
    expect(result.method).toBe("fanova-random-forest");
    expect(result.trees).toBe(64);
    expect(result.samples).toBe(64);
    expect(result.budget).toBeNull();
    expect(result.notes).toEqual([]);
    expect(result.params.map((p) => p.name).sort()).toEqual(Object.keys(mixedSpace).sort());
    const importances = result.params.map((p) => p.importance);
    expect(importances).toEqual([...importances].sort((a, b) => b - a));
    for (const p of result.params) {
      expect(p.importance).toBeGreaterThanOrEqual(0);
      expect(p.importance).toBeLessThanOrEqual(1);
      expect(p.std).toBeGreaterThanOrEqual(0);
    }
    expect(importances.reduce((a, b) => a + b, 0)).toBeCloseTo(result.mainEffects, 12);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it("is deterministic: the same trials and seed give the same result; another seed another forest", () => {
    const trials = sweep(space, 40, 2, twoDrivers);
    const first = parameterImportance(space, trials, { seed: 7 });
    expect(parameterImportance(space, structuredClone(trials), { seed: 7 })).toEqual(first);
    expect(parameterImportance(space, trials, { seed: 8 }).params).not.toEqual(first.params);
  });

  it("returns an empty result with a note below 5 scored trials, never NaN", () => {
    for (const count of [0, 1, 4]) {
      const result = parameterImportance(space, sweep(space, count, 3, twoDrivers));
      expect(result).toMatchObject({ trees: 0, samples: count, params: [], mainEffects: 0 });
      expect(result.notes).toEqual([
        `${count} scored ${count === 1 ? "trial" : "trials"}: importance needs at least 5`,
      ]);
    }
    // Failed trials do not count towards the minimum.
    const trials = sweep(space, 8, 3, twoDrivers).map((t, i) =>
      i < 4 ? { ...t, status: "failed" as const, primary_score: null } : t,
    );
    expect(parameterImportance(space, trials).params).toEqual([]);
    expect(parameterImportance(space, sweep(space, 5, 3, twoDrivers)).params).toHaveLength(6);
  });

  it("ignores failed, timed-out, running and unscored trials", () => {
    const trials = sweep(space, 40, 4, twoDrivers);
    const extra = sweep(space, 12, 5, () => 0.99).map((t, i): TrialRecord => {
      const statuses = ["failed", "timeout", "running", "pruned", "completed"] as const;
      const status = statuses[i % statuses.length] as TrialRecord["status"];
      // A failed trial may still carry a score; a completed one may have none.
      return { ...t, trial_id: `x${i}`, status, primary_score: status === "completed" ? null : 0.99 };
    });
    const mixed = [...extra.slice(0, 6), ...trials, ...extra.slice(6)];
    expect(parameterImportance(space, mixed)).toEqual(parameterImportance(space, trials));
  });

  it("uses only the trials at one budget of a multi-fidelity sweep, the highest with 5 trials, and says so", () => {
    const rung0 = sweep(space, 30, 6, () => 0.5, 0.4).map((t) => ({ ...t, budget: 1000 }));
    const rung1 = sweep(space, 20, 7, twoDrivers).map((t) => ({
      ...t,
      trial_id: `r1${t.trial_id}`,
      budget: 3000,
    }));
    const result = parameterImportance(space, [...rung0, ...rung1]);
    const alone = parameterImportance(space, rung1);
    expect(result.samples).toBe(20);
    expect(result.budget).toBe(3000);
    expect(result.params).toEqual(alone.params);
    expect(result.notes).toEqual([
      "multi-fidelity sweep: importance from the 20 scored trials at the highest budget (3000) only," +
        " of 50 scored; scores at different budgets do not compare",
    ]);
    // Too few at the top budget (successive halving's last rung): the next budget down that
    // has enough trials, and the note says which.
    const top = parameterImportance(space, [...rung0, ...rung1.slice(0, 3)]);
    expect(top.samples).toBe(30);
    expect(top.budget).toBe(1000);
    expect(top.params).toEqual(parameterImportance(space, rung0).params);
    expect(top.notes[0]).toBe(
      "multi-fidelity sweep: importance from the 30 scored trials at the highest budget with enough" +
        " trials (1000) only, of 33 scored; scores at different budgets do not compare",
    );
    // Too few at every budget: empty, and both notes say why.
    const few = parameterImportance(space, [...rung0.slice(0, 4), ...rung1.slice(0, 3)]);
    expect(few.params).toEqual([]);
    expect(few.budget).toBe(3000);
    expect(few.notes[1]).toBe("3 scored trials at the highest budget: importance needs at least 5");
  });

  it("gives a single-valued parameter importance 0 and names it in a note", () => {
    const withFixed = searchSpaceOf({ ...mixedSpace, seed_offset: { type: "choice", values: [3] } });
    const trials = sweep(withFixed, 32, 8, twoDrivers);
    const result = parameterImportance(withFixed, trials);
    expect(result.params.at(-1)).toEqual({ name: "seed_offset", importance: 0, std: 0 });
    expect(result.notes).toEqual(["one value in the search space, importance 0: seed_offset"]);
  });

  it("says so when the scores do not vary, with importances 0 and no NaN", () => {
    const result = parameterImportance(
      space,
      sweep(space, 20, 9, () => 0.5, 0),
    );
    expect(result.trees).toBe(0);
    expect(result.mainEffects).toBe(0);
    expect(result.params.every((p) => p.importance === 0 && p.std === 0)).toBe(true);
    expect(result.notes).toEqual([
      "the scores do not vary with the parameters: no parameter explains anything",
    ]);
  });

  it("leaves out trials whose params are outside the search space, with a note", () => {
    const trials = sweep(space, 20, 10, twoDrivers);
    const outside = { ...(trials[0] as TrialRecord), trial_id: "x", params: { ...trials[0]?.params, lr: 5 } };
    const result = parameterImportance(space, [...trials, outside]);
    expect(result.samples).toBe(20);
    expect(result.notes).toEqual(["1 scored trial left out: params not in the search space"]);
  });

  it("rejects settings it cannot use", () => {
    expect(() => parameterImportance(space, [], { trees: 0 })).toThrow(/trees: got 0/);
    expect(() => parameterImportance(space, [], { featureFraction: 0 })).toThrow(/featureFraction: got 0/);
  });
});
