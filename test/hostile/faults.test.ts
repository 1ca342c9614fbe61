/**
 * The hard faults of issue 19, each a test that failed before its fix: a crash in the middle
 * of an aggregate, an aggregate beside a running sweep, and a sweep killed with SIGKILL whose
 * trainers ran on into the sweep that resumed it. Real processes, a real git repository.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { worktreeState } from "../../src/runtime/git.js";
import { cliBin, runCli, tempDir } from "../helpers/cli.js";
import { exampleRepo } from "../helpers/example-repo.js";

let repo: string;
beforeAll(async () => {
  // A user's repository: the example trainer, a small sweep of it, committed.
  repo = await exampleRepo({
    git: true,
    sweepYaml: (t) =>
      t
        .replace("num_samples: 8", "num_samples: 2")
        .replace("run_version: example_v1", "run_version: faults_v1")
        .replace('    - "{output_dir}"', '    - "{output_dir}"\n    - --steps\n    - "200"'),
  });
  const sweep = await runCli(["sweep"], { cwd: repo });
  expect(sweep.code, sweep.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  if (repo) await rm(repo, { recursive: true, force: true });
});

describe("faults", () => {
  it("an aggregate killed while writing leaves no temp file that marks the tree dirty", async () => {
    // A crash between writing the promoted config's temp file and renaming it into place.
    const preload = path.join(await tempDir("tunix-rt-crash-"), "crash.mjs");
    await writeFile(
      preload,
      [
        'import fsp from "node:fs/promises";',
        'import { syncBuiltinESMExports } from "node:module";',
        "const rename = fsp.rename;",
        'fsp.rename = async (from, to) => { if (String(to).includes("training/configs")) process.exit(70); return rename(from, to); };',
        "syncBuiltinESMExports();",
      ].join("\n"),
    );
    const crashed = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          preload,
          cliBin,
          "aggregate",
          "--config",
          "training/sweep.yaml",
          "--trials",
          "runs/faults_v1/trials",
        ],
        { cwd: repo, stdio: "ignore" },
      );
      child.on("close", resolve);
    });
    expect(crashed).toBe(70);
    const left = (await readdir(path.join(repo, "training/configs"))).filter((f) => f.startsWith("."));
    expect(left.length, "the crash left its temp file").toBe(1);
    expect(await worktreeState(repo)).toEqual({ dirty: false, changed: 0, files: [], diff_sha256: null });
    for (const f of left) await rm(path.join(repo, "training/configs", f));
  });

  it("an aggregate does not write while a sweep of the run_version holds its lock", async () => {
    const lock = path.join(repo, "runs/faults_v1.lock");
    await writeFile(
      lock,
      JSON.stringify({
        pid: process.pid,
        host: os.hostname(),
        started_at: new Date().toISOString(),
        command: "tunix-rt sweep",
      }),
    );
    try {
      const before = await readFile(path.join(repo, "submission_runs/faults_v1/run_manifest.json"), "utf8");
      const run = await runCli(
        ["aggregate", "--config", "training/sweep.yaml", "--trials", "runs/faults_v1/trials"],
        {
          cwd: repo,
        },
      );
      expect(run.code).toBe(4);
      expect(run.stderr).toContain("run_version is locked by another sweep");
      expect(await readFile(path.join(repo, "submission_runs/faults_v1/run_manifest.json"), "utf8")).toBe(
        before,
      );
    } finally {
      await rm(lock, { force: true });
    }
  });

  it("the sweep that takes over a dead sweep's lock stops the trainers it left, before their trials run again", async () => {
    // A trainer that takes its time, so the first sweep dies while it runs.
    await writeFile(
      path.join(repo, "training/slow.mjs"),
      [
        'import { appendFileSync, readFileSync, writeFileSync } from "node:fs";',
        'import path from "node:path";',
        'const log = (name, text) => appendFileSync(path.join(process.env.LOG_DIR, name), text + "\\n");',
        'log("starts", process.env.TUNIX_RT_TRIAL_ID + " " + process.pid);',
        'process.on("SIGTERM", () => { log("stops", String(process.pid)); process.exit(143); });',
        'const items = readFileSync(process.env.TUNIX_RT_EVALSET, "utf8").split("\\n").filter(Boolean).map((l) => JSON.parse(l));',
        "setTimeout(() => {",
        "  const lines = items.map((i) => JSON.stringify({ id: i.id, prediction: i.expected_answer }));",
        '  writeFileSync(path.join(process.env.TUNIX_RT_OUTPUT_DIR, "predictions.jsonl"), lines.join("\\n") + "\\n");',
        "}, Number(process.env.SLOW_MS));",
      ].join("\n"),
    );
    const text = await readFile(path.join(repo, "training/sweep.yaml"), "utf8");
    await writeFile(
      path.join(repo, "training/slow.yaml"),
      text
        .replace("run_version: faults_v1", "run_version: slow_v1")
        .replace(/command:\n(\s+- .*\n)+/, "command: [node, training/slow.mjs]\n")
        .replace("max_concurrent_trials: 2", "max_concurrent_trials: 1")
        .replace("num_samples: 2", "num_samples: 1"),
    );
    const logDir = await tempDir("tunix-rt-slow-log-");
    const env = { ...process.env, LOG_DIR: logDir, SLOW_MS: "60000" };
    const first = spawn(process.execPath, [cliBin, "sweep", "--config", "training/slow.yaml"], {
      cwd: repo,
      env,
      stdio: "ignore",
    });
    const trainers = path.join(repo, "runs/slow_v1.trainers.json");
    let recorded: Array<{ pid: number; trial_id: string }> = [];
    for (let i = 0; i < 200 && recorded.length === 0; i++) {
      await sleep(50);
      recorded = JSON.parse(await readFile(trainers, "utf8").catch(() => "[]"));
    }
    expect(recorded.map((t) => t.trial_id)).toEqual(["t0000"]);
    first.kill("SIGKILL");
    await new Promise((r) => first.on("close", r));
    const pid = recorded[0]?.pid as number;
    // The trainer outlived its sweep.
    expect(() => process.kill(-pid, 0)).not.toThrow();

    // The resumed sweep stops it, then runs the trial again (quickly this time).
    const second = await runCli(["sweep", "--config", "training/slow.yaml"], {
      cwd: repo,
      env: { LOG_DIR: logDir, SLOW_MS: "100" },
    });
    expect(second.stderr).toMatch(/stopped 1 trainer left running by the sweep that held the lock \(pid \d+/);
    expect(() => process.kill(-pid, 0)).toThrow();
    const stops = (await readFile(path.join(logDir, "stops"), "utf8")).trim().split("\n");
    expect(stops).toEqual([String(pid)]);
    // Two starts of t0000, one after the other was stopped.
    const starts = (await readFile(path.join(logDir, "starts"), "utf8")).trim().split("\n");
    expect(starts.map((l) => l.split(" ")[0])).toEqual(["t0000", "t0000"]);
    await rm(logDir, { recursive: true, force: true });
  }, 60_000);
});
