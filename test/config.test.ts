import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { validateConfig } from "../src/core/config/config.js";
import { importConfig } from "../src/core/config/import.js";
import { samplerNames } from "../src/core/config/sampler-names.js";
import { formatProblem, InputError } from "../src/core/errors.js";
import { loadConfig } from "../src/runtime/config-file.js";
import { repoRoot, tempDir } from "./helpers/cli.js";

const m34Space = `search_space:
  learning_rate: {type: loguniform, min: 1.0e-5, max: 1.0e-4}
  per_device_batch_size: {type: choice, values: [1, 2, 4]}
  weight_decay: {type: uniform, min: 0.0, max: 0.1}
  warmup_steps: {type: choice, values: [0, 10, 20]}
`;

/** Writes `text` as training/sweep.yaml (or `name`) in a fresh folder and loads it. */
async function load(
  text: string,
  {
    name = "training/sweep.yaml",
    needs = {},
  }: { name?: string; needs?: { trainer?: boolean; evalset?: boolean } } = {},
) {
  const dir = await tempDir("tunix-rt-config-");
  await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
  await writeFile(path.join(dir, name), text);
  return loadConfig(name, { cwd: dir, needs });
}

async function errorOf(text: string, options: Parameters<typeof load>[1] = {}): Promise<string> {
  try {
    await load(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be refused");
}

describe("sweep config validation", () => {
  it("fills the M34 defaults", async () => {
    const { config, format, notes, sha256 } = await load(m34Space);
    expect(format).toBe("tunix-rt");
    expect(notes).toEqual([]);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(config).toMatchObject({
      name: "Tuning Sweep",
      run_version: "m34_v1",
      dataset_key: "dev-reasoning-v2",
      base_model_id: "google/gemma-3-1b-it",
      metric_name: "answer_correctness",
      metric_mode: "max",
      num_samples: 5,
      max_concurrent_trials: 1,
      max_failed_trials: null,
      seed: 42,
      sampler: "auto",
    });
    expect(config.trainer).toBeUndefined();
    expect(config.evalset).toBeUndefined();
    expect(Object.keys(config.search_space)).toEqual([
      "learning_rate",
      "per_device_batch_size",
      "weight_decay",
      "warmup_steps",
    ]);
  });

  it("loads the repository's sweep config, trainer and evalset included", async () => {
    const { config } = await loadConfig("training/gemma/sweep.yaml", {
      cwd: repoRoot,
      needs: { trainer: true, evalset: true },
    });
    expect(config.trainer?.command).toContain("{learning_rate}");
    expect(config.trainer?.timeout_minutes).toBe(120);
  });

  it("names an unknown key, where it is", async () => {
    expect(await errorOf(`${m34Space}smaple: random\n`)).toMatch(
      /^training\/sweep\.yaml: smaple: unknown key "smaple"; expected one of name, run_version, /,
    );
    expect(await errorOf(`${m34Space}trainer: {command: [x], timeout: 5}\n`)).toBe(
      'training/sweep.yaml: trainer.timeout: unknown key "timeout"; expected one of command, timeout_minutes, env',
    );
    expect(await errorOf("search_space:\n  lr: {type: uniform, min: 0, max: 1, q: 0.1}\n")).toBe(
      'training/sweep.yaml: search_space.lr.q: unknown key "q"; expected one of type, min, max (for type uniform)',
    );
  });

  it("refuses a loguniform min <= 0 with the exact message", async () => {
    expect(await errorOf("search_space:\n  learning_rate: {type: loguniform, min: -1, max: 1.0e-4}\n")).toBe(
      "training/sweep.yaml: search_space.learning_rate.min: got -1; loguniform needs min > 0",
    );
  });

  it("refuses metric_mode min: minimizing primary_score would promote the worst trial", async () => {
    expect(await errorOf(`${m34Space}metric_mode: min\n`)).toBe(
      'training/sweep.yaml: metric_mode: got "min"; primary_score is higher-is-better by definition (the share of correct answers), so a sweep always promotes the highest; remove metric_mode or set it to max',
    );
  });

  it("names bad values and what was expected", async () => {
    const cases: [string, string][] = [
      [
        "search_space:\n  lr: {type: logunif, min: 1, max: 2}\n",
        'search_space.lr.type: got "logunif"; expected one of uniform, loguniform, randint, choice, quniform, qloguniform, normal, lognormal, beta',
      ],
      [
        "search_space:\n  lr: {min: 1, max: 2}\n",
        "search_space.lr.type: missing; expected one of uniform, loguniform, randint, choice, quniform, qloguniform, normal, lognormal, beta",
      ],
      ["search_space:\n  lr: 5\n", "search_space.lr: got 5; expected a mapping"],
      [
        "search_space:\n  lr: {type: uniform, min: 0, max: .inf}\n",
        "search_space.lr.max: got Infinity; expected a finite number",
      ],
      [
        "search_space:\n  lr: {type: uniform, min: 2, max: 1}\n",
        "search_space.lr.max: got 1, below min 2; expected max >= min",
      ],
      [
        "search_space:\n  n: {type: randint, min: 1.5, max: 3}\n",
        "search_space.n.min: got 1.5; expected a whole number",
      ],
      [
        "search_space:\n  c: {type: choice, values: [1, 1]}\n",
        "search_space.c.values.1: got 1 twice; expected distinct values (give weights to draw one more often)",
      ],
      [
        "search_space:\n  c: {type: choice, values: [null, 1], weights: [0, 0]}\n",
        "search_space.c.weights: are all 0; expected at least one weight > 0",
      ],
      [
        "search_space:\n  c: {type: choice, values: []}\n",
        "search_space.c.values: got []; expected at least 1 item",
      ],
      [
        "search_space:\n  d: {type: quniform, min: 0.11, max: 0.19, q: 0.1}\n",
        "search_space.d.q: got 0.1; no multiple of q lies in [0.11, 0.19]",
      ],
      [
        "search_space:\n  d: {type: qloguniform, min: 1, max: 2, q: 0}\n",
        "search_space.d.q: got 0; qloguniform needs q > 0",
      ],
      ["search_space: {}\n", "search_space: is empty; expected at least one parameter"],
      ["name: x\n", "search_space: missing; expected a mapping"],
      ["- 1\n", "got [1]; expected a mapping"],
      [
        "search_space:\n  budget: {type: uniform, min: 0, max: 1}\n",
        'search_space.budget: parameter name "budget" is reserved by the trial contract',
      ],
      [
        `${m34Space}run_version: ../x\n`,
        `run_version: got "../x"; expected letters, digits, '.', '_' or '-' (no '..', at most 100 characters), starting with a letter or digit, not ending in '.' or '.lock'`,
      ],
      [`${m34Space}metric_mode: up\n`, 'metric_mode: got "up"; expected one of max, min'],
      [`${m34Space}sampler: bayes\n`, `sampler: got "bayes"; expected one of ${samplerNames.join(", ")}`],
      [`${m34Space}seed: 4294967296\n`, "seed: got 4294967296; expected <= 4294967295"],
      [`${m34Space}num_samples: 0\n`, "num_samples: got 0; expected >= 1"],
      [
        `${m34Space}trainer: {command: [x], timeout_minutes: 0}\n`,
        "trainer.timeout_minutes: got 0; expected > 0",
      ],
      [
        `${m34Space}seed: 123456789012345678901\n`,
        "seed: got 123456789012345678901; whole numbers must lie within -9007199254740991..9007199254740991",
      ],
    ];
    for (const [text, message] of cases) expect(await errorOf(text)).toBe(`training/sweep.yaml: ${message}`);
  });

  it("reports YAML errors with a line, and duplicate keys", async () => {
    expect(await errorOf(`${m34Space}name: [unclosed\n`)).toMatch(
      /^training\/sweep\.yaml:\d+: not valid YAML: /,
    );
    expect(await errorOf(`${m34Space}seed: 1\nseed: 2\n`)).toMatch(
      /^training\/sweep\.yaml:\d+: not valid YAML: .*[Uu]nique|duplicate/,
    );
  });

  it("refuses an unknown placeholder in the trainer argv or env", async () => {
    expect(await errorOf(`${m34Space}trainer: {command: [python, train.py, "{learning_rat}"]}\n`)).toBe(
      "training/sweep.yaml: trainer.command.2: unknown placeholder {learning_rat}; expected a parameter (learning_rate, per_device_batch_size, weight_decay, warmup_steps) or trial_id, output_dir, seed, budget",
    );
    expect(await errorOf(`${m34Space}trainer: {command: [x], env: {A: "{nope}"}}\n`)).toMatch(
      /trainer\.env\.A: unknown placeholder \{nope\}/,
    );
    const { config } = await load(
      `${m34Space}trainer: {command: [x, "{trial_id}", "{{literal}}", "{seed}"], env: {OUT: "{output_dir}"}}\n`,
    );
    expect(config.trainer?.command).toEqual(["x", "{trial_id}", "{{literal}}", "{seed}"]);
  });

  it("needs trainer and evalset only when the command asks", async () => {
    await expect(load(m34Space)).resolves.toBeTruthy();
    expect(await errorOf(m34Space, { needs: { trainer: true } })).toBe(
      "training/sweep.yaml: trainer: missing; this command runs trials and needs trainer.command",
    );
    expect(
      await errorOf(`${m34Space}trainer: {command: [x]}\n`, { needs: { trainer: true, evalset: true } }),
    ).toBe("training/sweep.yaml: evalset: missing; this command grades trials and needs an evalset path");
  });

  it("accepts an M34 tuning payload as it is", async () => {
    const payload = {
      name: "M34 Optimization Sweep",
      dataset_key: "dev-reasoning-v2",
      base_model_id: "google/gemma-3-1b-it",
      metric_name: "answer_correctness",
      metric_mode: "max",
      num_samples: 10,
      max_concurrent_trials: 2,
      search_space: {
        learning_rate: { type: "loguniform", min: 1e-5, max: 1e-4 },
        per_device_batch_size: { type: "choice", values: [1, 2, 4] },
        weight_decay: { type: "uniform", min: 0.0, max: 0.1 },
        warmup_steps: { type: "choice", values: [0, 10, 20] },
      },
    };
    const { config, format, notes } = await load(JSON.stringify(payload), { name: "payload.json" });
    expect(format).toBe("tunix-rt");
    expect(notes).toEqual([]);
    expect(config).toMatchObject({ ...payload, run_version: "m34_v1", seed: 42 });
  });
});

describe("W&B sweep translation", () => {
  const wandb = `method: bayes
metric: {name: answer_correctness, goal: maximize, target: 0.9}
program: train.py
early_terminate: {type: hyperband, min_iter: 3}
run_cap: 7
parameters:
  cat: {values: [1, 2]}
  const: {value: 3}
  ints: {min: 1, max: 5}
  floats: {min: 0.0, max: 1.0}
  lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-3}
  exp: {distribution: log_uniform, min: -5, max: 0}
  qexp: {distribution: q_log_uniform, min: 0, max: 4, q: 2}
  qu: {distribution: q_uniform, min: 0, max: 1, q: 0.25}
  qlv: {distribution: q_log_uniform_values, min: 1, max: 100}
  named: {distribution: categorical, values: [x, y], probabilities: [0.5, 0.5]}
  fixed: {distribution: constant, value: z}
  iu: {distribution: int_uniform, min: 0, max: 3}
  u: {distribution: uniform, min: 0, max: 1}
`;

  it("translates each distribution, and notes what it drops", async () => {
    const { config, format, notes } = await load(wandb, { name: "wandb.yaml" });
    expect(format).toBe("wandb");
    expect(config).toMatchObject({
      sampler: "auto",
      metric_name: "answer_correctness",
      metric_mode: "max",
      num_samples: 7,
    });
    expect(config.search_space).toEqual({
      cat: { type: "choice", values: [1, 2] },
      const: { type: "choice", values: [3] },
      ints: { type: "randint", min: 1, max: 5 },
      // W&B infers uniform from float bounds: 0.0 and 1.0 are floats even though whole.
      floats: { type: "uniform", min: 0, max: 1 },
      lr: { type: "loguniform", min: 1e-5, max: 1e-3 },
      exp: { type: "loguniform", min: Math.exp(-5), max: 1 },
      qexp: { type: "qloguniform", min: 1, max: Math.exp(4), q: 2 },
      qu: { type: "quniform", min: 0, max: 1, q: 0.25 },
      qlv: { type: "qloguniform", min: 1, max: 100, q: 1 },
      named: { type: "choice", values: ["x", "y"], weights: [0.5, 0.5] },
      fixed: { type: "choice", values: ["z"] },
      iu: { type: "randint", min: 0, max: 3 },
      u: { type: "uniform", min: 0, max: 1 },
    });
    // W&B's hyperband early termination is ASHA pruning on the sweep's metric, same brackets.
    expect(config.pruning).toEqual({
      metric: "answer_correctness",
      mode: "max",
      rule: "asha",
      reduction_factor: 3,
      min_resource: 3,
      warmup_steps: 0,
      interval_steps: 1,
      min_trials: 4,
      protect_leaders: true,
      grace_seconds: 30,
    });
    // program: W&B's default command, its args macro kept for each trial.
    expect(config.trainer?.command).toEqual(["/usr/bin/env", "python", "train.py", "{wandb:args}"]);
    const text = notes.join("\n");
    for (const dropped of [
      "metric.target",
      "program: runs as W&B's agent would run it",
      "early_terminate: hyperband runs as ASHA pruning",
      "base_model_id: not given; the evidence records the model as null",
      'method: "bayes"',
    ]) {
      expect(text).toContain(`wandb.yaml: ${dropped}`);
    }
  });

  it("never turns primary_score upside down: another metric is recorded as tracked_metric, with a note", async () => {
    const { config, notes } = await load(
      "method: grid\nmetric: {name: val_loss, goal: minimize}\nrun_version: w1\nparameters:\n  a: {values: [1]}\n",
      { name: "w.yaml" },
    );
    // The sweep still ranks by primary_score, highest first; val_loss is not recorded as its metric.
    expect(config).toMatchObject({
      sampler: "grid",
      metric_mode: "max",
      metric_name: "answer_correctness",
      run_version: "w1",
    });
    expect(config.tracked_metric).toEqual({ name: "val_loss", mode: "min" });
    // W&B's goal defaults to minimize: a metric without one is tracked as lower-is-better.
    expect(
      (
        await load("method: grid\nmetric: {name: loss}\nparameters:\n  a: {values: [1]}\n", {
          name: "w.yaml",
        })
      ).config.tracked_metric,
    ).toEqual({ name: "loss", mode: "min" });
    expect(notes).toContain(
      "w.yaml: metric: \"val_loss\" (minimize) is recorded as tracked_metric, each trial's last value of it in metrics.jsonl (a trainer that logs only to W&B leaves it null); trials are ranked by primary_score, graded from each trial's predictions against the evalset, highest first",
    );
  });

  it("maximizes primary_score when W&B gives no goal, and refuses minimizing it", async () => {
    const { config, notes } = await load(
      "method: grid\nmetric: {name: primary_score}\nparameters:\n  a: {values: [1]}\n",
      { name: "w.yaml" },
    );
    expect(config).toMatchObject({ metric_mode: "max", metric_name: "primary_score" });
    expect(notes.join("\n")).toContain(
      "w.yaml: metric.goal: not given (W&B would minimize); primary_score is higher-is-better, so the sweep maximizes it",
    );
    expect(
      await errorOf(
        "method: grid\nmetric: {name: answer_correctness, goal: minimize}\nparameters:\n  a: {values: [1]}\n",
        {
          name: "w.yaml",
        },
      ),
    ).toBe(
      'w.yaml: metric.goal: got "minimize" for answer_correctness; primary_score is higher-is-better by definition (the share of correct answers), so a sweep always promotes the highest; remove metric_mode or set it to max',
    );
  });

  it("runs W&B's program as its agent would, unless a trainer section replaces it (said)", async () => {
    const space = "method: random\nparameters:\n  a: {values: [1]}\nprogram: train.py\n";
    expect((await load(space, { name: "w.yaml" })).config.trainer?.command).toEqual([
      "/usr/bin/env",
      "python",
      "train.py",
      "{wandb:args}",
    ]);
    const withTrainer = await load(`${space}trainer: {command: [python, train.py]}\n`, { name: "w.yaml" });
    expect(withTrainer.config.trainer?.command).toEqual(["python", "train.py"]);
    expect(withTrainer.notes.join("\n")).toContain(
      "w.yaml: program: not used; the trainer section runs the trials",
    );
  });

  it("refuses what it cannot translate", async () => {
    const bad = (params: string, method = "random") =>
      errorOf(`method: ${method}\nparameters:\n${params}`, { name: "w.yaml" });
    expect(await bad("  a: {distribution: cauchy, mu: 0, sigma: 1}\n")).toMatch(
      /^w\.yaml: parameters\.a\.distribution: got "cauchy"; expected one of categorical, /,
    );
    expect(await bad("  a: {parameters: {b: {values: [1]}}, values: [2]}\n")).toBe(
      "w.yaml: parameters.a.values: a nested parameters group holds only parameters",
    );
    expect(await bad("  a: {min: 0.0, max: 1.0}\n", "grid")).toMatch(
      /^w\.yaml: parameters\.a\.distribution: got "uniform" under method: grid; W&B's grid takes categorical, constant, int_uniform or q_uniform/,
    );
    expect(await bad("  a: {min: 0, max: 1, maxx: 2}\n")).toMatch(
      /^w\.yaml: parameters\.a\.maxx: unknown key "maxx"; expected one of values, value, distribution, /,
    );
    expect(await bad("  a: {values: [1]}\n", "hyperband")).toBe(
      'w.yaml: method: got "hyperband"; expected one of random, grid, bayes',
    );
  });

  it("infers integers from plain numbers when no parser marked them", () => {
    const imported = importConfig({ method: "random", parameters: { a: { min: 0, max: 1 } } }, "w.json");
    expect(imported.raw).toMatchObject({
      sampler: "random",
      search_space: { a: { type: "randint", min: 0, max: 1 } },
    });
  });
});

describe("M34 tuning job translation", () => {
  it("reads a job as the M34 API returns it, dropping what describes the past job", async () => {
    const job = {
      id: "0b6f3c1e-8a51-4c5e-9a0f-3d2b1c4e5f60",
      name: "M34 Optimization Sweep",
      status: "completed",
      dataset_key: "dev-reasoning-v2",
      base_model_id: "google/gemma-3-1b-it",
      mode: "ray",
      metric_name: "answer_correctness",
      metric_mode: "max",
      num_samples: 10,
      max_concurrent_trials: 1,
      search_space_json: {
        learning_rate: { type: "loguniform", min: 1e-5, max: 1e-4 },
        per_device_batch_size: { type: "choice", values: [1, 2, 4] },
      },
      best_run_id: null,
      best_params_json: { learning_rate: 3e-5, per_device_batch_size: 2 },
      created_at: "2025-12-27T10:00:00Z",
      started_at: null,
      completed_at: null,
      trials: [{ id: "abc", params_json: {}, metric_value: 0.5 }],
    };
    const { config, format, notes } = await load(JSON.stringify(job), { name: "job.json" });
    expect(format).toBe("m34-job");
    expect(config).toMatchObject({ name: "M34 Optimization Sweep", num_samples: 10, metric_mode: "max" });
    expect(Object.keys(config.search_space)).toEqual(["learning_rate", "per_device_batch_size"]);
    expect(notes).toEqual([
      "job.json: id: dropped (describes the M34 job, not the sweep)",
      "job.json: status: dropped (describes the M34 job, not the sweep)",
      "job.json: mode: dropped (describes the M34 job, not the sweep)",
      "job.json: best_params_json: dropped (describes the M34 job, not the sweep)",
      "job.json: created_at: dropped (describes the M34 job, not the sweep)",
      "job.json: trials: dropped (describes the M34 job, not the sweep)",
    ]);
  });
});

describe("validateConfig", () => {
  it("returns every problem, each one line naming the file", () => {
    const result = validateConfig(
      { search_space: { a: { type: "uniform", min: 2, max: 1 } }, seed: -1, sampler: "x" },
      "c.yaml",
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map(formatProblem)).toEqual([
      "c.yaml: seed: got -1; expected >= 0",
      `c.yaml: sampler: got "x"; expected one of ${samplerNames.join(", ")}`,
    ]);
  });
});
