import { describe, expect, it } from "vitest";
import { bestTrial } from "../src/core/best-trial.js";
import { searchSpaceOf } from "../src/core/config/space.js";
import { primaryScoreRange } from "../src/core/grading/score.js";
import {
  buildLeaderboard,
  countTrials,
  leaderboardMarkdown,
  leaderboardTable,
  recommendTrials,
} from "../src/core/report/leaderboard.js";
import { createRng } from "../src/core/rng.js";
import { recommend, reevaluationTargets } from "../src/core/search/recommend.js";
import type { TrialRecord } from "../src/core/types.js";

const space = searchSpaceOf({
  lr: { type: "uniform", min: 0, max: 1 },
  wd: { type: "uniform", min: 0, max: 1 },
});

/** The true score of a configuration: one smooth hill, best (0.8) at lr 0.6, wd 0.3. */
const truth = (lr: number, wd: number): number => 0.8 - (lr - 0.6) ** 2 - 0.6 * (wd - 0.3) ** 2;

const record = (id: number, lr: number, wd: number, score: number, extra = {}): TrialRecord => ({
  trial_id: `t${String(id).padStart(4, "0")}`,
  params: { lr, wd },
  status: "completed",
  primary_score: score,
  ...extra,
});

/**
 * A noisy sweep with a known truth: 40 configurations spread over the space, each observed
 * once with noise of sd 0.03 (a 100-item evalset and a seed), and one mediocre configuration
 * away from the optimum (true score 0.54), among observed neighbours, that drew a very lucky score (0.92).
 */
function noisySweep(seed: number): TrialRecord[] {
  const rng = createRng(seed, "test-noise");
  const gauss = () =>
    Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-300))) * Math.cos(2 * Math.PI * rng.next());
  const records: TrialRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const lr = rng.next();
    const wd = rng.next();
    records.push(record(i, lr, wd, truth(lr, wd) + 0.03 * gauss()));
  }
  records.push(record(40, 0.2, 0.7, 0.92));
  return records;
}

const trueScore = (c: { params: Record<string, unknown> } | undefined): number =>
  truth(c?.params.lr as number, c?.params.wd as number);

describe("recommend", () => {
  it("best_observed is today's best trial, estimate = observed", () => {
    const records = noisySweep(1);
    const rec = recommend(space, records, { rule: "best_observed", seed: 1 });
    expect(rec.rule).toBe("best_observed");
    expect(rec.best?.trial_id).toBe(bestTrial(records)?.trial_id);
    expect(rec.best?.trial_id).toBe("t0040");
    for (const c of rec.configs) expect(c.estimate).toBe(c.observed);
    expect(rec.configs).toHaveLength(41);
  });

  it("model does not take the lucky configuration and recommends a truly better one", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const records = noisySweep(seed);
      const observed = recommend(space, records, { rule: "best_observed", seed });
      const model = recommend(space, records, { rule: "model", seed });
      expect(model.rule).toBe("model");
      expect(model.best?.trial_id).not.toBe("t0040");
      expect(trueScore(model.best)).toBeGreaterThan(trueScore(observed.best) + 0.05);
      // The estimate is on the score scale, and shrinks the lucky score towards its neighbours.
      const lucky = model.configs.find((c) => c.trial_id === "t0040");
      expect(lucky?.estimate).toBeLessThan((lucky?.observed as number) - 0.05);
      expect(model.best?.estimate).toBeGreaterThan(0.6);
      expect(model.best?.estimate).toBeLessThan(0.9);
    }
  });

  it("is deterministic", () => {
    const records = noisySweep(4);
    const a = recommend(space, records, { rule: "model", seed: 7 });
    const b = recommend(space, [...records], { rule: "model", seed: 7 });
    expect(b).toEqual(a);
  });

  it("falls back to best_observed with a note when too few trials are scored", () => {
    const records = [record(0, 0.1, 0.1, 0.5), record(1, 0.5, 0.5, 0.7), record(2, 0.9, 0.9, 0.6)];
    const rec = recommend(space, records, { rule: "model", seed: 1 });
    expect(rec.rule).toBe("best_observed");
    expect(rec.best?.trial_id).toBe("t0001");
    expect(rec.notes.join(" ")).toMatch(/model: 3 scored runs, fewer than the 4/);
  });

  it("nothing scored: no best", () => {
    const rec = recommend(
      space,
      [{ ...record(0, 0.1, 0.1, 0), status: "failed" as const, primary_score: null }],
      {
        rule: "model",
        seed: 1,
      },
    );
    expect(rec.best).toBeUndefined();
    expect(rec.configs).toEqual([]);
  });

  it("groups repeats with their original and promotes by the mean of the most-run", () => {
    const records = [
      ...noisySweep(5).slice(0, 10),
      record(10, 0.6, 0.3, 0.7),
      record(11, 0.2, 0.2, 0.9),
      record(12, 0.6, 0.3, 0.82, { repeat_of: "t0010" }),
      record(13, 0.2, 0.2, 0.6, { repeat_of: "t0011" }),
      record(14, 0.6, 0.3, 0.78, { repeat_of: "t0010" }),
      record(15, 0.2, 0.2, 0.62, { repeat_of: "t0011" }),
      { ...record(16, 0.6, 0.3, 0), status: "failed" as const, primary_score: null, repeat_of: "t0010" },
    ];
    for (const rule of ["model", "best_observed"] as const) {
      const rec = recommend(space, records, { rule, seed: 1 });
      expect(rec.rule).toBe("repeats_mean");
      expect(rec.best?.trial_id).toBe("t0010");
      expect(rec.best?.trial_ids).toEqual(["t0010", "t0012", "t0014"]);
      expect(rec.best?.count).toBe(3);
      expect(rec.best?.observed).toBe(0.7);
      expect(rec.best?.mean).toBeCloseTo(0.7666667, 6);
      expect(rec.best?.spread).toBeCloseTo(
        Math.sqrt(((0.7 - 0.76667) ** 2 + (0.82 - 0.76667) ** 2 + (0.78 - 0.76667) ** 2) / 2),
        4,
      );
      expect(rec.best?.estimate).toBe(rec.best?.mean);
      expect(rec.configs[1]?.trial_id).toBe("t0011");
      // Configurations run once come after the re-evaluated ones.
      expect(rec.configs.slice(2).every((c) => c.count === 1)).toBe(true);
    }
  });

  it("says how an exact tie between re-evaluated means was broken", () => {
    const tied = (a: number, b: number) => [
      record(0, 0.1, 0.1, 0.3),
      record(1, 0.6, 0.3, a),
      record(2, 0.2, 0.2, 0.6),
      record(3, 0.6, 0.3, b, { repeat_of: "t0001" }),
      record(4, 0.2, 0.2, 0.6, { repeat_of: "t0002" }),
    ];
    // Means 0.6 and 0.6: the better observed score (t0002's 0.6 over t0001's 0.5) takes it.
    const rec = recommend(space, tied(0.5, 0.7), { rule: "best_observed", seed: 1 });
    expect(rec.best?.trial_id).toBe("t0002");
    expect(rec.notes).toContain(
      "tie: t0002 and t0001 have the same mean of 2 runs, 0.6; t0002 was taken: its observed score, 0.6, is the better one (0.5)",
    );
    // Nothing tells them apart: the first trial id.
    const same = recommend(space, tied(0.6, 0.6), { rule: "best_observed", seed: 1 });
    expect(same.best?.trial_id).toBe("t0001");
    expect(same.notes).toContain(
      "tie: t0001 and t0002 have the same mean of 2 runs, 0.6; t0001 was taken: neither score tells them apart, and its trial id comes first",
    );
    // The leaderboard says it under its summary.
    const board = leaderboardMarkdown(buildLeaderboard(tied(0.5, 0.7), rec), {
      title: "t",
      counts: countTrials(tied(0.5, 0.7), null),
      bestId: "t0002",
      recommendation: rec,
    });
    expect(board).toContain(
      "Tie: t0002 and t0001 have the same mean of 2 runs, 0.6; t0002 was taken: its observed score, 0.6, is the better one (0.5).",
    );
    // No tie, no note.
    const apart = recommend(space, tied(0.5, 0.8), { rule: "best_observed", seed: 1 });
    expect(apart.notes.some((n) => n.startsWith("tie:"))).toBe(false);
  });

  it("the leaderboard's estimate column is in order, or the table says why not (the model's shortlist)", () => {
    const records = noisySweep(3);
    const rec = recommend(space, records, { rule: "model", seed: 1 });
    const table = leaderboardTable(buildLeaderboard(records, rec), {
      title: "t",
      counts: countTrials(records, null),
      bestId: rec.best?.trial_id ?? null,
      recommendation: rec,
    });
    expect(table.order).toBe(
      "Ranks 1–5 are the model's shortlist, the 5 best observed configurations, by its estimate of their true score (it recommends only from them); the other configurations follow, also by its estimate, so the estimate column starts again below rank 5.",
    );
    const column = table.columns.indexOf("estimate");
    expect(column).toBeGreaterThan(0);
    const estimates = table.rows.map((r) => Number(r.cells[column]));
    const descending = (xs: number[]) => xs.every((x, i) => i === 0 || x <= (xs[i - 1] as number));
    expect(descending(estimates.slice(0, 5))).toBe(true);
    expect(descending(estimates.slice(5))).toBe(true);
    // With all 41 in one order, the note would be wrong: this sweep has one below rank 5 above one in it.
    expect(descending(estimates)).toBe(false);
    // best_observed ranks by the score itself: no note.
    const plain = recommend(space, records, { rule: "best_observed", seed: 1 });
    expect(
      leaderboardTable(buildLeaderboard(records, plain), {
        title: "t",
        counts: countTrials(records, null),
        bestId: plain.best?.trial_id ?? null,
        recommendation: plain,
      }).order,
    ).toBeUndefined();
  });

  it("counts only the highest budget level", () => {
    const records = [
      record(0, 0.1, 0.1, 0.95, { budget: 1 }),
      record(1, 0.2, 0.3, 0.5, { budget: 3 }),
      record(2, 0.6, 0.3, 0.6, { budget: 3 }),
      record(3, 0.8, 0.3, 0.55, { budget: 3 }),
    ];
    const rec = recommend(space, records, { rule: "best_observed", seed: 1 });
    expect(rec.best?.trial_id).toBe("t0002");
    expect(rec.best?.trial_id).toBe(bestTrial(records)?.trial_id);
    expect(rec.configs.map((c) => c.trial_id)).toEqual(["t0002", "t0003", "t0001"]);
  });

  it("metricMode min prefers smaller scores", () => {
    const records = [record(0, 0.1, 0.1, 0.3), record(1, 0.5, 0.5, 0.1), record(2, 0.9, 0.9, 0.2)];
    const rec = recommend(space, records, { rule: "best_observed", seed: 1, metricMode: "min" });
    expect(rec.configs.map((c) => c.trial_id)).toEqual(["t0001", "t0002", "t0000"]);
  });

  it("reevaluationTargets: the top k by the rule, leaving out configurations already re-run", () => {
    const records = noisySweep(6);
    const ranked = recommend(space, records, { rule: "model", seed: 6 }).configs;
    const targets = reevaluationTargets(space, records, { rule: "model", seed: 6, topK: 3 });
    expect(targets.map((c) => c.trial_id)).toEqual(ranked.slice(0, 3).map((c) => c.trial_id));
    const first = ranked[0]?.trial_id as string;
    const withRepeat = [...records, record(99, 0, 0, 0.1, { repeat_of: first, params: ranked[0]?.params })];
    const next = reevaluationTargets(space, withRepeat, { rule: "model", seed: 6, topK: 3 });
    expect(next.map((c) => c.trial_id)).not.toContain(first);
    expect(next).toHaveLength(3);
  });

  it("reevaluationTargets: none when the model finds the scores free of noise", () => {
    const rng = createRng(8, "noise-free");
    const records: TrialRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const lr = rng.next();
      const wd = rng.next();
      records.push(record(i, lr, wd, truth(lr, wd)));
    }
    expect(reevaluationTargets(space, records, { rule: "model", seed: 8, topK: 3 })).toEqual([]);
    // Whatever the rule: a re-run would return the same scores (issue #23).
    expect(reevaluationTargets(space, records, { rule: "best_observed", seed: 8, topK: 3 })).toEqual([]);
    // With noise, both rules plan their top 3.
    const noisy = noisySweep(8);
    expect(reevaluationTargets(space, noisy, { rule: "model", seed: 8, topK: 3 })).toHaveLength(3);
    expect(reevaluationTargets(space, noisy, { rule: "best_observed", seed: 8, topK: 3 })).toHaveLength(3);
  });

  it("model recommends one of the 5 best observed configurations", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const records = noisySweep(seed);
      const observed = recommend(space, records, { rule: "best_observed", seed }).configs.slice(0, 5);
      const model = recommend(space, records, { rule: "model", seed });
      expect(observed.map((c) => c.trial_id)).toContain(model.best?.trial_id);
      expect(model.notes.join(" ")).toMatch(/model: fitted noise \d+\.\d% of the modelled score variance/);
    }
  });
});

describe("the model's estimate of primary_score", () => {
  // A sweep with three perfect scores near one learning rate: the GP's posterior mean there,
  // transformed back, lies above 1.
  const searchSpace = {
    learning_rate: { type: "loguniform" as const, min: 1e-3, max: 1e-1 },
    batch: { type: "choice" as const, values: [2, 4] },
  };
  const space = searchSpaceOf(searchSpace);
  const runs: Array<[number, number, number]> = [
    [0.0255, 4, 0.85],
    [0.0041, 2, 0.6],
    [0.0011, 4, 0.75],
    [0.0809, 2, 0.55],
    [0.0415, 4, 0.75],
    [0.1, 4, 0.35],
    [0.017, 4, 0.75],
    [0.0225, 2, 0.95],
    [0.0275, 2, 1],
    [0.0245, 2, 1],
    [0.0306, 2, 1],
  ];
  const records = runs.map(([learning_rate, batch, score], i) => ({
    trial_id: `t${String(i).padStart(4, "0")}`,
    params: { learning_rate, batch },
    status: "completed" as const,
    primary_score: score,
  }));

  it("stays within [0, 1] when given primary_score's range, as aggregate and verify give it", () => {
    const unbounded = recommend(space, records, { rule: "model", seed: 3 });
    expect(unbounded.rule).toBe("model");
    expect(unbounded.best?.estimate).toBeGreaterThan(1);
    const bounded = recommend(space, records, { rule: "model", seed: 3, range: primaryScoreRange });
    expect(bounded.configs.every((c) => c.estimate >= 0 && c.estimate <= 1)).toBe(true);
    expect(bounded.best?.estimate).toBe(1);
    expect(
      recommendTrials({ search_space: searchSpace, recommend: "model", seed: 3 }, records).best?.estimate,
    ).toBe(1);
  });
});
