// biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B's command macros are ${...} text in these files
/**
 * W&B sweep files with W&B's meanings, one construct at a time, against what W&B's sweep
 * configuration reference says (the fixtures are written from it): 200 planned points of
 * each parameter lie in its range, with its integer or quantized values; grids are W&B's
 * grids, counted; the command runs as W&B's agent runs it, with Python's formatting
 * (checked against python3 itself); a trainer written for `wandb agent` runs unchanged.
 */
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pythonFloat, pythonJson, pythonStr } from "../src/core/config/wandb-args.js";
import { planTrials } from "../src/core/search/plan.js";
import type { Params } from "../src/core/types.js";
import { parseConfigText } from "../src/runtime/config-file.js";
import { trialArgv } from "../src/runtime/trial.js";
import { readJsonl, runCli, tempDir } from "./helpers/cli.js";

const sweepId = "00000000-0000-4000-8000-000000000001";
const load = (text: string) => parseConfigText(text, "wandb.yaml");
const errorOf = (text: string) => {
  try {
    load(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the file to be refused");
};
/** 200 planned points of a random sweep of `parameters`. */
const draws = (parameters: string, count = 200): Params[] => {
  const { config } = load(`method: random\nrun_cap: ${count}\nparameters:\n${parameters}`);
  return planTrials({ config, sweepId, count, sampler: "random" }).trials.map((t) => t.params);
};
const values = (parameters: string, name = "p") => draws(parameters).map((p) => p[name]);

describe("each W&B parameter construct, sampled as W&B documents it", () => {
  it("uniform (float bounds): floats in [min, max]", () => {
    const v = values("  p: {min: 0.5, max: 2.0}\n") as number[];
    expect(v.every((x) => x >= 0.5 && x <= 2)).toBe(true);
    expect(v.some((x) => !Number.isInteger(x))).toBe(true);
  });

  it("int_uniform (integer bounds, or named): every value a whole number in [min, max], both ends reached", () => {
    for (const spec of ["{min: 2, max: 5}", "{distribution: int_uniform, min: 2, max: 5}"]) {
      const v = values(`  p: ${spec}\n`) as number[];
      expect(v.every((x) => Number.isInteger(x) && x >= 2 && x <= 5)).toBe(true);
      expect(new Set(v)).toEqual(new Set([2, 3, 4, 5]));
    }
  });

  it("log_uniform_values: in [min, max]; log_uniform: bounds are natural-log exponents", () => {
    const plain = values("  p: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-1}\n") as number[];
    expect(plain.every((x) => x >= 1e-5 && x <= 0.1)).toBe(true);
    // Spread on the log scale: about half below the geometric middle, 1e-3.
    expect(plain.filter((x) => x < 1e-3).length).toBeGreaterThan(60);
    const exps = values("  p: {distribution: log_uniform, min: -4, max: 0}\n") as number[];
    expect(exps.every((x) => x >= Math.exp(-4) - 1e-12 && x <= 1)).toBe(true);
  });

  it("q_uniform and q_log_uniform_values: multiples of q within the bounds", () => {
    const q = values("  p: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n") as number[];
    expect(new Set(q)).toEqual(new Set([0, 0.25, 0.5, 0.75, 1]));
    const ql = values("  p: {distribution: q_log_uniform_values, min: 10, max: 1000, q: 10}\n") as number[];
    expect(ql.every((x) => x % 10 === 0 && x >= 10 && x <= 1000)).toBe(true);
  });

  it("normal, log_normal, beta and their q forms: W&B's defaults (mu 0, sigma 1, a 1, b 1, q 1), drawn from the distribution", () => {
    const normal = values("  p: {distribution: normal, mu: 10, sigma: 2}\n") as number[];
    const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
    expect(mean).toBeGreaterThan(9.5);
    expect(mean).toBeLessThan(10.5);
    expect(normal.filter((x) => Math.abs(x - 10) > 4).length).toBeLessThan(20);
    expect(
      (values("  p: {distribution: q_normal, mu: 0, sigma: 5, q: 2}\n") as number[]).every(
        (x) => x % 2 === 0,
      ),
    ).toBe(true);
    expect((values("  p: {distribution: log_normal}\n") as number[]).every((x) => x > 0)).toBe(true);
    expect(
      (values("  p: {distribution: q_log_normal, mu: 2, sigma: 0.5}\n") as number[]).every(Number.isInteger),
    ).toBe(true);
    expect(
      (values("  p: {distribution: beta, a: 2, b: 2}\n") as number[]).every((x) => x >= 0 && x <= 1),
    ).toBe(true);
    expect(new Set(values("  p: {distribution: q_beta, a: 1, b: 1, q: 0.5}\n"))).toEqual(
      new Set([0, 0.5, 1]),
    );
    const { config } = load("method: random\nrun_cap: 1\nparameters:\n  p: {distribution: normal}\n");
    expect(config.search_space.p).toEqual({ type: "normal", mu: 0, sigma: 1 });
  });

  it("inv_log_uniform(_values): 1/X log-uniform is X log-uniform, on the bounds W&B gives it", () => {
    const v = values("  p: {distribution: inv_log_uniform_values, min: 0.01, max: 1}\n") as number[];
    expect(v.every((x) => x >= 0.01 && x <= 1)).toBe(true);
    const e = values("  p: {distribution: inv_log_uniform, min: 0, max: 4}\n") as number[];
    expect(e.every((x) => x >= Math.exp(-4) - 1e-12 && x <= 1)).toBe(true);
  });

  it("categorical: any JSON value (null, a list, a mapping) is a level, passed as it is", () => {
    const v = values("  p: {values: [null, [1, 2], {opt: adam, lr: 0.1}, text, 3]}\n");
    const seen = new Set(v.map((x) => JSON.stringify(x)));
    expect(seen).toEqual(new Set(["null", "[1,2]", '{"opt":"adam","lr":0.1}', '"text"', "3"]));
  });

  it("repeated values are drawn as often as they are listed; probabilities weigh the values", () => {
    const repeated = values("  p: {values: [a, a, a, b]}\n");
    const a = repeated.filter((x) => x === "a").length;
    expect(a).toBeGreaterThan(120);
    expect(a).toBeLessThan(180);
    const weighted = values("  p: {values: [x, y], probabilities: [0.9, 0.1]}\n");
    expect(weighted.filter((x) => x === "x").length).toBeGreaterThan(160);
    const { notes } = load("method: random\nrun_cap: 3\nparameters:\n  p: {values: [a, a, b]}\n");
    expect(notes).toContain(
      "wandb.yaml: parameters.p.values: repeated values are drawn as often as they are listed (weights 2, 1)",
    );
  });

  it("a constant of any type is passed as it is, on every trial", () => {
    for (const [text, value] of [
      ["{value: 3}", 3],
      ["{value: {depth: 2, act: relu}}", { depth: 2, act: "relu" }],
      ["{value: [1, 2]}", [1, 2]],
      ["{distribution: constant, value: null}", null],
    ] as const)
      expect(new Set(values(`  p: ${text}\n`).map((x) => JSON.stringify(x)))).toEqual(
        new Set([JSON.stringify(value)]),
      );
  });

  it("nested parameters are dotted names, and names may hold '.' and '-' (Hydra style)", () => {
    const [params] = draws(
      "  model:\n    parameters:\n      depth: {values: [3]}\n      head:\n        parameters:\n          width: {value: 8}\n  trainer.max-epochs: {value: 2}\n",
    );
    expect(params).toEqual({ "model.depth": 3, "model.head.width": 8, "trainer.max-epochs": 2 });
  });

  it("reads yes/no/on/off as booleans, as W&B's loader does (and says so), but not y or n", () => {
    const { config, notes } = load(
      "method: random\nrun_cap: 1\nparameters:\n  a: {value: no}\n  b: {values: [on, off]}\n  c: {value: y}\n  d: {value: 'no'}\n",
    );
    expect(config.search_space).toMatchObject({
      a: { values: [false] },
      b: { values: [true, false] },
      c: { values: ["y"] },
      d: { values: ["no"] },
    });
    expect(notes[0]).toBe(
      'wandb.yaml: read with YAML 1.1 booleans, as W&B\'s loader reads it: parameters.a.value: "no" is false; parameters.b.values.0: "on" is true; parameters.b.values.1: "off" is false',
    );
  });
});

describe("grids and sweep sizes as W&B has them", () => {
  it("a grid without run_cap runs every point: categorical x int_uniform (every integer) x q_uniform (max excluded) x constant", () => {
    const { config, notes } = load(
      "method: grid\nparameters:\n  a: {values: [x, y, x]}\n  b: {min: 1, max: 4}\n  c: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n  d: {value: 7}\n",
    );
    // 2 distinct values x 4 integers x numpy.arange(0, 1, 0.25) (4 values) x 1.
    expect(config.num_samples).toBe(32);
    expect(config.search_space.b).toEqual({ type: "choice", values: [1, 2, 3, 4] });
    expect(config.search_space.c).toEqual({ type: "choice", values: [0, 0.25, 0.5, 0.75] });
    expect(notes).toContain("wandb.yaml: method: grid runs every one of its 32 points, as W&B's grid does");
    expect(notes).toContain(
      "wandb.yaml: parameters.a.values: 1 repeated value(s) dropped: W&B's grid visits each point once",
    );
    const plan = planTrials({ config, sweepId, count: config.num_samples });
    const keys = new Set(plan.trials.map((t) => JSON.stringify(t.params)));
    expect(keys.size).toBe(32);
  });

  it("a grid refuses what W&B's refuses: a continuous range, probabilities", () => {
    expect(errorOf("method: grid\nparameters:\n  a: {min: 0.0, max: 1.0}\n")).toMatch(
      /^wandb\.yaml: parameters\.a\.distribution: got "uniform" under method: grid; W&B's grid takes categorical, constant, int_uniform or q_uniform/,
    );
    expect(errorOf("method: grid\nparameters:\n  a: {values: [1, 2], probabilities: [0.5, 0.5]}\n")).toBe(
      "wandb.yaml: parameters.a.probabilities: W&B's grid refuses probabilities (every point of a grid runs once)",
    );
  });

  it("random and bayes without run_cap run a stated number of trials, said once", () => {
    const { config, notes } = load("method: bayes\nparameters:\n  a: {min: 0.0, max: 1.0}\n");
    expect(config.num_samples).toBe(20);
    expect(notes.filter((n) => n.includes("run_cap"))).toEqual([
      "wandb.yaml: run_cap: not given; W&B runs until the sweep is stopped, tunix-rt runs 20 trials (give run_cap to choose)",
    ]);
  });
});

describe("the rest of a W&B file", () => {
  it("name becomes the run_version when it can be one, else a note says why not", () => {
    expect(load("name: lr-sweep_2\nmethod: random\nparameters:\n  a: {value: 1}\n").config.run_version).toBe(
      "lr-sweep_2",
    );
    const bad = load("name: My LR sweep!\nmethod: random\nparameters:\n  a: {value: 1}\n");
    expect(bad.config.name).toBe("My LR sweep!");
    expect(bad.notes.join("\n")).toContain('wandb.yaml: name: "My LR sweep!" is not a run_version');
  });

  it("a model or dataset the file does not give is null, with a note, never Gemma", () => {
    const { config, notes } = load("method: random\nparameters:\n  a: {value: 1}\n");
    expect(config.base_model_id).toBeNull();
    expect(config.dataset_key).toBeNull();
    expect(notes).toContain(
      "wandb.yaml: base_model_id: not given; the evidence records the model as null (give base_model_id to name it)",
    );
    const given = load("method: random\nbase_model_id: google/gemma-2-2b\nparameters:\n  a: {value: 1}\n");
    expect(given.config.base_model_id).toBe("google/gemma-2-2b");
  });

  it("a sweep under a `sweep:` key is read; Launch, Optuna scheduler and tune files are named for what they are", () => {
    const wrapped = load("sweep:\n  method: random\n  run_cap: 2\n  parameters:\n    a: {value: 1}\n");
    expect(wrapped.config.num_samples).toBe(2);
    expect(wrapped.notes[0]).toBe("wandb.yaml: sweep: the W&B sweep under this key is read");
    expect(
      errorOf(
        "method: custom\nscheduler: {job: wandb/sweep-jobs/job-optuna-sweep-scheduler:latest}\nparameters:\n  a: {values: [1]}\n",
      ),
    ).toMatch(
      /^wandb\.yaml: method: a W&B Launch sweep \(method: custom, a scheduler such as the Optuna scheduler job/,
    );
    expect(
      errorOf("method: random\ntune: {search_alg: hyperopt}\nparameters:\n  a: {values: [1]}\n"),
    ).toMatch(/^wandb\.yaml: tune: a Ray Tune or hyperopt search configuration/);
  });

  it("a parameter named seed is the {seed} placeholder's value; the trial's own seed stays in TUNIX_RT_SEED", () => {
    const { config } = load(
      "method: random\nrun_cap: 1\nparameters:\n  seed: {values: [7]}\ncommand: [run, '{seed}', '${args}']\n",
    );
    const [trial] = planTrials({ config, sweepId, count: 1 }).trials;
    if (!trial) throw new Error("no trial");
    // A literal brace in a W&B command stays a brace; {wandb:args} gives --seed=7.
    expect(trialArgv(config, trial, "/out")).toEqual(["run", "{seed}", "--seed=7"]);
    expect(trial.seed).not.toBe(7);
  });
});

describe("W&B's command macros", () => {
  const command = (macros: string, parameters: string) => {
    const { config } = load(
      `method: random\nrun_cap: 1\nprogram: train.py\ncommand:\n  - \${env}\n  - \${interpreter}\n  - \${program}\n${macros
        .split(", ")
        .map((m) => `  - ${m}\n`)
        .join("")}parameters:\n${parameters}`,
    );
    const [trial] = planTrials({ config, sweepId, count: 1 }).trials;
    if (!trial) throw new Error("no trial");
    return trialArgv(config, trial, "/out", undefined, { HOME_DIR: "/home/me" }).slice(3);
  };
  const params =
    "  lr: {value: 0.001}\n  tiny: {distribution: log_uniform_values, min: 1.0e-6, max: 1.0e-6}\n  on: {value: true}\n  off: {value: false}\n  model:\n    parameters:\n      depth: {value: 3}\n  tags: {value: [a, null]}\n";

  it("${args}, ${args_no_hyphens}, ${args_no_boolean_flags}: names in order, values as Python writes them", () => {
    expect(command("'${args}'", params)).toEqual([
      "--lr=0.001",
      "--model.depth=3",
      "--off=False",
      "--on=True",
      "--tags=['a', None]",
      "--tiny=1e-06",
    ]);
    expect(command("'${args_no_hyphens}'", "  b: {value: 2.5}\n  a: {value: x}\n")).toEqual(["a=x", "b=2.5"]);
    expect(
      command(
        "'${args_no_boolean_flags}'",
        "  yes_flag: {value: true}\n  no_flag: {value: false}\n  n: {value: 1}\n",
      ),
    ).toEqual(["--n=1", "--yes_flag"]);
  });

  it("${args_json}: one element, nested, as Python's json.dumps writes it; ${envvar:NAME}", () => {
    expect(
      command(
        "'${args_json}', '${envvar:HOME_DIR}'",
        "  a.b: {value: 1.5}\n  a.c: {value: é}\n  u: {min: 1.0, max: 1.0}\n",
      ),
    ).toEqual(['{"a": {"b": 1.5, "c": "\\u00e9"}, "u": 1.0}', "/home/me"]);
  });

  it("refuses a macro W&B does not have", () => {
    expect(
      errorOf("method: random\nprogram: t.py\ncommand: [python, '${argz}']\nparameters:\n  a: {value: 1}\n"),
    ).toMatch(/^wandb\.yaml: command\.1: got "\$\{argz\}"; expected one of W&B's macros/);
  });

  it.skipIf(!hasPython())("writes floats, strings, lists and JSON exactly as python3 does", () => {
    const floats = [
      0.1,
      1e-5,
      1e-4,
      3,
      1e16,
      1.5e-7,
      2.5,
      -3e-5,
      123456.789,
      1 / 3,
      2 ** 60,
      5e-324,
      1.7976931348623157e308,
    ];
    for (let i = 0; i < 200; i++)
      floats.push(10 ** (Math.random() * 40 - 20) * (Math.random() < 0.5 ? -1 : 1));
    const strings = ["it's", 'say "hi"', "tab\there", "back\\slash", "é", "both ' and \""];
    const script = [
      "import json, sys",
      "d = json.load(sys.stdin)",
      "print(json.dumps([repr(float(x)) for x in d['f']]))",
      "print(json.dumps([str(d['s'])]))",
      "print(json.dumps([json.dumps(d['j'])]))",
    ].join("\n");
    const input = { f: floats, s: strings, j: { a: [1, 2.5, null, true], b: 'é"x' } };
    const out = execFileSync("python3", ["-c", script], { input: JSON.stringify(input) })
      .toString()
      .split("\n");
    expect(floats.map((x) => pythonFloat(x))).toEqual(JSON.parse(out[0] as string));
    expect([pythonStr(strings)]).toEqual(JSON.parse(out[1] as string));
    expect([pythonJson(input.j)]).toEqual(JSON.parse(out[2] as string));
  });
});

function hasPython(): boolean {
  try {
    execFileSync("python3", ["-c", "pass"]);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasPython())(
  "a trainer written for `wandb agent`, run unchanged from the imported file",
  () => {
    it("gets W&B's argv (argparse --lr=..., --model.depth=..., boolean flags), trains, is scored; the evidence verifies", async () => {
      const dir = await tempDir("tunix-rt-wandb-trainer-");
      // `python`, as W&B's ${interpreter} names it: python3 under that name on this PATH.
      const bin = path.join(dir, "bin");
      await mkdir(bin);
      await writeFile(path.join(bin, "python"), '#!/bin/sh\nexec python3 "$@"\n');
      await chmod(path.join(bin, "python"), 0o755);
      await writeFile(
        path.join(dir, "evalset.jsonl"),
        `${Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `${i}+${i}`, expected_answer: String(2 * i) })).join("\n")}\n`,
      );
      // The trainer as a W&B user writes it: argparse over --name=value, one nested name, a flag.
      await writeFile(
        path.join(dir, "train.py"),
        [
          "import argparse, json, os",
          "p = argparse.ArgumentParser()",
          "p.add_argument('--lr', type=float, required=True)",
          "p.add_argument('--model.depth', dest='depth', type=int, required=True)",
          "p.add_argument('--use_bn', action='store_true')",
          "p.add_argument('--optimizer', required=True)",
          "a = p.parse_args()",
          "out = os.environ['TUNIX_RT_OUTPUT_DIR']",
          "json.dump({'lr': a.lr, 'depth': a.depth, 'use_bn': a.use_bn, 'optimizer': a.optimizer}, open(os.path.join(out, 'received.json'), 'w'))",
          "items = [json.loads(l) for l in open(os.environ['TUNIX_RT_EVALSET'])]",
          "with open(os.path.join(out, 'predictions.jsonl'), 'w') as f:",
          "    for i, item in enumerate(items):",
          "        right = i < a.depth",
          "        f.write(json.dumps({'id': item['id'], 'prediction': item['expected_answer'] if right else 'no'}) + '\\n')",
        ].join("\n"),
      );
      await writeFile(
        path.join(dir, "wandb.yaml"),
        [
          "name: wandb_trainer_v1",
          "program: train.py",
          "method: grid",
          "metric: {name: val_loss, goal: minimize}",
          "command:",
          "  - ${env}",
          "  - ${interpreter}",
          "  - ${program}",
          "  - ${args_no_boolean_flags}",
          "evalset: evalset.jsonl",
          "parameters:",
          "  lr: {values: [0.01, 1.0e-5]}",
          "  model:",
          "    parameters:",
          "      depth: {values: [1, 3]}",
          "  use_bn: {values: [yes, no]}",
          "  optimizer: {value: adam}",
        ].join("\n"),
      );
      const r = await runCli(["sweep", "--config", "wandb.yaml", "--parallel", "2"], {
        cwd: dir,
        env: { PATH: `${bin}:${process.env.PATH}` },
      });
      expect(r.code, r.stderr).toBe(0);
      const trials = await readJsonl(path.join(dir, "submission_runs/wandb_trainer_v1/trials.jsonl"));
      expect(trials).toHaveLength(8);
      for (const t of trials) {
        expect(t.status).toBe("completed");
        const received = JSON.parse(
          await readFile(path.join(dir, "runs/wandb_trainer_v1/trials", t.trial_id, "received.json"), "utf8"),
        );
        expect(received).toEqual({
          lr: t.params.lr,
          depth: t.params["model.depth"],
          use_bn: t.params.use_bn,
          optimizer: "adam",
        });
        expect(t.primary_score).toBe(t.params["model.depth"] / 4);
        // W&B's metric is recorded, not ranked by: this trainer logs it only to W&B, so null.
        expect(t.tracked_metric).toEqual({ name: "val_loss", value: null });
      }
      const manifest = JSON.parse(
        await readFile(path.join(dir, "submission_runs/wandb_trainer_v1/run_manifest.json"), "utf8"),
      );
      expect(manifest.model_id).toBeNull();
      expect(manifest.dataset).toBeNull();
      expect((await runCli(["verify", "submission_runs/wandb_trainer_v1"], { cwd: dir })).code).toBe(0);
    });
  },
);

describe("tunix-rt import", () => {
  it("writes the translation with each note beside what it concerns; it plans the very trials the W&B file plans", async () => {
    const dir = await tempDir("tunix-rt-import-");
    await writeFile(
      path.join(dir, "wandb.yaml"),
      "name: imported_v1\nmethod: random\nrun_cap: 6\nprogram: train.py\nparameters:\n  opt:\n    parameters:\n      lr: {values: [0.1, 0.1, 0.01]}\n  depth: {min: 1, max: 4}\n",
    );
    const r = await runCli(["import", "wandb.yaml", "--out", "training/sweep.yaml"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("tunix-rt import: wrote training/sweep.yaml");
    const text = await readFile(path.join(dir, "training/sweep.yaml"), "utf8");
    expect(text).toMatch(
      /# parameters\.opt\.parameters\.lr\.values: repeated values are drawn as often as they are listed \(weights 2, 1\)\n\s+opt\.lr:/,
    );
    expect(text).toMatch(/# program: runs as W&B's agent would run it[^\n]*\ntrainer:/);
    // Planned from either file, the same trials: the translation is the meaning.
    const planOf = async (config: string) => {
      const p = await runCli(["plan", "--config", config, "--sweep-id", sweepId], { cwd: dir });
      expect(p.code, p.stderr).toBe(0);
      return JSON.parse(p.stdout).trials;
    };
    expect(await planOf("training/sweep.yaml")).toEqual(await planOf("wandb.yaml"));
    // Never over a file without --force.
    const again = await runCli(["import", "wandb.yaml", "--out", "training/sweep.yaml"], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      "tunix-rt import: training/sweep.yaml: exists; give --force to write over it\n",
    );
  });
});

describe("Ray Tune payloads (M28/M34 style) with Ray's meanings", () => {
  const payload = (mode: string) =>
    `${mode}num_samples: 200\nsearch_space:\n  layers: {type: randint, min: 1, max: 5}\n  width: {type: lograndint, min: 8, max: 64}\n  bs: {type: qrandint, min: 8, max: 32, q: 8}\n  opt: {type: grid_search, values: [adam, sgd]}\n`;
  it("mode: ray: randint and lograndint exclude their upper bound, qrandint includes it, grid_search is a choice; each said", () => {
    const { config, notes } = parseConfigText(payload("mode: ray\n"), "payload.yaml");
    expect(config.search_space).toEqual({
      layers: { type: "randint", min: 1, max: 4 },
      width: { type: "qloguniform", min: 8, max: 63, q: 1 },
      bs: { type: "quniform", min: 8, max: 32, q: 8 },
      opt: { type: "choice", values: ["adam", "sgd"] },
    });
    expect(notes).toContain(
      "payload.yaml: search_space.layers: Ray Tune's randint [1, 5) excludes its upper bound, so 4 is the largest value",
    );
    const planned = planTrials({ config, sweepId, count: 200, sampler: "random" }).trials.map(
      (t) => t.params,
    );
    expect(new Set(planned.map((p) => p.layers))).toEqual(new Set([1, 2, 3, 4]));
    expect(planned.every((p) => (p.width as number) >= 8 && (p.width as number) <= 63)).toBe(true);
    expect(new Set(planned.map((p) => p.bs))).toEqual(new Set([8, 16, 24, 32]));
  });
  it("without mode: ray, randint is tunix-rt's (both ends, as documented); Ray-only types are still Ray's", () => {
    const { config } = parseConfigText(payload(""), "payload.yaml");
    expect(config.search_space.layers).toEqual({ type: "randint", min: 1, max: 5 });
    expect(config.search_space.width).toEqual({ type: "qloguniform", min: 8, max: 63, q: 1 });
  });
});

describe("tracked_metric", () => {
  it("is the last finite value of the metric in metrics.jsonl; a torn line, a non-number and other keys are passed over", async () => {
    const { lastMetricValue } = await import("../src/runtime/trial.js");
    const dir = await tempDir("tunix-rt-tracked-");
    const file = path.join(dir, "metrics.jsonl");
    await writeFile(
      file,
      '{"step": 1, "val_loss": 2.5}\n{"step": 2, "val_loss": 1.25, "acc": 0.5}\n{"step": 3, "acc": 0.6}\n{"step": 4, "val_loss": "nan"}\n{"step": 5, "val_lo',
    );
    expect(await lastMetricValue(file, "val_loss")).toBe(1.25);
    expect(await lastMetricValue(file, "acc")).toBe(0.6);
    expect(await lastMetricValue(file, "f1")).toBeNull();
    expect(await lastMetricValue(path.join(dir, "none.jsonl"), "acc")).toBeNull();
  });
});

describe("${envvar:NAME} in a W&B command", () => {
  it("gives the trainer the variable's value, and a secret's value never reaches the trial's record", async () => {
    const { runTrial } = await import("../src/runtime/trial.js");
    const dir = await tempDir("tunix-rt-envvar-");
    const { config } = load(
      "method: random\nrun_cap: 1\ncommand:\n  - node\n  - -e\n  - require('fs').writeFileSync(process.env.TUNIX_RT_OUTPUT_DIR + '/argv.json', JSON.stringify(process.argv.slice(1)))\n  - ${envvar:WANDB_API_KEY}\n  - ${envvar:REGION}\nparameters:\n  a: {value: 1}\n",
    );
    const [trial] = planTrials({ config, sweepId, count: 1 }).trials;
    if (!trial) throw new Error("no trial");
    const key = "wk-0123456789abcdef0123456789";
    const record = await runTrial({
      config,
      trial,
      outDir: "t",
      cwd: dir,
      env: { ...process.env, WANDB_API_KEY: key, REGION: "eu-west" },
      outsideGit: true,
    });
    expect(JSON.parse(await readFile(path.join(dir, "t/argv.json"), "utf8"))).toEqual([key, "eu-west"]);
    expect(JSON.stringify(record)).not.toContain(key);
    expect(await readFile(path.join(dir, "t/trial.json"), "utf8")).not.toContain(key);
    expect(record.command.slice(-1)).toEqual(["eu-west"]);
  });
});
