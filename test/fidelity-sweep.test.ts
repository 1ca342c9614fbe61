import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Plan } from "../src/core/search/plan.js";
import { interruptCli, readJsonl, runCli, tempDir } from "./helpers/cli.js";
import { evalsetText, faultTrainer, writeFaultConfig } from "./helpers/fault-sweep.js";

const sweepId = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";

/** A successive-halving config over the fault trainer: six configurations of rising quality. */
async function writeShConfig(
  dir: string,
  { waves = 2, resume = true, sleepMs = "0" }: { waves?: number; resume?: boolean; sleepMs?: string } = {},
): Promise<void> {
  await writeFile(path.join(dir, "evalset.jsonl"), `${evalsetText()}\n`);
  await writeFile(
    path.join(dir, "sweep.yaml"),
    [
      "name: sh sweep",
      "run_version: sh_v1",
      "base_model_id: google/gemma-3-1b-it",
      "num_samples: 6",
      `waves: ${waves}`,
      "sampler: grid",
      "evalset: evalset.jsonl",
      `fidelity: {min_budget: 1, max_budget: 9, eta: 3, resume: ${String(resume)}}`,
      "search_space:",
      "  fault: {type: choice, values: [checkpoint]}",
      "  quality: {type: choice, values: [0.5, 1, 0.17, 0.84, 0.34, 0.67]}",
      "trainer:",
      `  command: [node, ${JSON.stringify(faultTrainer)}]`,
      "  timeout_minutes: 1",
      `  env: {FAULT_SLEEP_MS: "${sleepMs}"}`,
    ].join("\n"),
  );
}

const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8"));

describe("tunix-rt plan with fidelity", () => {
  it("plans rung 0 at min_budget, then promotions with budget, rung and parent from --history", async () => {
    const dir = await tempDir("tunix-rt-sh-plan-");
    await writeShConfig(dir, { waves: 1 });
    const first = await runCli(["plan", "--config", "sweep.yaml", "--sweep-id", sweepId], { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("successive halving: rung 0: 6 new configurations");
    const p1 = JSON.parse(first.stdout) as Plan;
    expect(p1.trials.map((t) => [t.trial_id, t.budget, t.rung])).toEqual(
      Array.from({ length: 6 }, (_, i) => [`t000${i}`, 1, 0]),
    );
    expect(p1.matrix.include).toEqual(p1.trials);

    const history = p1.trials.map((t) => ({
      ...t,
      status: "completed",
      primary_score: Number(t.params.quality),
    }));
    await writeFile(path.join(dir, "history.jsonl"), history.map((h) => JSON.stringify(h)).join("\n"));
    const second = await runCli(
      ["plan", "--config", "sweep.yaml", "--sweep-id", sweepId, "--history", "history.jsonl"],
      { cwd: dir },
    );
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("rung 1: 2 promoted from rung 0");
    const p2 = JSON.parse(second.stdout) as Plan;
    const best = [...p1.trials].sort((a, b) => Number(b.params.quality) - Number(a.params.quality));
    expect(p2.matrix.include.map((t) => [t.trial_id, t.budget, t.rung, t.parent, t.params, t.seed])).toEqual([
      ["t0006", 3, 1, best[0]?.trial_id, best[0]?.params, best[0]?.seed],
      ["t0007", 3, 1, best[1]?.trial_id, best[1]?.params, best[1]?.seed],
    ]);
  });
});

describe("tunix-rt sweep with waves and successive halving", () => {
  it("runs rung 0 in waves, promotes with the parent's folder to resume from, and picks the best at full budget", async () => {
    const dir = await tempDir("tunix-rt-sh-");
    await writeShConfig(dir);
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "2"], { cwd: dir });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("successive halving over budgets 1, 3, 9 (eta 3, 6/2/1 configurations");
    for (const line of [
      "wave 1 (rung 0, budget 1): 3 trials",
      "wave 2 (rung 0, budget 1): 3 trials",
      "wave 3 (rung 1, budget 3): 2 trials",
      "wave 4 (rung 2, budget 9): 1 trial, 1 to run",
    ])
      expect(r.stderr).toContain(line);

    const state = await readJson(path.join(dir, "runs/sh_v1/sweep.json"));
    expect(
      state.waves.map((w: { trial_ids: string[]; rung: number }) => [w.trial_ids.length, w.rung]),
    ).toEqual([
      [3, 0],
      [3, 0],
      [2, 1],
      [1, 2],
    ]);
    expect(state.plan.trials).toHaveLength(9);

    const runDir = path.join(dir, "submission_runs/sh_v1");
    const trials = await readJsonl(path.join(runDir, "trials.jsonl"));
    expect(trials.map((t) => [t.trial_id, t.budget, t.rung])).toEqual([
      ...Array.from({ length: 6 }, (_, i) => [`t000${i}`, 1, 0]),
      ["t0006", 3, 1],
      ["t0007", 3, 1],
      ["t0008", 9, 2],
    ]);
    const byId = new Map(trials.map((t) => [t.trial_id, t]));
    // Rung 1 promotes the two best of rung 0 (quality 1 and 0.84), rung 2 the best of those.
    expect(trials.slice(6).map((t) => byId.get(t.parent)?.params.quality)).toEqual([1, 0.84, 1]);
    const top = trials[8];
    expect(top.parent).toBe(trials[6].trial_id);
    // The trainer was told its parent's folder and resumed from the parent's step.
    for (const t of trials.slice(6)) {
      expect(t.resume_from).toBe(`runs/sh_v1/trials/${t.parent}`);
      const checkpoint = await readJson(path.join(dir, "runs/sh_v1/trials", t.trial_id, "checkpoint.json"));
      expect(checkpoint).toEqual({
        step: t.budget,
        start: byId.get(t.parent)?.budget,
        resumed_from: path.join(dir, "runs/sh_v1/trials", t.parent),
      });
    }
    for (const t of trials.slice(0, 6)) expect(t.resume_from).toBeUndefined();

    // Rung 0's quality-1 trial scored 1 too, earlier; the best is the full-budget trial.
    const bestParams = await readJson(path.join(runDir, "best_params.json"));
    expect(bestParams).toMatchObject({ trial_id: "t0008", budget: 9, primary_score: 1 });
    const record = await readJson(path.join(dir, "runs/sh_v1/trials/t0008/trial.json"));
    expect(record).toMatchObject({ budget: 9, rung: 2, parent: "t0006" });
    const leaderboard = await readFile(path.join(runDir, "leaderboard.md"), "utf8");
    expect(leaderboard).toMatch(/\| rank \| trial \| fault \| quality \| rung \| budget \| primary_score/);
    expect(leaderboard).toMatch(/\| 1 \| \*\*t0008\*\* \| checkpoint \| 1 \| 2 \| 9 \| 1\.0000/);
    const verify = await runCli(["verify", "submission_runs/sh_v1", "--json"], { cwd: dir });
    expect(verify.stdout).toContain('"valid": true');
    expect(verify.code).toBe(0);

    // verify agrees with aggregate: naming rung 0's trial of the same configuration (same
    // params, same score, an earlier id) is refused, because it ran at a lower budget.
    const early = trials[6].parent as string;
    expect(byId.get(early)).toMatchObject({ rung: 0, primary_score: 1, params: bestParams.params });
    await writeFile(
      path.join(runDir, "best_params.json"),
      JSON.stringify({ ...bestParams, trial_id: early }),
    );
    const refused = await runCli(["verify", "submission_runs/sh_v1"], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      `best_params.json:1: trial_id: got "${early}"; the best completed trial in trials.jsonl is "t0008" (line 9: primary_score 1, the highest at the highest budget 9)`,
    );
    expect(refused.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("runs plain waves without fidelity: each planned after the last finished", async () => {
    const dir = await tempDir("tunix-rt-waves-");
    await writeFaultConfig(dir, { faults: ["ok"], quality: [0.5, 1, 0.17, 0.84, 0.34], extra: "waves: 3" });
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "2"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("2 trials planned so far, 2 to run");
    expect(r.stderr).toContain("3 waves of 2");
    for (const line of ["wave 1: 2 trials", "wave 2: 2 trials", "wave 3: 1 trial, 1 to run"])
      expect(r.stderr).toContain(line);
    const state = await readJson(path.join(dir, "runs/fault_v1/sweep.json"));
    expect(state.waves.map((w: { trial_ids: string[] }) => w.trial_ids)).toEqual([
      ["t0000", "t0001"],
      ["t0002", "t0003"],
      ["t0004"],
    ]);
    const trials = await readJsonl(path.join(dir, "submission_runs/fault_v1/trials.jsonl"));
    expect(trials.map((t) => t.params.quality).sort()).toEqual([0.17, 0.34, 0.5, 0.84, 1]);
    expect(trials.every((t) => t.budget === undefined && t.rung === undefined)).toBe(true);
  });

  it("starts over each rung with resume: false", async () => {
    const dir = await tempDir("tunix-rt-sh-over-");
    await writeShConfig(dir, { waves: 1, resume: false });
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "2"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("starting over each rung");
    const trials = await readJsonl(path.join(dir, "submission_runs/sh_v1/trials.jsonl"));
    expect(trials).toHaveLength(9);
    for (const t of trials.slice(6)) {
      expect(t.resume_from).toBeUndefined();
      const checkpoint = await readJson(path.join(dir, "runs/sh_v1/trials", t.trial_id, "checkpoint.json"));
      expect(checkpoint).toMatchObject({ step: t.budget, start: 0, resumed_from: null });
    }
  });

  it("resumes an interrupted sweep mid-rung: finished trials stay, planning goes on to the last rung", async () => {
    const dir = await tempDir("tunix-rt-sh-int-");
    // Rung 0 is quick; a promoted trial takes a while (the env's {budget} placeholder).
    await writeShConfig(dir, { waves: 1, sleepMs: "{budget}00" });
    const { code, sent } = await interruptCli(["sweep", "--config", "sweep.yaml", "--parallel", "2"], {
      cwd: dir,
      when: (stderr) => /started \(worker \d\) \[rung 1/.test(stderr),
    });
    expect(sent).toBe(true);
    expect(code).toBe(130);
    const trialsDir = path.join(dir, "runs/sh_v1/trials");
    const rung0 = Array.from({ length: 6 }, (_, i) => `t000${i}`);
    const mtime = async (id: string) => (await stat(path.join(trialsDir, id, "trial.json"))).mtimeMs;
    const before = await Promise.all(rung0.map(mtime));
    const state = await readJson(path.join(dir, "runs/sh_v1/sweep.json"));
    expect(state.waves).toHaveLength(2);

    const resumed = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "2"], { cwd: dir });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/8 trials planned so far, 2 to run, 2 at a time, 6 already completed/);
    expect(resumed.stderr).toContain("wave 3 (rung 2, budget 9): 1 trial, 1 to run");
    expect(await Promise.all(rung0.map(mtime))).toEqual(before);
    expect((await readdir(trialsDir)).filter((n) => n.startsWith("t")).sort()).toEqual([
      ...rung0,
      "t0006",
      "t0007",
      "t0008",
    ]);
    const best = await readJson(path.join(dir, "submission_runs/sh_v1/best_params.json"));
    expect(best).toMatchObject({ trial_id: "t0008", budget: 9 });
  });
});
