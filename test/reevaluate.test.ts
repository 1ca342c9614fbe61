import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateConfig } from "../src/core/config/config.js";
import { recommendTrials } from "../src/core/report/leaderboard.js";
import { planReevaluation, trialSeed } from "../src/core/search/plan.js";
import type { TrialRecord } from "../src/core/types.js";
import { readJsonl, runCli } from "./helpers/cli.js";
import { exampleRepo } from "./helpers/example-repo.js";

const space = {
  lr: { type: "loguniform", min: 1e-3, max: 1 },
  bs: { type: "choice", values: [2, 4, 8] },
};

function configOf(extra: Record<string, unknown>) {
  const checked = validateConfig({ num_samples: 6, seed: 7, search_space: space, ...extra }, "sweep.yaml");
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return checked.value;
}

const record = (
  id: string,
  lr: number,
  score: number | null,
  extra: Partial<TrialRecord> = {},
): TrialRecord => ({
  trial_id: id,
  params: { lr, bs: 4 },
  status: score === null ? "failed" : "completed",
  primary_score: score,
  ...extra,
});

describe("planReevaluation", () => {
  const history = [
    record("t0000", 0.01, 0.5),
    record("t0001", 0.02, 0.9),
    record("t0002", 0.05, 0.7),
    record("t0003", 0.1, null),
    record("t0004", 0.2, 0.8),
  ];

  it("runs the top_k configurations of the rule again, numbered on, each with a new seed and repeat_of", () => {
    const config = configOf({ recommend: "best_observed", reevaluate: { top_k: 2, repeats: 2 } });
    const plan = planReevaluation({ config, sweepId: "s", history });
    expect(plan.trials.map((t) => [t.trial_id, t.repeat_of, t.params.lr])).toEqual([
      ["t0005", "t0001", 0.02],
      ["t0006", "t0001", 0.02],
      ["t0007", "t0004", 0.2],
      ["t0008", "t0004", 0.2],
    ]);
    expect(plan.trials.map((t) => t.seed)).toEqual([5, 6, 7, 8].map((n) => trialSeed(7, n)));
    expect(plan.matrix.include).toEqual(plan.trials);
  });

  it("keeps the original's budget, plans once, and plans nothing without reevaluate", () => {
    const config = configOf({ recommend: "best_observed", reevaluate: { top_k: 1, repeats: 3 } });
    const budgeted = history.map((r) => ({ ...r, budget: 900 }));
    const plan = planReevaluation({ config, sweepId: "s", history: budgeted });
    expect(plan.trials.map((t) => t.budget)).toEqual([900, 900, 900]);
    const planned = [
      ...budgeted,
      ...plan.trials.map((t) => ({ ...t, status: "running" as const, primary_score: null })),
    ];
    expect(planReevaluation({ config, sweepId: "s", history: planned }).trials).toEqual([]);
    expect(planReevaluation({ config: configOf({}), sweepId: "s", history }).trials).toEqual([]);
  });

  it("refuses a top_k over num_samples and a wave over 256 trials, naming the field", () => {
    const bad = (reevaluate: unknown) => {
      const checked = validateConfig({ num_samples: 6, search_space: space, reevaluate }, "sweep.yaml");
      return checked.ok ? [] : checked.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(bad({ top_k: 7, repeats: 1 })).toEqual([
      "reevaluate.top_k: got 7; expected at most num_samples (6)",
    ]);
    expect(bad({ top_k: 2, repeats: 1, extra: 1 })[0]).toMatch(/^reevaluate(\.extra)?: .*extra/);
    const wide = validateConfig(
      { num_samples: 40, search_space: space, reevaluate: { top_k: 32, repeats: 9 } },
      "sweep.yaml",
    );
    expect(wide.ok ? [] : wide.problems.map((p) => p.path)).toEqual(["reevaluate.repeats"]);
  });
});

describe("a local sweep with re-evaluation (real example trainer)", () => {
  it("runs the best configurations again with new seeds, promotes the best mean, and verify recomputes it", async () => {
    const dir = await exampleRepo({
      git: true,
      sweepYaml: (t) =>
        t
          .replace("num_samples: 8", "num_samples: 6")
          .replace("sampler: auto", "sampler: sobol\nreevaluate: { top_k: 2, repeats: 2 }"),
    });
    const swept = await runCli(["sweep"], { cwd: dir });
    expect(swept.code, swept.stderr).toBe(0);
    expect(swept.stderr).toMatch(
      /^re-evaluation: 2 best configurations \(t\d{4}, t\d{4}\) run 2 more times each with new seeds: 4 trials, 4 to run; the best mean is promoted$/m,
    );
    const runDir = path.join(dir, "submission_runs/example_v1");
    const trials = await readJsonl(path.join(runDir, "trials.jsonl"));
    expect(trials).toHaveLength(10);
    const repeats = trials.filter((t) => t.repeat_of);
    expect(repeats.map((t) => t.trial_id)).toEqual(["t0006", "t0007", "t0008", "t0009"]);
    const byId = new Map(trials.map((t) => [t.trial_id, t]));
    for (const r of repeats) {
      const original = byId.get(r.repeat_of);
      expect(r.params).toEqual(original.params);
      expect(r.seed).not.toBe(original.seed);
    }
    // The promoted configuration is the re-evaluated one with the best mean over its 3 runs.
    const groups = [...new Set(repeats.map((t) => t.repeat_of as string))].map((id) => {
      const runs = trials.filter((t) => t.trial_id === id || t.repeat_of === id);
      return { id, mean: runs.reduce((s, t) => s + t.primary_score, 0) / runs.length, runs: runs.length };
    });
    const winner = groups.reduce((a, b) => (b.mean > a.mean ? b : a));
    const best = JSON.parse(await readFile(path.join(runDir, "best_params.json"), "utf8"));
    expect(best.trial_id).toBe(winner.id);
    expect(best.recommendation).toMatchObject({ rule: "repeats_mean", trial_id: winner.id, count: 3 });
    expect(best.recommendation.mean).toBeCloseTo(winner.mean, 12);
    expect(best.recommendation.estimate).toBeCloseTo(winner.mean, 12);
    const promoted = parse(await readFile(path.join(dir, "training/configs/example_v1_best.yaml"), "utf8"));
    expect(promoted.provenance).toMatchObject({
      trial_id: winner.id,
      recommended_by: "repeats_mean",
      runs: 3,
    });
    const leaderboard = await readFile(path.join(runDir, "leaderboard.md"), "utf8");
    expect(leaderboard).toContain(`Best: ${winner.id}, chosen by the mean of its 3 runs`);
    expect(leaderboard).toContain("| mean ± sd (runs) |");
    expect((await runCli(["verify", runDir], { cwd: dir })).code).toBe(0);

    // A recommendation that is not what the records give is found.
    const loser = groups.find((g) => g.id !== winner.id) as { id: string };
    await writeFile(
      path.join(runDir, "best_params.json"),
      JSON.stringify({ ...best, recommendation: { ...best.recommendation, trial_id: loser.id } }),
    );
    const tampered = await runCli(["verify", runDir], { cwd: dir });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(
      new RegExp(
        `best_params\\.json(:\\d+)?: recommendation\\.trial_id: got "${loser.id}"; recomputed from trials\\.jsonl and the sweep config it is "${winner.id}"`,
      ),
    );

    // A resumed sweep plans no second re-evaluation.
    await writeFile(path.join(runDir, "best_params.json"), JSON.stringify(best));
    const again = await runCli(["sweep", "--resume"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("4 trials, 0 to run");
    // Its first line tells the workers it has, not the search's nothing left to run.
    expect(again.stderr).toMatch(/^sweep [\w-]+: 6 trials, 0 to run, 2 at a time, 6 already completed/m);
    expect(await readJsonl(path.join(runDir, "trials.jsonl"))).toHaveLength(10);
  }, 120_000);
});

describe("the model rule in the evidence", () => {
  it("records the estimate beside the observation, and verify refuses an edited estimate or rule", async () => {
    const dir = await exampleRepo({ git: true, sweepYaml: true });
    const swept = await runCli(["sweep"], { cwd: dir });
    expect(swept.code, swept.stderr).toBe(0);
    const runDir = path.join(dir, "submission_runs/example_v1");
    const best = JSON.parse(await readFile(path.join(runDir, "best_params.json"), "utf8"));
    const trials = await readJsonl(path.join(runDir, "trials.jsonl"));
    // The same records and config give the same recommendation.
    const again = recommendTrials(best.sweep_config, trials);
    expect(best.recommendation).toMatchObject({
      rule: "model",
      trial_id: again.best?.trial_id,
      estimate: again.best?.estimate,
      observed: best.primary_score,
    });
    const edit = async (recommendation: Record<string, unknown>) => {
      await writeFile(path.join(runDir, "best_params.json"), JSON.stringify({ ...best, recommendation }));
      return runCli(["verify", runDir], { cwd: dir });
    };
    const higher = await edit({ ...best.recommendation, estimate: best.recommendation.estimate + 0.01 });
    expect(higher.code).toBe(1);
    expect(higher.stdout).toContain(
      `recommendation.estimate: got ${best.recommendation.estimate + 0.01}; recomputed from trials.jsonl and the sweep config it is ${best.recommendation.estimate}`,
    );
    // Every field of the block is recomputed: the observed score, the spread, the notes too.
    for (const [field, value] of [
      ["observed", 0.123],
      ["spread", 0.5],
      ["notes", ["a note of my own"]],
    ] as const) {
      const edited = await edit({ ...best.recommendation, [field]: value });
      expect(edited.code, field).toBe(1);
      expect(edited.stdout, field).toContain(`recommendation.${field}: got ${JSON.stringify(value)}`);
    }
    // And the block cannot be dropped to let the best observed score stand instead.
    const { recommendation: _, ...without } = best;
    await writeFile(path.join(runDir, "best_params.json"), JSON.stringify(without));
    const dropped = await runCli(["verify", runDir], { cwd: dir });
    expect(dropped.code).toBe(1);
    expect(dropped.stdout).toMatch(/best_params\.json(:\d+)?: recommendation: missing; tunix-rt writes/);
    const rule = await edit({ ...best.recommendation, rule: "best_observed" });
    expect(rule.code).toBe(1);
    expect(rule.stdout).toMatch(
      /best_params\.json(:\d+)?: recommendation\.rule: got "best_observed"; recomputed from trials\.jsonl and the sweep config it is "model"/,
    );
  }, 120_000);
});
