// Waves and successive halving as pure planning (src/core/search/fidelity.ts, planTrials), and the
// best trial of a multi-fidelity sweep (bestTrial, shared by aggregate and verify).
import { describe, expect, it } from "vitest";
import { bestTrial } from "../src/core/best-trial.js";
import { type SweepConfig, validateConfig } from "../src/core/config/config.js";
import { buildLeaderboard } from "../src/core/report/leaderboard.js";
import {
  nextRungTrials,
  type PlannedRungTrial,
  rungBudgets,
  rungOfBudget,
  rungSizes,
  waveSize,
} from "../src/core/search/fidelity.js";
import { planTrials, trialSeed } from "../src/core/search/plan.js";
import type { TrialRecord, TrialStatus } from "../src/core/types.js";

const sweepId = "123e4567-e89b-12d3-a456-426614174000";

function config(extra: Record<string, unknown> = {}): SweepConfig {
  const result = validateConfig(
    {
      num_samples: 9,
      sampler: "random",
      seed: 5,
      search_space: {
        learning_rate: { type: "loguniform", min: 1e-3, max: 1e-1 },
        batch: { type: "choice", values: [2, 4, 8] },
      },
      fidelity: { min_budget: 100, max_budget: 900, eta: 3 },
      ...extra,
    },
    "sh.yaml",
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
}

/** Trial records of planned trials, each with the score (or status) given. */
function ran(
  trials: readonly PlannedRungTrial[],
  outcome: (t: PlannedRungTrial, i: number) => number | null | TrialStatus,
): TrialRecord[] {
  return trials.map((t, i) => {
    const o = outcome(t, i);
    const status: TrialStatus = typeof o === "string" ? o : "completed";
    return { ...t, status, primary_score: typeof o === "number" ? o : null };
  });
}

/** Plans and "runs" waves until the plan is empty; scores come from `score(params, budget)`. */
function runAll(
  c: SweepConfig,
  score: (t: PlannedRungTrial) => number | null | TrialStatus,
): { history: TrialRecord[]; waves: PlannedRungTrial[][] } {
  const history: TrialRecord[] = [];
  const waves: PlannedRungTrial[][] = [];
  for (let i = 0; i < 50; i++) {
    const plan = planTrials({ config: c, sweepId, history });
    if (plan.trials.length === 0) return { history, waves };
    waves.push(plan.trials);
    history.push(...ran(plan.trials, (t) => score(t)));
  }
  throw new Error("the plan never became empty");
}

describe("rung budgets and sizes", () => {
  it("multiplies by eta up to max_budget, the last rung exactly max_budget", () => {
    expect(rungBudgets({ min_budget: 500, max_budget: 4500, eta: 3 })).toEqual([500, 1500, 4500]);
    expect(rungBudgets({ min_budget: 500, max_budget: 4000, eta: 3 })).toEqual([500, 1500, 4000]);
    expect(rungBudgets({ min_budget: 500, max_budget: 1000, eta: 3 })).toEqual([500, 1000]);
    expect(rungBudgets({ min_budget: 10, max_budget: 10, eta: 3 })).toEqual([10]);
    // No floating-point dust: 0.1 * 3 ** 2 is 0.9.
    expect(rungBudgets({ min_budget: 0.1, max_budget: 0.9, eta: 3 })).toEqual([0.1, 0.3, 0.9]);
    expect(rungBudgets({ min_budget: 1, max_budget: 16, eta: 2 })).toEqual([1, 2, 4, 8, 16]);
  });

  it("keeps floor(n / eta) of each rung, at least one", () => {
    expect(rungSizes(9, 3, 3)).toEqual([9, 3, 1]);
    expect(rungSizes(10, 3, 3)).toEqual([10, 3, 1]);
    expect(rungSizes(27, 3, 4)).toEqual([27, 9, 3, 1]);
    expect(rungSizes(2, 3, 3)).toEqual([2, 1, 1]);
    expect(rungSizes(16, 4, 2)).toEqual([16, 4]);
  });

  it("finds a record's rung by its budget, tolerating floating point", () => {
    const budgets = rungBudgets({ min_budget: 0.1, max_budget: 0.9, eta: 3 });
    expect(rungOfBudget(budgets, 0.30000000000000004)).toBe(1);
    expect(rungOfBudget(budgets, 0.5)).toBeUndefined();
    expect(rungOfBudget(budgets, undefined)).toBeUndefined();
  });

  it("makes waves of ceil(num_samples / waves)", () => {
    expect(waveSize({ num_samples: 10, waves: 3, max_concurrent_trials: 1 })).toBe(4);
    expect(waveSize({ num_samples: 8, waves: 1, max_concurrent_trials: 1 })).toBe(8);
  });
});

describe("successive halving plans", () => {
  it("runs rung 0 at min_budget, then promotes the best third, best first, to eta times the budget", () => {
    const c = config();
    const first = planTrials({ config: c, sweepId });
    expect(first.trials).toHaveLength(9);
    expect(first.fidelity).toEqual({ rung: 0, budget: 100, note: "rung 0: 9 new configurations" });
    for (const t of first.trials) {
      expect(Object.keys(t)).toEqual(["sweep_id", "trial_id", "seed", "params", "budget", "rung"]);
      expect(t).toMatchObject({ budget: 100, rung: 0 });
    }
    expect(first.matrix.include).toEqual(first.trials);
    // The same configurations as a plain sweep of the same seed (the sampler sees rung 0 only).
    const { fidelity: _f, ...plain } = c;
    expect(first.trials.map((t) => t.params)).toEqual(
      planTrials({ config: { ...plain, waves: 1 } as SweepConfig, sweepId }).trials.map((t) => t.params),
    );

    const scores = [0.1, 0.7, 0.3, 0.9, 0.2, 0.6, 0.4, 0.5, 0.8];
    const history = ran(first.trials, (_t, i) => scores[i] ?? null);
    const second = planTrials({ config: c, sweepId, history });
    expect(second.trials.map((t) => [t.trial_id, t.parent, t.rung, t.budget])).toEqual([
      ["t0009", "t0003", 1, 300],
      ["t0010", "t0008", 1, 300],
      ["t0011", "t0001", 1, 300],
    ]);
    for (const t of second.trials) {
      const parent = first.trials.find((p) => p.trial_id === t.parent);
      // Same configuration, same trainer seed: it continues (or repeats) the parent's run.
      expect(t.params).toEqual(parent?.params);
      expect(t.seed).toBe(parent?.seed);
      expect(Object.keys(t)).toEqual(["sweep_id", "trial_id", "seed", "params", "budget", "rung", "parent"]);
    }
    expect(second.fidelity?.note).toBe("rung 1: 3 promoted from rung 0");

    const third = planTrials({
      config: c,
      sweepId,
      history: [...history, ...ran(second.trials, (_t, i) => [0.5, 0.95, 0.6][i] ?? null)],
    });
    expect(third.trials.map((t) => [t.trial_id, t.parent, t.rung, t.budget])).toEqual([
      ["t0012", "t0010", 2, 900],
    ]);
  });

  it("ends with an empty plan once every rung is filled", () => {
    const { history, waves } = runAll(config(), (t) => (t.budget ?? 0) / 1000);
    expect(waves.map((w) => w.length)).toEqual([9, 3, 1]);
    expect(history).toHaveLength(13);
    const last = planTrials({ config: config(), sweepId, history });
    expect(last.trials).toEqual([]);
    expect(last.matrix.include).toEqual([]);
    expect(last.fidelity?.note).toMatch(/every rung is filled/);
    expect(nextRungTrials(config(), history)).toMatchObject({ kind: "done" });
  });

  it("breaks ties by the earlier trial id", () => {
    const c = config();
    const first = planTrials({ config: c, sweepId });
    const history = ran(first.trials, (_t, i) => (i === 7 || i === 2 || i === 5 || i === 4 ? 0.5 : 0.1));
    expect(planTrials({ config: c, sweepId, history }).trials.map((t) => t.parent)).toEqual([
      "t0002",
      "t0004",
      "t0005",
    ]);
  });

  it("never promotes a failed, timed-out, pruned or unscored trial, and stops when none completed", () => {
    const c = config();
    const first = planTrials({ config: c, sweepId });
    const outcomes: (number | null | TrialStatus)[] = [
      "failed",
      "timeout",
      null,
      "pruned",
      0.2,
      "failed",
      "failed",
      "failed",
      "failed",
    ];
    const history = ran(first.trials, (_t, i) => outcomes[i] ?? null);
    // A failed record keeps the score it may carry out of the ranking too.
    history[0] = { ...(history[0] as TrialRecord), primary_score: 1 };
    const second = planTrials({ config: c, sweepId, history });
    expect(second.trials.map((t) => t.parent)).toEqual(["t0004"]);

    const none = ran(first.trials, () => "failed");
    const empty = planTrials({ config: c, sweepId, history: none });
    expect(empty.trials).toEqual([]);
    expect(empty.fidelity?.note).toMatch(/no trial of rung 0 completed with a score/);
  });

  it("runs rung 0 in waves of q, then one wave per rung; numbering runs on across waves", () => {
    const c = config({ waves: 3 });
    const { history, waves } = runAll(c, (t) => Number(t.params.learning_rate) * (t.budget ?? 0));
    expect(waves.map((w) => w.length)).toEqual([3, 3, 3, 3, 1]);
    expect(waves.map((w) => w[0]?.rung)).toEqual([0, 0, 0, 1, 2]);
    expect(history.map((t) => t.trial_id)).toEqual(
      Array.from({ length: 13 }, (_, i) => `t${String(i).padStart(4, "0")}`),
    );
    // Rung-0 trials get their own seeds, as a plain sweep's trials would.
    expect(waves[1]?.[0]?.seed).toBe(trialSeed(5, 3));
  });

  it("caps a wave at --count and plans the rest next time", () => {
    const c = config();
    const first = planTrials({ config: c, sweepId, count: 4 });
    expect(first.trials.map((t) => t.trial_id)).toEqual(["t0000", "t0001", "t0002", "t0003"]);
    const history = ran(first.trials, (_t, i) => i / 10);
    const rest = planTrials({ config: c, sweepId, history });
    expect(rest.trials).toHaveLength(5);
    expect(rest.trials.every((t) => t.rung === 0)).toBe(true);
    const all = [...history, ...ran(rest.trials, (_t, i) => 0.5 + i / 10)];
    const one = planTrials({ config: c, sweepId, history: all, count: 1 });
    expect(one.trials.map((t) => t.parent)).toEqual(["t0008"]);
    const two = planTrials({ config: c, sweepId, history: [...all, ...ran(one.trials, () => 0.9)] });
    expect(two.trials.map((t) => t.parent)).toEqual(["t0007", "t0006"]);
  });

  it("knows a promotion without a parent field by its params", () => {
    const c = config();
    const first = planTrials({ config: c, sweepId });
    const history = ran(first.trials, (_t, i) => i / 10);
    const second = planTrials({ config: c, sweepId, history });
    const anonymous = ran(second.trials.slice(0, 1), () => 0.5).map(({ parent: _p, ...t }) => t);
    expect(
      planTrials({ config: c, sweepId, history: [...history, ...anonymous] }).trials.map((t) => t.parent),
    ).toEqual(["t0007", "t0006"]);
  });

  it("waits while a trial of the rung below is still running", () => {
    const c = config();
    const first = planTrials({ config: c, sweepId });
    const history = ran(first.trials, (_t, i) => (i === 0 ? "running" : 0.5));
    expect(nextRungTrials(c, history)).toMatchObject({ kind: "wait", rung: 1 });
    expect(planTrials({ config: c, sweepId, history }).trials).toEqual([]);
  });

  it("plans one wave of q by default without fidelity when waves > 1", () => {
    const { fidelity: _f, ...plain } = config({ waves: 2 });
    const plan = planTrials({ config: plain as SweepConfig, sweepId });
    expect(plan.trials).toHaveLength(5);
    expect(plan.fidelity).toBeUndefined();
    expect(Object.keys(plan.trials[0] ?? {})).toEqual(["sweep_id", "trial_id", "seed", "params"]);
  });
});

describe("fidelity config", () => {
  const problems = (extra: Record<string, unknown>) => {
    const r = validateConfig(
      { search_space: { x: { type: "uniform", min: 0, max: 1 } }, ...extra },
      "s.yaml",
    );
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it("defaults: no waves key (the schedule follows the runners), no fidelity; eta 3 and resume on", () => {
    const r = validateConfig({ search_space: { x: { type: "uniform", min: 0, max: 1 } } }, "s.yaml");
    expect(r.ok && r.value.waves).toBeUndefined();
    expect(r.ok && r.value.fidelity).toBeUndefined();
    expect(config().fidelity).toEqual({ min_budget: 100, max_budget: 900, eta: 3, resume: true });
  });

  it.each([
    [{ fidelity: { min_budget: 0, max_budget: 10 } }, "fidelity.min_budget: got 0; expected > 0"],
    [{ fidelity: { min_budget: 1, max_budget: 10, eta: 1 } }, "fidelity.eta: got 1; expected > 1"],
    [
      { fidelity: { min_budget: 10, max_budget: 5 } },
      "fidelity.max_budget: got 5, below min_budget 10; expected max_budget >= min_budget",
    ],
    [{ fidelity: { min_budget: 1, max_budget: 9, etta: 3 } }, 'fidelity.etta: unknown key "etta"'],
    [{ waves: 0 }, "waves: got 0; expected >= 1"],
    [{ waves: 6 }, "waves: got 6; expected at most num_samples (5)"],
  ])("rejects %j", (extra, message) => {
    expect(problems(extra).join("\n")).toContain(message);
  });
});

describe("best trial of a multi-fidelity sweep", () => {
  const t = (
    trial_id: string,
    primary_score: number | null,
    budget?: number,
    status: TrialStatus = "completed",
  ) => ({
    trial_id,
    status,
    primary_score,
    ...(budget === undefined ? {} : { budget }),
  });

  it("is chosen at the highest budget any completed trial reached", () => {
    const trials = [t("t0000", 0.99, 100), t("t0001", 0.6, 900), t("t0002", 0.7, 900), t("t0003", 0.95, 300)];
    expect(bestTrial(trials)?.trial_id).toBe("t0002");
    // A failed or unscored full-budget trial does not count: the next budget down decides.
    const failedTop = [
      t("t0000", 0.99, 100),
      t("t0001", 0.9, 900, "failed"),
      t("t0002", null, 900),
      t("t0003", 0.5, 300),
    ];
    expect(bestTrial(failedTop)?.trial_id).toBe("t0003");
  });

  it("treats trials without a budget as one level (as before), above budgeted ones", () => {
    expect(bestTrial([t("t0000", 0.2), t("t0001", 0.8), t("t0002", 0.8)])?.trial_id).toBe("t0001");
    expect(bestTrial([t("t0000", 0.99, 900), t("t0001", 0.5)])?.trial_id).toBe("t0001");
  });

  it("ranks the leaderboard the same way: rank 1 is the best trial", () => {
    const trials = [
      { ...t("t0000", 0.99, 100), params: {}, rung: 0 },
      { ...t("t0001", 0.6, 900), params: {}, rung: 2 },
      { ...t("t0002", 0.7, 300), params: {}, rung: 1 },
    ];
    const rows = buildLeaderboard(trials);
    expect(rows.map((r) => [r.rank, r.trial_id, r.rung, r.budget])).toEqual([
      [1, "t0001", 2, 900],
      [2, "t0002", 1, 300],
      [3, "t0000", 0, 100],
    ]);
  });
});
