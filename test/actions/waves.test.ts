import { existsSync } from "node:fs";
/**
 * Waves on GitHub: how many waves a schedule takes, each wave's share, and the history a
 * later wave is planned from (the run's trial records plus the earlier waves' planned
 * trials), pure and from real folders; then a wave-2 plan as the runner runs the bundle.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergePlanned, plainWaveCount, waveHistory } from "../../src/actions/sweep/waves.js";
import {
  type PlannedRungTrial,
  scheduledWaves,
  waveSize,
  wavesNeeded,
} from "../../src/core/search/fidelity.js";
import type { TrialRecord } from "../../src/core/types.js";
import { ResultsStandIn } from "../github/stand-in/results.js";
import { zipOf } from "../github/stand-in/zip.js";
import { laterWave, makeWorkspace, runBundle } from "./helpers.js";

const sweepId = "123e4567-e89b-12d3-a456-426614174000";
const planned = (id: string, extra: Partial<PlannedRungTrial> = {}): PlannedRungTrial => ({
  sweep_id: sweepId,
  trial_id: id,
  seed: 5,
  params: { x: 1 },
  ...extra,
});
const record = (id: string, status: TrialRecord["status"], score: number | null, sweep = sweepId) =>
  ({ sweep_id: sweep, trial_id: id, params: { x: 2 }, status, primary_score: score }) as TrialRecord;

describe("the wave schedule", () => {
  it("takes ceil(num_samples / size) plain waves, and one more per further rung", () => {
    const c = { max_concurrent_trials: 1, fidelity: undefined };
    expect(wavesNeeded({ ...c, num_samples: 10, waves: 3 })).toBe(3);
    expect(wavesNeeded({ ...c, num_samples: 10, waves: 1 })).toBe(1);
    // 9 in waves of ceil(9/4) = 3: three waves suffice.
    expect(wavesNeeded({ ...c, num_samples: 9, waves: 4 })).toBe(3);
    const fidelity = { min_budget: 1, max_budget: 9, eta: 3, resume: true };
    expect(wavesNeeded({ ...c, num_samples: 9, waves: 2, fidelity })).toBe(4);
  });

  it("without a waves key, follows the runners: one wave per round of max_concurrent_trials, at most 8", () => {
    const plain = (num_samples: number, max_concurrent_trials: number) =>
      scheduledWaves({ num_samples, max_concurrent_trials, waves: undefined, fidelity: undefined });
    expect(plain(5, 1)).toBe(5); // the M34 default: one trial a wave, each planned from every score
    expect(plain(16, 4)).toBe(4);
    expect(plain(17, 4)).toBe(5);
    expect(plain(4, 8)).toBe(1);
    expect(plain(256, 2)).toBe(8);
    expect(
      waveSize({ num_samples: 256, max_concurrent_trials: 2, waves: undefined, fidelity: undefined }),
    ).toBe(32);
    // With fidelity, rung 0 runs at once unless waves says otherwise; the rungs follow.
    const fidelity = { min_budget: 1, max_budget: 9, eta: 3, resume: true };
    expect(scheduledWaves({ num_samples: 9, max_concurrent_trials: 1, waves: undefined, fidelity })).toBe(1);
  });

  it("gives each wave its share, the last one the rest, none past waves or num_samples", () => {
    const config = { num_samples: 10, waves: 3, max_concurrent_trials: 1 };
    expect(plainWaveCount(config, 1, 0)).toBe(4);
    expect(plainWaveCount(config, 2, 4)).toBe(4);
    expect(plainWaveCount(config, 3, 8)).toBe(2);
    expect(plainWaveCount(config, 4, 10)).toBe(0);
    expect(plainWaveCount(config, 4, 2)).toBe(0);
    expect(plainWaveCount(config, 3, 12)).toBe(0);
  });
});

describe("a later wave's history", () => {
  it("keeps one record per trial (completed first), stands in for planned trials without one, drops other sweeps", () => {
    const history = waveHistory(
      [
        record("t0001", "failed", null),
        record("t0001", "completed", 0.5),
        record("t0000", "completed", 0.25),
        record("t0007", "completed", 0.9, "another-sweep"),
      ],
      [planned("t0000"), planned("t0001"), planned("t0002", { budget: 3, rung: 1, parent: "t0000" })],
      sweepId,
    );
    expect(history.map((r) => [r.trial_id, r.status, r.primary_score])).toEqual([
      ["t0000", "completed", 0.25],
      ["t0001", "completed", 0.5],
      ["t0002", "failed", null],
    ]);
    expect(history[2]).toMatchObject({ budget: 3, rung: 1, parent: "t0000", seed: 5, params: { x: 1 } });
  });

  it("merges the planned trials of every wave without repeats", () => {
    expect(
      mergePlanned([planned("t0000"), planned("t0001")], [planned("t0001"), planned("t0002")]).map(
        (t) => t.trial_id,
      ),
    ).toEqual(["t0000", "t0001", "t0002"]);
  });
});

describe("a wave's plan, as the runner runs the bundle, with the runner's artifact service", () => {
  let workspace: string;
  let results: ResultsStandIn;
  const run = "8c1d7c9e-0000-4000-8000-00000000000a";
  beforeAll(async () => {
    workspace = await makeWorkspace("tunix-rt-waves-plan-");
    results = await ResultsStandIn.start();
  });
  afterAll(async () => {
    await rm(workspace, { recursive: true, force: true });
    await results.close();
  });
  /** One job of the run: its own runtime token. */
  const job = () => ({ workspace, env: results.envFor(run) });
  /** A trial job's artifact, as its runner uploads it: the trial's record, with `fields` on the plan's entry. */
  const trialRan = async (
    runId: string,
    id: string,
    trial: { trial_id: string; params: unknown } | undefined,
    fields: Record<string, unknown>,
  ) =>
    results.addArtifact(
      runId,
      `tunix-rt-trial-${id}-${trial?.trial_id}`,
      await zipOf({
        "trial.json": JSON.stringify({
          sweep_id: id,
          trial_id: trial?.trial_id,
          params: trial?.params,
          ...fields,
        }),
      }),
    );

  it("wave 1 plans its share and keeps it; wave 2 plans from it and wave 1's trial artifacts, each downloaded once", async () => {
    const common = { mode: "plan", "num-samples": "5", "max-waves": "8", config: "training/waves.yaml" };
    // The test sweep is one wave: a copy of it in 2 waves.
    const text = await readFile(path.join(workspace, "training/sweep.yaml"), "utf8");
    await writeFile(
      path.join(workspace, "training/waves.yaml"),
      text.replace("num_samples: 3", "num_samples: 3\nwaves: 2"),
    );
    const first = await runBundle("dist/sweep.js", { ...common, wave: "1" }, job());
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.outputs.count).toBe("3");
    expect(first.outputs.done).toBe("false");
    expect(first.outputs.waves).toBe("2");
    const id = first.outputs["sweep-id"] as string;
    expect(results.artifactsOf(run).map((a) => a.name)).toEqual([`tunix-rt-wave-${id}-1`]);

    // Wave 1's trials ran: two left a record, one left none (its runner died).
    const trials = JSON.parse(first.outputs.matrix as string).include as Array<{
      trial_id: string;
      params: unknown;
    }>;
    for (const [k, trial] of trials.slice(0, 2).entries())
      await trialRan(run, id, trial, { status: "completed", primary_score: 0.5 + k / 10 });
    // Another sweep's trial in the same run is never downloaded.
    results.addArtifact(
      run,
      "tunix-rt-trial-00000000-0000-4000-8000-000000000000-t0000",
      await zipOf({ "trial.json": "{}" }),
    );

    const wave2 = laterWave(common, 2, id, first.outputs.planned as string);
    const calls = results.calls.length;
    const second = await runBundle("dist/sweep.js", wave2, job());
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const matrix = JSON.parse(second.outputs.matrix as string) as { include: Array<{ trial_id: string }> };
    expect(matrix.include.map((t) => t.trial_id)).toEqual(["t0003", "t0004"]);
    expect(second.outputs.done).toBe("true");
    const all = JSON.parse(second.outputs.planned as string) as { include: Array<{ trial_id: string }> };
    expect(all.include.map((t) => t.trial_id)).toEqual(["t0000", "t0001", "t0002", "t0003", "t0004"]);
    expect(second.summary).toContain("Wave 2 of at most 2");
    expect(second.summary).toContain("Planned from 3 earlier trial records");
    // Downloads: wave 1's artifact and its two trial artifacts; the other sweep's is left alone.
    expect(results.calls.slice(calls).filter((c) => c === "GetSignedArtifactURL")).toHaveLength(3);
    results.assertClean();

    // Wave 2's trials ran: t0003 completed, t0004 failed.
    const wave2Trials = matrix.include as Array<{ trial_id: string; params: unknown }>;
    for (const [trial, status] of [
      [wave2Trials[0], "completed"],
      [wave2Trials[1], "failed"],
    ] as const)
      await trialRan(run, id, trial, { status, primary_score: 0.7 });
    // "Re-run failed jobs" re-runs wave 2's plan: it gives the same trials, not a new plan, and
    // its matrix leaves out the one that completed: no runner, no setup for it.
    const beforeAgain = results.calls.length;
    const again = await runBundle("dist/sweep.js", wave2, job());
    expect(again.code, again.stdout + again.stderr).toBe(0);
    // One listing finds the wave's artifact and its trials'; each is downloaded once (the
    // client's download lists that one artifact by id first).
    const againCalls = results.calls.slice(beforeAgain);
    expect(againCalls.filter((c) => c === "GetSignedArtifactURL")).toHaveLength(3);
    expect(againCalls.filter((c) => c === "ListArtifacts")).toHaveLength(1 + 3);
    const rerunMatrix = JSON.parse(again.outputs.matrix as string) as {
      include: Array<{ trial_id: string }>;
    };
    expect(rerunMatrix.include).toEqual([matrix.include[1]]);
    expect(again.outputs).toEqual({ ...second.outputs, matrix: again.outputs.matrix, count: "1" });
    expect(again.summary).toContain("Planned by an earlier attempt of this workflow run");
    expect(again.summary).toContain("1 completed in an earlier attempt and do not run again, 1 run");
    expect(results.artifactsOf(run).filter((a) => a.name === `tunix-rt-wave-${id}-2`)).toHaveLength(1);

    const third = await runBundle(
      "dist/sweep.js",
      { ...common, wave: "3", planned: second.outputs.planned as string },
      job(),
    );
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(third.outputs.count).toBe("0");
  });

  it("when wave 1's trials all failed, wave 2 plans none and the schedule is done (the default failure budget)", async () => {
    const run2 = "8c1d7c9e-0000-4000-8000-00000000000b";
    const env = { workspace, env: results.envFor(run2) };
    const common = { mode: "plan", "max-waves": "8", config: "training/fails.yaml" };
    const text = await readFile(path.join(workspace, "training/sweep.yaml"), "utf8");
    await writeFile(
      path.join(workspace, "training/fails.yaml"),
      text.replace("num_samples: 3", "num_samples: 6\nwaves: 2"),
    );
    const first = await runBundle("dist/sweep.js", { ...common, wave: "1" }, env);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const id = first.outputs["sweep-id"] as string;
    const trials = JSON.parse(first.outputs.matrix as string).include as Array<{
      trial_id: string;
      params: unknown;
    }>;
    expect(trials).toHaveLength(3);
    for (const trial of trials)
      await trialRan(run2, id, trial, { status: "failed", error: "trainer exited with code 1" });
    const wave2 = laterWave(common, 2, id, first.outputs.planned as string);
    const second = await runBundle("dist/sweep.js", wave2, env);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.outputs.count).toBe("0");
    expect(second.outputs.done).toBe("true");
    expect(second.stdout).toContain("stopped early: the first 3 trials all failed and none completed");
    expect(second.stdout).toContain("set early_stop_failures: 0");
  });

  it("says how pruning works on GitHub (against earlier waves only), and that a plan without waves prunes nothing", async () => {
    const text = await readFile(path.join(workspace, "training/sweep.yaml"), "utf8");
    await writeFile(
      path.join(workspace, "training/pruned.yaml"),
      `${text}\npruning: {metric: eval_accuracy, rule: median}\n`,
    );
    const first = await runBundle(
      "dist/sweep.js",
      { mode: "plan", "max-waves": "8", config: "training/pruned.yaml", wave: "1" },
      job(),
    );
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain(
      "::notice::training/pruned.yaml: pruning on GitHub: each trial job judges its metrics.jsonl against the curves of the earlier waves' trials",
    );
    const plain = await runBundle("dist/sweep.js", { mode: "plan", config: "training/pruned.yaml" }, job());
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toContain("a plan without waves leaves its trial jobs no earlier curves");
  });

  it("with reevaluate, the wave after the search runs the best configuration again, and the schedule ends there", async () => {
    const text = await readFile(path.join(workspace, "training/sweep.yaml"), "utf8");
    await writeFile(
      path.join(workspace, "training/reeval.yaml"),
      text.replace(
        "num_samples: 3",
        "num_samples: 3\nwaves: 1\nrecommend: best_observed\nreevaluate: { top_k: 1, repeats: 2 }",
      ),
    );
    const common = { mode: "plan", "max-waves": "8", config: "training/reeval.yaml" };
    const first = await runBundle("dist/sweep.js", { ...common, wave: "1" }, job());
    expect(first.code, first.stdout + first.stderr).toBe(0);
    // The search is one wave; re-evaluation needs one more.
    expect(first.outputs.count).toBe("3");
    expect(first.outputs.done).toBe("false");
    expect(first.outputs.waves).toBe("2");
    const id = first.outputs["sweep-id"] as string;
    const trials = JSON.parse(first.outputs.matrix as string).include as Array<{
      trial_id: string;
      params: Record<string, unknown>;
    }>;
    const scores = [0.5, 0.9, 0.6];
    for (const [k, trial] of trials.entries())
      await trialRan(run, id, trial, { status: "completed", primary_score: scores[k] });
    const wave2 = laterWave(common, 2, id, first.outputs.planned as string);
    const second = await runBundle("dist/sweep.js", wave2, job());
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const repeats = JSON.parse(second.outputs.matrix as string).include as Array<Record<string, unknown>>;
    expect(repeats.map((t) => [t.trial_id, t.repeat_of, t.wave])).toEqual([
      ["t0003", "t0001", 2],
      ["t0004", "t0001", 2],
    ]);
    expect(repeats.every((t) => JSON.stringify(t.params) === JSON.stringify(trials[1]?.params))).toBe(true);
    expect(second.outputs.done).toBe("true");
    expect(second.summary).toContain(
      "Wave 2 of at most 2 (re-evaluation: the 1 best configurations run 2 more times each)",
    );
  });

  it("a re-run attempt does not train again a trial that completed in an earlier attempt", async () => {
    const entry = {
      sweep_id: "3c0ffee0-0000-4000-8000-000000000001",
      trial_id: "t0000",
      seed: 1,
      params: { learning_rate: 0.05, per_device_batch_size: 4, weight_decay: 0.01, warmup_steps: 0 },
    };
    const inputs = { mode: "trial", config: "training/sweep.yaml", trial: JSON.stringify(entry) };
    const first = await runBundle("dist/sweep.js", inputs, job());
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain("trainer output: t0000");
    // Attempt 2 (later waves' jobs re-run with the failed ones): the artifact holds a completed record.
    const rerun = await runBundle("dist/sweep.js", inputs, {
      workspace,
      env: { ...results.envFor(run), GITHUB_RUN_ATTEMPT: "2" },
    });
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.stdout).not.toContain("trainer output: t0000");
    expect(rerun.stdout).toContain("trial t0000: completed in an earlier attempt of this run");
    expect(rerun.outputs).toMatchObject({
      status: "completed",
      "primary-score": first.outputs["primary-score"],
    });
    // Another trial's params under the same id (a plan that changed) is trained again.
    const changed = JSON.stringify({ ...entry, params: { ...entry.params, warmup_steps: 50 } });
    const other = await runBundle(
      "dist/sweep.js",
      { ...inputs, trial: changed },
      {
        workspace,
        env: { ...results.envFor(run), GITHUB_RUN_ATTEMPT: "2" },
      },
    );
    expect(other.code, other.stdout + other.stderr).toBe(0);
    expect(other.stdout).toContain("trainer output: t0000");
    results.assertClean();
  });

  it("a wave's plan that cannot keep its artifact still plans, and says what follows", async () => {
    const step = await runBundle(
      "dist/sweep.js",
      { mode: "plan", wave: "1", "num-samples": "2", "max-waves": "8", config: "training/sweep.yaml" },
      // No artifact service at all: a runner without one.
      { workspace },
    );
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs.count).toBe("2");
    expect(step.stdout).toMatch(
      /::warning::tunix-rt-wave-.*-1: .*the next wave downloads every trial artifact instead/,
    );
  });

  it("wave 1 refuses a schedule longer than the workflow's wave jobs", async () => {
    await writeFile(
      path.join(workspace, "training/long.yaml"),
      (await readFile(path.join(workspace, "training/sweep.yaml"), "utf8")).replace(
        "num_samples: 3",
        "num_samples: 9\nwaves: 9",
      ),
    );
    const step = await runBundle(
      "dist/sweep.js",
      { mode: "plan", wave: "1", "max-waves": "8", config: "training/long.yaml" },
      job(),
    );
    expect(step.code).toBe(1);
    expect(step.stdout).toContain("takes up to 9 waves");
    expect(step.stdout).toContain("npx tunix-rt init --upgrade");
  });

  it("without a waves key, a sweep raised at dispatch fits the workflow's wave jobs in larger waves", async () => {
    // 6 trials, 2 at a time: 3 waves by default; a workflow written for 2 plans 3 a wave.
    const step = await runBundle(
      "dist/sweep.js",
      { mode: "plan", wave: "1", "max-waves": "2", "num-samples": "6" },
      job(),
    );
    expect(step.code, step.stdout).toBe(0);
    expect(step.outputs.count).toBe("3");
    expect(step.outputs.waves).toBe("2");
    expect(step.outputs.done).toBe("false");
  });

  it("wave 1 refuses, before any training, a schedule with a wave over GitHub's 256 jobs of a matrix", async () => {
    await writeFile(
      path.join(workspace, "training/wide.yaml"),
      (await readFile(path.join(workspace, "training/sweep.yaml"), "utf8"))
        .replace(
          "num_samples: 3",
          "num_samples: 600\nwaves: 4\nfidelity: {min_budget: 1, max_budget: 4, eta: 2}",
        )
        .replace("max_concurrent_trials: 2", "max_concurrent_trials: 150"),
    );
    const step = await runBundle(
      "dist/sweep.js",
      { mode: "plan", wave: "1", "max-waves": "8", config: "training/wide.yaml" },
      job(),
    );
    expect(step.code).toBe(1);
    expect(step.errors.at(-1)?.message).toBe(
      "training/wide.yaml: rung 1 of successive halving promotes 300 trials in one wave (floor(600 / eta 2)), over the 256 jobs one GitHub matrix may hold; lower num_samples or raise fidelity.eta",
    );
    expect(step.outputs.matrix).toBeUndefined();
  });

  it("history-from-artifacts needs the sweep's id", async () => {
    const step = await runBundle(
      "dist/sweep.js",
      { mode: "plan", wave: "2", "history-from-artifacts": "true" },
      job(),
    );
    expect(step.code).toBe(1);
    expect(step.stdout).toContain("with.sweep-id: missing");
  });

  it("on GitHub Enterprise Server (no artifacts v4): wave 1's plan and a trial fail at once, before any training", async () => {
    const ghes = {
      workspace,
      env: { ...results.envFor(run), GITHUB_SERVER_URL: "https://ghes.example.com" },
    };
    const problem =
      "GITHUB_SERVER_URL is https://ghes.example.com: GitHub Enterprise Server has no artifacts v4";
    const plan = await runBundle("dist/sweep.js", { mode: "plan", wave: "1", "max-waves": "8" }, ghes);
    expect(plan.code).toBe(1);
    expect(plan.errors.map((e) => e.message).join("\n")).toContain(problem);
    expect(plan.outputs.matrix).toBeUndefined();

    // One plan in one job needs no artifact: it plans, and its trial refuses to train.
    const single = await runBundle("dist/sweep.js", { mode: "plan", "num-samples": "1" }, ghes);
    expect(single.code, single.stdout).toBe(0);
    const entry = JSON.parse(single.outputs.matrix as string).include[0];
    const trial = await runBundle("dist/sweep.js", { mode: "trial", trial: JSON.stringify(entry) }, ghes);
    expect(trial.code).toBe(1);
    expect(trial.errors.map((e) => e.message).join("\n")).toContain(problem);
    expect(trial.stdout).not.toContain("trainer output");
    expect(existsSync(path.join(workspace, "runs", entry.sweep_id, entry.trial_id))).toBe(false);
  });
});
