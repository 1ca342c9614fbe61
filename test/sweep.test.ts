import { spawn } from "node:child_process";
import { cp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { primaryScore } from "../src/core/grading/score.js";
import { readZipFile } from "../src/runtime/zip-read.js";
import { interruptCli, readJsonl, runCli, tempDir } from "./helpers/cli.js";
import { exampleRepo } from "./helpers/example-repo.js";
import { writeFaultConfig } from "./helpers/fault-sweep.js";

describe("tunix-rt sweep (local, real trainer processes)", () => {
  it("runs the example sweep end to end, and a re-run resumes without re-running", async () => {
    const dir = await exampleRepo();
    const first = await runCli(["sweep", "--parallel", "2"], { cwd: dir });
    expect(first.stderr).not.toMatch(/internal error/);
    expect(first.code).toBe(0);
    const runDir = path.join(dir, "submission_runs/example_v1");
    const files = await readdir(runDir);
    for (const f of [
      "run_manifest.json",
      "eval_summary.json",
      "best_params.json",
      "kaggle_output_log.txt",
      "eval_rows.jsonl",
      "trials.jsonl",
      "leaderboard.md",
    ]) {
      expect(files).toContain(f);
    }
    const trials = await readJsonl(path.join(runDir, "trials.jsonl"));
    expect(trials).toHaveLength(8);
    expect(new Set(trials.map((t) => t.primary_score)).size).toBeGreaterThanOrEqual(2);
    const summary = JSON.parse(await readFile(path.join(runDir, "eval_summary.json"), "utf8"));
    expect(primaryScore(await readJsonl(path.join(runDir, "eval_rows.jsonl")))).toBe(summary.primary_score);
    // The named trial is the one the model's estimate recommends, with its own score.
    const best = JSON.parse(await readFile(path.join(runDir, "best_params.json"), "utf8"));
    expect(best.recommendation).toMatchObject({ rule: "model", trial_id: summary.trial_id });
    expect(trials.find((t) => t.trial_id === summary.trial_id)?.primary_score).toBe(summary.primary_score);
    expect(await readFile(path.join(dir, "training/configs/example_v1_best.yaml"), "utf8")).toContain(
      `trial_id: ${summary.trial_id}`,
    );
    const zips = await readdir(path.join(dir, "submission"));
    expect(zips).toHaveLength(1);
    expect(zips[0]).toMatch(/^tunix_rt_example_v1_\d{4}-\d{2}-\d{2}_[0-9a-z]+\.zip$/);
    expect((await runCli(["verify", runDir], { cwd: dir })).code).toBe(0);

    const recordTimes = async () =>
      Promise.all(
        trials.map(
          async (t) =>
            (await stat(path.join(dir, "runs/example_v1/trials", t.trial_id, "trial.json"))).mtimeMs,
        ),
      );
    const before = await recordTimes();
    const again = await runCli(["sweep", "--parallel", "2", "--resume"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("0 to run");
    expect(await recordTimes()).toEqual(before);
  }, 90_000);

  it("keeps one promoted config per run_version: a package of run A holds A's, after B was swept", async () => {
    const dir = await exampleRepo({ git: true });
    const example = await readFile(path.join(dir, "training/example/sweep.yaml"), "utf8");
    for (const rv of ["a_v1", "b_v1"]) {
      const text = example
        .replace("run_version: example_v1", `run_version: ${rv}`)
        .replace("num_samples: 8", "num_samples: 2");
      await writeFile(path.join(dir, `training/${rv}.yaml`), text);
    }
    for (const rv of ["a_v1", "b_v1"]) {
      const r = await runCli(["sweep", "--config", `training/${rv}.yaml`, "--parallel", "2"], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`promoted config: training/configs/${rv}_best.yaml`);
    }
    const sweepIdOf = async (rv: string) =>
      JSON.parse(await readFile(path.join(dir, `submission_runs/${rv}/run_manifest.json`), "utf8"))
        .tuning_job_id;
    const packaged = await runCli(["package", "--run-dir", "submission_runs/a_v1", "--out", "zips"], {
      cwd: dir,
    });
    expect(packaged.code).toBe(0);
    const members = await readZipFile(path.join(dir, packaged.stdout.trim()));
    const promoted = members.find((m) => m.name.startsWith("training/configs/"));
    expect(promoted?.name).toBe("training/configs/a_v1_best.yaml");
    const text = promoted?.data.toString("utf8") ?? "";
    expect(text).toContain(`sweep_id: ${await sweepIdOf("a_v1")}`);
    expect(text).not.toContain(await sweepIdOf("b_v1"));
    // --best-config puts it elsewhere, as aggregate's flag does.
    const elsewhere = await runCli(
      ["sweep", "--config", "training/a_v1.yaml", "--best-config", "promoted/a.yaml"],
      { cwd: dir },
    );
    expect(elsewhere.code).toBe(0);
    expect(await readFile(path.join(dir, "promoted/a.yaml"), "utf8")).toContain("run_version: a_v1");
  }, 90_000);

  it("survives a crash, a hang with a child and malformed predictions, and picks the best of the rest", async () => {
    const dir = await tempDir("tunix-rt-faults-");
    await writeFaultConfig(dir, {
      faults: ["ok", "exit3", "hang", "malformed"],
      quality: [0.5, 1],
      timeoutMinutes: 0.03,
      // The grid's shuffled order may put three faults first: run every trial regardless.
      extra: "early_stop_failures: 0",
    });
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "2"], { cwd: dir });
    expect(r.code).toBe(0);
    const trials = await readJsonl(path.join(dir, "submission_runs/fault_v1/trials.jsonl"));
    const byFault = (fault: string) => trials.filter((t) => t.params.fault === fault);
    expect(byFault("ok").map((t) => t.status)).toEqual(["completed", "completed"]);
    expect(byFault("exit3").map((t) => t.status)).toEqual(["failed", "failed"]);
    expect(byFault("exit3").every((t) => /code 3/.test(t.error))).toBe(true);
    expect(byFault("hang").map((t) => t.status)).toEqual(["timeout", "timeout"]);
    expect(byFault("malformed").map((t) => t.status)).toEqual(["failed", "failed"]);
    expect(byFault("malformed").every((t) => /malformed/.test(t.error))).toBe(true);
    const best = JSON.parse(
      await readFile(path.join(dir, "submission_runs/fault_v1/best_params.json"), "utf8"),
    );
    expect(best.params).toEqual({ fault: "ok", quality: 1 });
    expect(best.primary_score).toBe(1);
  });

  it("says on the trial's line and in the leaderboard when predictions did not fit the evalset, and fails half unmatched", async () => {
    const dir = await tempDir("tunix-rt-ids-");
    await writeFaultConfig(dir, { faults: ["ok", "one-other-id", "half-other-ids"], evalsetSize: 20 });
    const r = await runCli(["sweep", "--config", "sweep.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
    const trials = await readJsonl(path.join(dir, "submission_runs/fault_v1/trials.jsonl"));
    const of = (fault: string) => trials.find((t) => t.params.fault === fault);
    const ok = of("ok");
    const one = of("one-other-id");
    const half = of("half-other-ids");
    // 1 of 20 ids unmatched: the trial completes on 19 items, and says so.
    const note =
      '1 of 20 evalset items had no prediction, graded 0: "q19"; 1 prediction id not in the evalset, ignored: "Q19"';
    expect(one).toMatchObject({
      status: "completed",
      primary_score: 0.95,
      missing_predictions: 1,
      extra_predictions: 1,
      error: null,
      note,
    });
    const line = r.stderr.split("\n").find((l) => l.startsWith(`${one.trial_id} completed`));
    expect(line).toMatch(/^t\d{4} completed primary_score=0\.9500 \([\d.]+s\) \[\d\/3\] \((.*)\)$/);
    expect(line?.endsWith(`(${note})`)).toBe(true);
    // A trial whose every prediction fits says nothing more.
    expect(r.stderr).toMatch(
      new RegExp(`^${ok.trial_id} completed primary_score=1\\.0000 \\([\\d.]+s\\) \\[\\d/3\\]$`, "m"),
    );
    // 10 of 20 ids unmatched: no score.
    expect(half).toMatchObject({
      status: "failed",
      primary_score: null,
      missing_predictions: 10,
      extra_predictions: 10,
    });
    expect(half.error).toContain("10 of 20 prediction ids in");
    expect(r.stderr).toContain(`${half.trial_id} failed primary_score=null`);
    const leaderboard = await readFile(path.join(dir, "submission_runs/fault_v1/leaderboard.md"), "utf8");
    expect(leaderboard).toMatch(new RegExp(`\\| ${one.trial_id} \\|.*\\| completed \\(note\\) \\|`));
    expect(leaderboard).toContain(`### Notes on completed trials\n\n- ${one.trial_id}: ${note}\n`);
    expect(leaderboard).not.toContain(`- ${ok.trial_id}:`);
    // The evidence stays valid: a note is not a fault.
    const verified = await runCli(["verify", "submission_runs/fault_v1"], { cwd: dir });
    expect(verified.stdout + verified.stderr).toContain("valid");
    expect(verified.code).toBe(0);
  });

  it("exits 3 when the failure budget is exceeded, with evidence written and marked", async () => {
    const dir = await tempDir("tunix-rt-budget-");
    await writeFaultConfig(dir, { faults: ["ok", "exit3", "no-predictions"], maxFailed: 1 });
    // All three run at once, so the budget is spent only after every trial has run.
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "3"], { cwd: dir });
    expect(r.code).toBe(3);
    const manifest = JSON.parse(
      await readFile(path.join(dir, "submission_runs/fault_v1/run_manifest.json"), "utf8"),
    );
    expect(manifest.trials.failure_budget_exceeded).toBe(true);
    expect(await readFile(path.join(dir, "submission_runs/fault_v1/leaderboard.md"), "utf8")).toContain(
      "Failure budget exceeded",
    );
  });

  it("exits 1 when no trial completes, leaving the evidence folder untouched", async () => {
    const dir = await tempDir("tunix-rt-none-");
    await writeFaultConfig(dir, { faults: ["exit3", "no-predictions"] });
    const r = await runCli(["sweep", "--config", "sweep.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    await expect(stat(path.join(dir, "submission_runs"))).rejects.toThrow();
    expect(await readFile(path.join(dir, "runs/fault_v1/trials/leaderboard.md"), "utf8")).toContain(
      "exited with code 3",
    );
  });

  it("stops on SIGINT with exit 130, keeps finished records, and --resume finishes the rest", async () => {
    const dir = await tempDir("tunix-rt-int-");
    await writeFaultConfig(dir, { faults: ["ok", "slow"], quality: [0.25, 0.5, 1], timeoutMinutes: 1 });
    // Started with --fresh (nothing to set aside yet): the way to resume is without it.
    const { code, sent, stderr } = await interruptCli(
      ["sweep", "--config", "sweep.yaml", "--parallel", "1", "--fresh"],
      {
        cwd: dir,
        // Once a trial has finished and a slow one is running, interrupt.
        when: (err) =>
          /completed/.test(err) && /started.*fault=slow/.test(err.split("completed").pop() ?? ""),
      },
    );
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toContain("run it again without --fresh to resume (--fresh would start over)");
    const trialsDir = path.join(dir, "runs/fault_v1/trials");
    const read = async () =>
      Promise.all(
        (await readdir(trialsDir))
          .filter((id) => id.startsWith("t"))
          .map(async (id) => JSON.parse(await readFile(path.join(trialsDir, id, "trial.json"), "utf8"))),
      );
    const records = await read();
    const done = records.filter((r) => r.status === "completed");
    expect(done.length).toBeGreaterThan(0);
    expect(done.length).toBeLessThan(6);
    expect(records.some((r) => /interrupted/.test(r.error ?? ""))).toBe(true);
    const mtime = async (id: string) => (await stat(path.join(trialsDir, id, "trial.json"))).mtimeMs;
    const before = await Promise.all(done.map((r) => mtime(r.trial_id)));

    const resumed = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "2", "--resume"], {
      cwd: dir,
    });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`${done.length} already completed`);
    expect(await Promise.all(done.map((r) => mtime(r.trial_id)))).toEqual(before);
    const after = await read();
    expect(after).toHaveLength(6);
    expect(after.every((r) => r.status === "completed")).toBe(true);
  });

  it("refuses a second sweep on a locked run_version with exit 4 naming the holder", async () => {
    const dir = await tempDir("tunix-rt-lock-");
    await writeFaultConfig(dir, { faults: ["ok"] });
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      await cp(path.join(dir, "sweep.yaml"), path.join(dir, "sweep2.yaml"));
      const { mkdir } = await import("node:fs/promises");
      await mkdir(path.join(dir, "runs"), { recursive: true });
      const os = await import("node:os");
      await writeFile(
        path.join(dir, "runs/fault_v1.lock"),
        JSON.stringify({
          pid: holder.pid,
          host: os.hostname(),
          started_at: "2026-01-01T00:00:00Z",
          command: "tunix-rt sweep (test holder)",
        }),
      );
      const r = await runCli(["sweep", "--config", "sweep.yaml"], { cwd: dir });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("fault_v1.lock");
      expect(r.stderr).toContain(`pid ${holder.pid}`);
    } finally {
      holder.kill();
    }
    // The holder is gone: its lock is stale and the sweep runs.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const r = await runCli(["sweep", "--config", "sweep.yaml"], { cwd: dir });
    expect(r.code).toBe(0);
  });
});
