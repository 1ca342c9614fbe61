// `tunix-rt plan` as users run it: a real child process of the built CLI (npm test builds lib/).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isInSpace } from "../src/core/config/space.js";
import type { Plan } from "../src/core/search/plan.js";
import { resolveSampler, samplerNames } from "../src/core/search/samplers/index.js";
import { repoRoot, runCli, tempDir } from "./helpers/cli.js";

const sweepId = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
const m34Space = {
  learning_rate: { type: "loguniform", min: 1e-5, max: 1e-4 },
  per_device_batch_size: { type: "choice", values: [1, 2, 4] },
  weight_decay: { type: "uniform", min: 0.0, max: 0.1 },
  warmup_steps: { type: "choice", values: [0, 10, 20] },
} as const;

const plan = (args: string[], options: Parameters<typeof runCli>[1] = {}) =>
  runCli(["plan", ...args], options);
const parsed = (stdout: string) => JSON.parse(stdout) as Plan;
const asHistory = (p: Plan) =>
  p.trials.map((t) => JSON.stringify({ ...t, status: "completed", primary_score: 0.5 })).join("\n");

describe("tunix-rt plan", () => {
  it("prints the same bytes twice for the same config, seed and sweep id", async () => {
    const args = [
      "--config",
      "training/gemma/sweep.yaml",
      "--seed",
      "7",
      "--sweep-id",
      sweepId,
      "--count",
      "5",
    ];
    const [a, b] = await Promise.all([plan(args), plan(args)]);
    expect(a.code).toBe(0);
    expect(a.stderr).toBe("");
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.endsWith("}\n")).toBe(true);
    const p = parsed(a.stdout);
    expect(Object.keys(p)).toEqual([
      "sweep_id",
      "run_version",
      "sampler",
      "seed",
      "trials",
      "matrix",
      "proposed",
    ]);
    expect(p).toMatchObject({
      sweep_id: sweepId,
      run_version: "m34_v1",
      sampler: resolveSampler("auto"),
      seed: 7,
    });
    expect(p.trials.map((t) => t.trial_id)).toEqual(["t0000", "t0001", "t0002", "t0003", "t0004"]);
    for (const trial of p.trials) {
      for (const [name, spec] of Object.entries(m34Space))
        expect(isInSpace(spec as never, trial.params[name])).toBe(true);
    }
    expect(p.matrix.include).toEqual(p.trials);
    for (const entry of p.matrix.include) {
      expect(Object.keys(entry)).toEqual(["sweep_id", "trial_id", "seed", "params"]);
      expect(entry.sweep_id).toBe(sweepId);
      expect(Number.isInteger(entry.seed)).toBe(true);
    }
  });

  it("makes a new UUID per run without --sweep-id", async () => {
    const [a, b] = await Promise.all([
      plan(["--config", "training/gemma/sweep.yaml"]),
      plan(["--config", "training/gemma/sweep.yaml"]),
    ]);
    const [ia, ib] = [parsed(a.stdout).sweep_id, parsed(b.stdout).sweep_id];
    expect(ia).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ia).not.toBe(ib);
    expect(parsed(a.stdout).trials.map((t) => t.params)).toEqual(
      parsed(b.stdout).trials.map((t) => t.params),
    );
  });

  it("numbers on after --history and proposes --count new trials", async () => {
    const dir = await tempDir("tunix-rt-plan-");
    const config = path.join(repoRoot, "training/gemma/sweep.yaml");
    for (const sampler of ["random", "grid"]) {
      const common = ["--config", config, "--sweep-id", sweepId, "--sampler", sampler];
      const all = parsed((await plan([...common, "--count", "7"], { cwd: dir })).stdout);
      const first = parsed((await plan([...common, "--count", "4"], { cwd: dir })).stdout);
      await writeFile(path.join(dir, "history.jsonl"), `${asHistory(first)}\n`);
      const next = await plan([...common, "--count", "3", "--history", "history.jsonl"], { cwd: dir });
      expect(next.code).toBe(0);
      const second = parsed(next.stdout);
      expect(second.trials.map((t) => t.trial_id)).toEqual(["t0004", "t0005", "t0006"]);
      expect([...first.trials, ...second.trials]).toEqual(all.trials);
    }
  });

  it("refuses more than 256 trials in one matrix, in one line that says how to split", async () => {
    const r = await plan(["--config", "training/gemma/sweep.yaml", "--count", "300", "--sweep-id", sweepId]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(
      "300 trials (--count) exceed the 256 jobs one matrix may hold; plan in waves: --count 256, then --count 44 --history",
    );
  });

  it("refuses a bad sweep id, sampler, run version, seed or history with exit 2", async () => {
    const bad = async (args: string[], message: string) => {
      const r = await plan(["--config", "training/gemma/sweep.yaml", ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };
    await bad(["--sweep-id", "not-a-uuid"], '--sweep-id: got "not-a-uuid"; expected a UUID');
    await bad(["--sampler", "bayes"], `--sampler: got "bayes"; expected one of ${samplerNames.join(", ")}`);
    await bad(["--run-version", "../up"], '--run-version: got "../up"; expected letters, digits');
    await bad(["--seed", "4294967296"], "--seed: got");
    await bad(["--count", "0"], "--count: got");
    await bad(
      ["--history", "no-such-history.jsonl"],
      "no-such-history.jsonl: cannot read history: no such file or directory",
    );
    await bad(["--bogus"], "bogus");
    const r = await plan([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--config is required");
  });

  it("plans an M34 tuning payload (no trainer, no evalset)", async () => {
    const dir = await tempDir("tunix-rt-plan-");
    const payload = {
      name: "M34 Optimization Sweep",
      dataset_key: "dev-reasoning-v2",
      base_model_id: "google/gemma-3-1b-it",
      metric_name: "answer_correctness",
      metric_mode: "max",
      num_samples: 3,
      max_concurrent_trials: 1,
      search_space: m34Space,
    };
    await writeFile(path.join(dir, "m34.json"), JSON.stringify(payload, null, 2));
    const r = await plan(["--config", "m34.json", "--sweep-id", sweepId, "--run-version", "m34_v2"], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    // max_concurrent_trials 1 and no waves key: three waves of one, each planned from the scores before it.
    expect(r.stderr).toBe(
      "tunix-rt plan: note: no waves key: the sweep runs as 3 waves of 1 (one per round of max_concurrent_trials 1), each planned from every result before it; this is wave 1 (the next: --history with the records so far)\n",
    );
    const p = parsed(r.stdout);
    expect(p).toMatchObject({ run_version: "m34_v2", seed: 42, sampler: resolveSampler("auto") });
    expect(p.trials).toHaveLength(1);
    expect(p.proposed).toEqual({
      phase: "warm-up",
      trial_ids: ["t0000"],
      note: "gp: warm-up (Sobol points) until 5 trials have a score (0 so far)",
    });
  });

  it("plans a W&B sweep and notes on stderr what it translated", async () => {
    const dir = await tempDir("tunix-rt-plan-");
    await writeFile(
      path.join(dir, "wandb.yaml"),
      "program: train.py\nmethod: grid\nmetric: {name: answer_correctness, goal: maximize}\nearly_terminate: {type: hyperband, min_iter: 3}\nparameters:\n  epochs: {distribution: int_uniform, min: 1, max: 5}\n  batch_size: {values: [1, 2]}\n",
    );
    const r = await plan(["--config", "wandb.yaml", "--sweep-id", sweepId, "--count", "12"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("tunix-rt plan: note: wandb.yaml: program: runs as W&B's agent would run it");
    expect(r.stderr).toContain(
      "tunix-rt plan: note: wandb.yaml: method: grid runs every one of its 10 points, as W&B's grid does",
    );
    expect(r.stderr).toContain(
      'tunix-rt plan: note: wandb.yaml: early_terminate: hyperband runs as ASHA pruning on "answer_correctness" (max)',
    );
    // A grid of 5 (every integer of int_uniform) x 2 points plans 10 of the 12 asked, and says so.
    expect(r.stderr).toContain(
      "tunix-rt plan: note: sampler grid proposed 10 of 12 trials: its space has no other untried point",
    );
    const p = parsed(r.stdout);
    expect(p.sampler).toBe("grid");
    expect(p.trials).toHaveLength(10);
  });

  it("notes history trials outside the search space, and still counts them", async () => {
    const dir = await tempDir("tunix-rt-plan-");
    await writeFile(
      path.join(dir, "h.jsonl"),
      `${JSON.stringify({ trial_id: "t0000", params: { learning_rate: 0.5 }, status: "failed", primary_score: null })}\n`,
    );
    const r = await plan(
      [
        "--config",
        path.join(repoRoot, "training/gemma/sweep.yaml"),
        "--sweep-id",
        sweepId,
        "--history",
        "h.jsonl",
        "--count",
        "1",
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "tunix-rt plan: note: h.jsonl: 1 of 1 trials have params outside the search space (first: t0000)",
    );
    expect(parsed(r.stdout).trials[0]?.trial_id).toBe("t0001");
  });

  it("explains itself with --help", async () => {
    const r = await plan(["--help"]);
    expect(r.code).toBe(0);
    for (const flag of [
      "--config",
      "--seed",
      "--count",
      "--sampler",
      "--run-version",
      "--history",
      "--sweep-id",
      "Exit codes",
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });
});
