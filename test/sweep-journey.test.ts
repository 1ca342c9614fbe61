/**
 * The local loop as a user meets it: a piped output, flags on the command line, a sweep
 * extended or changed, the failure budget, devices, leftovers of --fresh.
 */
import { chmod, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliBin, runCli, runProcess, tempDir } from "./helpers/cli.js";
import { exampleRepo, gitCommitAll } from "./helpers/example-repo.js";
import { faultTrainer, writeFaultConfig } from "./helpers/fault-sweep.js";

const lines = async (file: string) =>
  (await readFile(file, "utf8"))
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const withSamples = (n: number) => (text: string) => text.replace("num_samples: 8", `num_samples: ${n}`);

describe("a sweep whose output is piped", () => {
  it.each([
    ["stdout", ""],
    ["stdout and stderr", "2>&1"],
  ])("ends cleanly under `| head -1` (%s): evidence written, lock released", async (_what, redirect) => {
    const dir = await exampleRepo({ sweepYaml: withSamples(3) });
    const script = `"${process.execPath}" "${cliBin}" sweep ${redirect} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`;
    const r = await runProcess(["bash", "-c", script], { cwd: dir });
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toContain("exit=0");
    expect(r.stderr).not.toMatch(/EPIPE|internal error|at .*\.js:\d+/);
    expect(await readdir(path.join(dir, "runs"))).toEqual(["example_v1"]); // no example_v1.lock
    expect(await lines(path.join(dir, "submission_runs/example_v1/trials.jsonl"))).toHaveLength(3);
  });
});

describe("sweep flags, extension and resume", () => {
  it("takes --seed, --sampler and --num-samples; a higher num_samples extends the same sweep", async () => {
    const dir = await exampleRepo({ sweepYaml: true });
    const first = await runCli(["sweep", "--seed", "7", "--sampler", "random", "--num-samples", "3"], {
      cwd: dir,
    });
    expect(first.code).toBe(0);
    const manifest = JSON.parse(
      await readFile(path.join(dir, "submission_runs/example_v1/run_manifest.json"), "utf8"),
    );
    expect(manifest).toMatchObject({ sampler: "random", seed: 7 });
    const trialsDir = path.join(dir, "runs/example_v1/trials");
    expect(await readdir(trialsDir)).toEqual(["t0000", "t0001", "t0002"]);
    const before = await readFile(path.join(trialsDir, "t0000/trial.json"), "utf8");

    // A comment and max_failed_trials do not change what the trials mean: the sweep goes on.
    const config = path.join(dir, "training/sweep.yaml");
    await writeFile(
      config,
      `# a note\n${(await readFile(config, "utf8")).replace("max_failed_trials: null", "max_failed_trials: 5")}`,
    );
    const more = await runCli(["sweep", "--seed", "7", "--sampler", "random", "--num-samples", "5"], {
      cwd: dir,
    });
    expect(more.code).toBe(0);
    expect(more.stderr).toContain("5 trials, 2 to run");
    expect(await readdir(trialsDir)).toEqual(["t0000", "t0001", "t0002", "t0003", "t0004"]);
    expect(await readFile(path.join(trialsDir, "t0000/trial.json"), "utf8")).toBe(before);
    const sweepIds = new Set(
      (await lines(path.join(dir, "submission_runs/example_v1/trials.jsonl"))).map((t) => t.sweep_id),
    );
    expect(sweepIds.size).toBe(1);

    // Back to 3: nothing runs, and the first line says the 2 trials past it stay in the evidence.
    const fewer = await runCli(["sweep", "--seed", "7", "--sampler", "random", "--num-samples", "3"], {
      cwd: dir,
    });
    expect(fewer.code).toBe(0);
    expect(fewer.stderr).toMatch(
      /^sweep [\w-]+: 3 trials, 0 to run, \d+ at a time, 3 already completed \(resumed\), 2 more planned by an earlier run with a higher num_samples \(not run now, kept in the evidence\)/m,
    );
    expect(await lines(path.join(dir, "submission_runs/example_v1/trials.jsonl"))).toHaveLength(5);

    // Another seed means other trials: that asks for --fresh, naming what changed.
    const other = await runCli(["sweep", "--seed", "8", "--sampler", "random", "--num-samples", "5"], {
      cwd: dir,
    });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /training\/sweep\.yaml: seed changed since the sweep in runs\/example_v1 was planned.*--fresh/,
    );
    // So does the search space.
    await writeFile(config, (await readFile(config, "utf8")).replace("max: 3.0e-1", "max: 2.0e-1"));
    const space = await runCli(["sweep", "--seed", "7", "--sampler", "random"], { cwd: dir });
    expect(space.code).toBe(2);
    expect(space.stderr).toContain("search_space changed since the sweep");
  });

  it("lists the trials planned before any result with --dry-run, and checks the script the trainer runs", async () => {
    const dir = await exampleRepo({ sweepYaml: true });
    const dry = await runCli(["sweep", "--dry-run"], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/planned before any result \(5\):\n {2}t0000 learning_rate=/);
    expect(dry.stdout).toContain("(gp: warm-up (Sobol points) until 5 trials have a score (0 so far))");
    expect(dry.stdout).toContain("then: 3 more, proposed by gp's model as results come in");
    const random = await runCli(["sweep", "--dry-run", "--sampler", "random"], { cwd: dir });
    expect(random.stdout).toContain("planned before any result (8):");

    const config = path.join(dir, "training/sweep.yaml");
    await writeFile(
      config,
      (await readFile(config, "utf8")).replace(
        "- training/example/train.mjs",
        "- training/example/trian.mjs",
      ),
    );
    for (const args of [["validate"], ["sweep", "--dry-run"]]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `training/sweep.yaml: trainer.command.1: training/example/trian.mjs does not exist (the script node runs; paths are relative to the repository root ${dir})`,
      );
    }
  });
});

// Concurrent: each case sweeps in a folder of its own, its trainers mostly waiting.
describe.concurrent("the failure budget, devices and leftovers", () => {
  it("counts trials the budget kept from starting as not run, never as failed", async () => {
    const dir = await tempDir("tunix-rt-notrun-");
    // Seed 5 orders the grid ok, ok, ok, exit3, ...: one at a time, the fourth spends the budget.
    await writeFaultConfig(dir, {
      faults: ["ok", "exit3"],
      quality: [0.5, 0.75, 1],
      maxFailed: 0,
      extra: "seed: 5",
    });
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1"], { cwd: dir });
    expect(r.code).toBe(3);
    const ran = (await readdir(path.join(dir, "runs/fault_v1/trials"))).filter((n) => /^t\d+$/.test(n));
    expect(ran).toHaveLength(4);
    expect(r.stderr).toContain("failure budget spent (max_failed_trials 0): 2 trials were not run");
    // The failed trial shows why on its line: the last lines of its stderr.
    expect(r.stderr).toMatch(
      /t\d{4} failed .*: trainer exited with code 3: fault trainer: failing with exit code 3 \(see output\.log\)\n/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain("artifact");
    expect(await lines(path.join(dir, "submission_runs/fault_v1/trials.jsonl"))).toHaveLength(4);
    const manifest = JSON.parse(
      await readFile(path.join(dir, "submission_runs/fault_v1/run_manifest.json"), "utf8"),
    );
    expect(manifest.trials).toMatchObject({ total: 4, not_run: 2, failed: 1 });
    expect(await readFile(path.join(dir, "submission_runs/fault_v1/leaderboard.md"), "utf8")).toContain(
      "4 trials: 3 completed, 1 failed, 0 timed out, 2 not run.",
    );
  });

  it("runs max_concurrent_trials at once by default, and gives each worker its --gpus device, checked by nvidia-smi", async () => {
    const dir = await tempDir("tunix-rt-gpus-");
    await writeFaultConfig(dir, { faults: ["ok"], quality: [0.5, 1] });
    const config = path.join(dir, "sweep.yaml");
    // A trainer that also says which device it was given.
    await writeFile(
      config,
      (await readFile(config, "utf8")).replace(
        `command: [node, ${JSON.stringify(faultTrainer)}]`,
        `command: [sh, -c, 'echo "device=$CUDA_VISIBLE_DEVICES"; exec node ${faultTrainer}']`,
      ),
    );
    const one = await runCli(["sweep", "--config", "sweep.yaml"], { cwd: dir });
    expect(one.code).toBe(0);
    expect(one.stderr).toContain("1 at a time"); // max_concurrent_trials defaults to 1

    // nvidia-smi as the driver's tool prints it, on PATH (this machine has no GPU).
    const bin = path.join(dir, "bin");
    await mkdir(bin);
    await writeFile(
      path.join(bin, "nvidia-smi"),
      '#!/bin/sh\necho "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0b3c51f2-1d7e-4c1a-9a44-0f3e2a9c1b11)"\necho "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-7f0d2e9a-55b1-4f8e-8c2d-3a6b1e0f4d22)"\n',
    );
    await chmod(path.join(bin, "nvidia-smi"), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const bad = await runCli(["sweep", "--config", "sweep.yaml", "--gpus", "0,3", "--fresh"], {
      cwd: dir,
      env,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--gpus: got "3"; this machine has GPU 0, GPU 1 (nvidia-smi -L)');
    const good = await runCli(
      ["sweep", "--config", "sweep.yaml", "--gpus", "1,GPU-0b3c", "--parallel", "2", "--fresh"],
      {
        cwd: dir,
        env,
      },
    );
    expect(good.code).toBe(0);
    expect(good.stderr).toMatch(/t0000 started \(worker 0, device 1\)/);
    expect(good.stderr).toMatch(/t0001 started \(worker 1, device GPU-0b3c\)/);
    expect(await readFile(path.join(dir, "runs/fault_v1/trials/t0000/output.log"), "utf8")).toContain(
      "device=1\n",
    );

    // The good --fresh kept the first sweep aside (the refused one touched nothing); --clean-old removes it.
    const kept = (await readdir(path.join(dir, "runs"))).filter((n) => n.startsWith("fault_v1.old-"));
    expect(kept).toHaveLength(1);
    const clean = await runCli(["sweep", "--config", "sweep.yaml", "--clean-old"], { cwd: dir });
    expect(clean.code).toBe(0);
    expect(clean.stderr).toContain(`removed runs/${kept[0]} (--clean-old)`);
    expect((await readdir(path.join(dir, "runs"))).filter((n) => n.startsWith("fault_v1.old-"))).toEqual([]);
  });

  it("stops when the first three trials all fail, says why and how to turn that off; 0 runs every trial", async () => {
    const dir = await tempDir("tunix-rt-earlystop-");
    await writeFaultConfig(dir, { faults: ["exit3"], quality: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] });
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1"], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      "tunix-rt sweep: stopped early: the first 3 trials all failed and none completed; t0000: trainer exited with code 3",
    );
    expect(r.stderr).toContain("so 3 trials were not run");
    expect(r.stderr).toContain("set early_stop_failures: 0 in sweep.yaml to run every trial whatever fails");
    const ran = (await readdir(path.join(dir, "runs/fault_v1/trials"))).filter((n) => /^t\d+$/.test(n));
    expect(ran).toHaveLength(3);

    // Turned off, every planned trial runs (and the sweep ends as a sweep with no score does).
    const config = path.join(dir, "sweep.yaml");
    await writeFile(config, `${await readFile(config, "utf8")}\nearly_stop_failures: 0\n`);
    const all = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1", "--fresh"], { cwd: dir });
    expect(all.stderr).not.toContain("stopped early");
    expect(
      (await readdir(path.join(dir, "runs/fault_v1/trials"))).filter((n) => /^t\d+$/.test(n)),
    ).toHaveLength(6);
  });

  it("does not stop early once a trial has completed, nor when max_failed_trials sets the budget", async () => {
    const dir = await tempDir("tunix-rt-earlystop-ok-");
    // Seed 5 orders the grid ok, ok, ok, exit3, ...: the failures come after completed trials.
    await writeFaultConfig(dir, { faults: ["ok", "exit3"], quality: [0.5, 0.75, 1], extra: "seed: 5" });
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("stopped early");
    const budget = await tempDir("tunix-rt-earlystop-budget-");
    await writeFaultConfig(budget, { faults: ["exit3"], quality: [0.1, 0.2, 0.3, 0.4, 0.5], maxFailed: 2 });
    const spent = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1"], { cwd: budget });
    expect(spent.stderr).not.toContain("stopped early");
    expect(spent.stderr).toContain("failure budget spent (max_failed_trials 2)");
  });

  it("says in its first lines that the tree is dirty and that --gpus ids went unchecked without nvidia-smi", async () => {
    const dir = await tempDir("tunix-rt-firstlines-");
    await writeFaultConfig(dir, { faults: ["ok"], quality: [0.5, 1] });
    await gitCommitAll(dir);
    await writeFile(path.join(dir, "notes.txt"), "uncommitted\n");
    // A PATH with node and sh but no nvidia-smi.
    const bin = await tempDir("tunix-rt-bin-no-smi-");
    await symlink(process.execPath, path.join(bin, "node"));
    for (const tool of ["sh", "git"]) {
      const found = (await runProcess(["sh", "-c", `command -v ${tool}`], { cwd: dir })).stdout.trim();
      await symlink(found, path.join(bin, tool));
    }
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--gpus", "0,1", "--parallel", "2"], {
      cwd: dir,
      env: { PATH: bin },
    });
    expect(r.code, r.stderr).toBe(0);
    const first = r.stderr.split("\n").slice(0, 3).join("\n");
    expect(first).toContain("note: the working tree has uncommitted changes (");
    expect(first).toContain("uncommitted changes (1 path: notes.txt)");
    expect(first).toContain("--gpus 0,1 was not checked: nvidia-smi is not on PATH");
    expect(r.stderr.indexOf("uncommitted changes")).toBeLessThan(r.stderr.indexOf("t0000 started"));
  });

  it("--fresh moves the run_version's old zips out of submission/ with the old sweep, and says so", async () => {
    const dir = await tempDir("tunix-rt-fresh-zips-");
    await writeFaultConfig(dir, { faults: ["ok"], quality: [0.5, 1] });
    expect((await runCli(["sweep", "--config", "sweep.yaml"], { cwd: dir })).code).toBe(0);
    const submission = path.join(dir, "submission");
    const before = (await readdir(submission)).filter((n) => n.endsWith(".zip"));
    expect(before).toHaveLength(1);
    await writeFile(path.join(submission, "tunix_rt_other_v1_2026-01-01_abc.zip"), "not this run_version");
    const again = await runCli(["sweep", "--config", "sweep.yaml", "--fresh"], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`with its zip from submission/ (${before[0]})`);
    const aside = (await readdir(path.join(dir, "runs"))).filter((n) => n.startsWith("fault_v1.old-"));
    expect(aside).toHaveLength(1);
    const keptFiles = await readdir(path.join(dir, "runs", aside[0] as string), { recursive: true });
    expect(keptFiles.map((f) => path.basename(f))).toContain(before[0]);
    // Another run_version's zip stays; the new sweep's zip is the only fault_v1 zip left.
    const after = await readdir(submission);
    expect(after).toContain("tunix_rt_other_v1_2026-01-01_abc.zip");
    expect(after.filter((n) => n.startsWith("tunix_rt_fault_v1_"))).toHaveLength(1);
  });

  it("writes where its time went with TUNIX_RT_PROFILE: each trial's phases, and the once-per-sweep ones", async () => {
    const dir = await tempDir("tunix-rt-profile-");
    await writeFaultConfig(dir, { faults: ["ok"], quality: [0.25, 0.5, 0.75] });
    const r = await runCli(["sweep", "--config", "sweep.yaml"], {
      cwd: dir,
      env: { TUNIX_RT_PROFILE: "profile.json" },
    });
    expect(r.code, r.stderr).toBe(0);
    const phases = JSON.parse(await readFile(path.join(dir, "profile.json"), "utf8")) as Record<
      string,
      { ms: number; count: number }
    >;
    for (const phase of ["trial: trainer process", "trial: grading", "trial: record"])
      expect(phases[phase]?.count, phase).toBe(3);
    // A plan for each trial, and the one that finds nothing left.
    expect(phases["sweep: plan the next trial"]?.count).toBe(4);
    for (const phase of ["once: aggregate", "once: verify", "once: package", "total"])
      expect(phases[phase]?.count, phase).toBe(1);
    // Outside git, no trial asks git for its source.
    expect(phases["trial: git source"]).toBeUndefined();
    const total = phases.total?.ms ?? 0;
    for (const [phase, { ms }] of Object.entries(phases)) {
      expect(ms, phase).toBeGreaterThanOrEqual(0);
      if (phase.startsWith("once")) expect(ms, phase).toBeLessThanOrEqual(total);
    }
  });
});
