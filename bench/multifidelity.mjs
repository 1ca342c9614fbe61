// Multi-fidelity benchmark: successive halving across waves against
// full-budget random search over the SAME configurations, on the example trainer, with real
// `tunix-rt sweep --parallel 2` runs (child processes, one temp repository per sweep).
//
// Per seed, three sweeps of training/example/sweep-sh.yaml with `sampler: random` and the
// seed set (so all three draw the same configurations: the random sampler's proposals depend
// only on the seed and the number of rung-0 trials before them):
//   random     fidelity {min_budget: max, max_budget: max}: every configuration at the full budget
//   SH resume  the config's fidelity: promotions resume from their parent's checkpoint
//   SH restart the same, with the trainer run with --no-resume (a trainer that cannot resume)
// Measured, not assumed: the best full-budget primary_score of each sweep (trials whose
// budget is max_budget), and the training steps each trial actually ran: the last step of its
// metrics.jsonl minus the step it resumed at (its output.log says "resuming from ... at step N").
//
//   npm run build && node bench/multifidelity.mjs [--seeds 11,12,13,14,15] [--parallel 2] [--json]
//     [--num-samples N] [--waves W] [--min-budget B] [--max-budget B] [--eta E]   (config overrides)
// Targets: SH (resume) reaches >= 99% of random's best with <= 40% of its training steps.

import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { runChild } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin/tunix-rt.js");

const { values: flags } = parseArgs({
  options: {
    seeds: { type: "string", default: "11,12,13,14,15" },
    parallel: { type: "string", default: "2" },
    config: { type: "string", default: "training/example/sweep-sh.yaml" },
    // Overrides of the config, to measure other ladders and sizes.
    "num-samples": { type: "string" },
    waves: { type: "string" },
    "min-budget": { type: "string" },
    "max-budget": { type: "string" },
    eta: { type: "string" },
    json: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const seeds = flags.seeds.split(",").map((s) => Number(s.trim()));
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds: got ${flags.seeds}`);
const base = parse(await readFile(path.resolve(root, flags.config), "utf8"));
if (!base.fidelity) throw new Error(`${flags.config}: no fidelity section to benchmark`);
const override = (name) => (flags[name] === undefined ? undefined : Number(flags[name]));
base.num_samples = override("num-samples") ?? base.num_samples;
base.waves = override("waves") ?? base.waves ?? 1;
base.fidelity = {
  ...base.fidelity,
  min_budget: override("min-budget") ?? base.fidelity.min_budget,
  max_budget: override("max-budget") ?? base.fidelity.max_budget,
  eta: override("eta") ?? base.fidelity.eta ?? 3,
};
const fidelity = { resume: true, ...base.fidelity };
const full = fidelity.max_budget;

/** The three arms, each a change to the base config. */
const arms = [
  {
    name: "random",
    label: "random search, full budget",
    config: (c) => ({ ...c, fidelity: { min_budget: full, max_budget: full, eta: fidelity.eta } }),
  },
  { name: "sh", label: "successive halving, resume", config: (c) => c },
  {
    name: "sh_restart",
    label: "successive halving, start over",
    config: (c) => ({ ...c, trainer: { ...c.trainer, command: [...c.trainer.command, "--no-resume"] } }),
  },
];

/** Runs `tunix-rt sweep` in `dir`; resolves with the wall time, rejects on a non-zero exit. */
async function sweep(dir) {
  const started = performance.now();
  await runChild(
    [
      process.execPath,
      cli,
      "sweep",
      "--config",
      "sweep.yaml",
      "--parallel",
      flags.parallel,
      "--max-size",
      "50000000",
    ],
    `tunix-rt sweep in ${dir}`,
    { cwd: dir, env: { ...process.env, NO_COLOR: "1" } },
  );
  return (performance.now() - started) / 1000;
}

/** What one trial folder says: its record, and the steps it trained. */
async function readTrial(dir) {
  const record = JSON.parse(await readFile(path.join(dir, "trial.json"), "utf8"));
  const metrics = (await readFile(path.join(dir, "metrics.jsonl"), "utf8").catch(() => ""))
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
  const log = await readFile(path.join(dir, "output.log"), "utf8").catch(() => "");
  const lastStep = metrics.at(-1)?.step ?? 0;
  const resumedAt = Number(/resuming from .* at step (\d+)/.exec(log)?.[1] ?? 0);
  const steps = Math.max(0, lastStep - resumedAt);
  // The trainer's own count, as a cross-check of the measurement.
  const reported = Number(/trained (\d+) steps/.exec(log)?.[1] ?? Number.NaN);
  if (record.status === "completed" && reported !== steps)
    throw new Error(`${dir}: metrics.jsonl says ${steps} steps, the log ${reported}`);
  return { record, steps };
}

/** Runs one arm for one seed in a scratch copy of the repository's example. */
async function runArm(arm, seed) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `tunix-rt-bench-mf-${arm.name}-`));
  try {
    await cp(path.join(root, "training/example"), path.join(dir, "training/example"), { recursive: true });
    await cp(
      path.join(root, "training/evalsets/example_eval.jsonl"),
      path.join(dir, "training/evalsets/example_eval.jsonl"),
    );
    const runVersion = `bench_mf_${arm.name}_s${seed}`;
    const config = arm.config({ ...base, run_version: runVersion, seed, sampler: "random" });
    await writeFile(path.join(dir, "sweep.yaml"), stringify(config));
    const wall = await sweep(dir);
    const trialsDir = path.join(dir, "runs", runVersion, "trials");
    const trials = [];
    for (const name of (await readdir(trialsDir)).sort()) {
      if (/^t\d+$/.test(name)) trials.push(await readTrial(path.join(trialsDir, name)));
    }
    const atFull = trials.filter(
      (t) => t.record.status === "completed" && t.record.budget === full && t.record.primary_score !== null,
    );
    const rung0 = trials.filter((t) => (t.record.rung ?? 0) === 0);
    const best = atFull.length ? Math.max(...atFull.map((t) => t.record.primary_score)) : null;
    return {
      best,
      // How many configurations reached the best at the full budget: 1 is a needle, many a plateau.
      atBest: atFull.filter((t) => t.record.primary_score === best).length,
      steps: trials.reduce((sum, t) => sum + t.steps, 0),
      trials: trials.length,
      failed: trials.filter((t) => t.record.status !== "completed").length,
      configurations: rung0.map((t) => JSON.stringify(t.record.params)).sort(),
      wall,
    };
  } finally {
    if (!flags.keep) await rm(dir, { recursive: true, force: true });
  }
}

const log = (line) => process.stderr.write(`${line}\n`);
log(
  `multi-fidelity bench: ${flags.config}, ${base.num_samples} configurations, budgets up to ${full} (min ${fidelity.min_budget}, eta ${fidelity.eta}), waves ${base.waves ?? 1}, seeds ${seeds.join(",")}, --parallel ${flags.parallel}`,
);
const rows = [];
for (const seed of seeds) {
  const row = { seed };
  for (const arm of arms) {
    row[arm.name] = await runArm(arm, seed);
    const r = row[arm.name];
    log(
      `seed ${seed} ${arm.label}: best ${r.best} steps ${r.steps} trials ${r.trials} (${r.failed} not completed) in ${r.wall.toFixed(0)}s`,
    );
  }
  row.same_configurations = arms.every(
    (arm) => JSON.stringify(row[arm.name].configurations) === JSON.stringify(row.random.configurations),
  );
  rows.push(row);
}

const pct = (a, b) => (a === null || b === null || b === 0 ? null : (100 * a) / b);
const mean = (xs) => (xs.some((x) => x === null) ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const table = rows.map((row) => ({
  seed: row.seed,
  random_best: row.random.best,
  random_at_best: row.random.atBest,
  sh_best: row.sh.best,
  sh_best_pct: pct(row.sh.best, row.random.best),
  sh_restart_best: row.sh_restart.best,
  sh_restart_best_pct: pct(row.sh_restart.best, row.random.best),
  random_steps: row.random.steps,
  sh_steps: row.sh.steps,
  sh_steps_pct: pct(row.sh.steps, row.random.steps),
  sh_restart_steps: row.sh_restart.steps,
  sh_restart_steps_pct: pct(row.sh_restart.steps, row.random.steps),
  wall_s: { random: row.random.wall, sh: row.sh.wall, sh_restart: row.sh_restart.wall },
  same_configurations: row.same_configurations,
}));
const keys = Object.keys(table[0]).filter((k) => typeof table[0][k] === "number" && k !== "seed");
const means = Object.fromEntries(keys.map((k) => [k, mean(table.map((r) => r[k]))]));
const targets = {
  best_pct_at_least_99: means.sh_best_pct !== null && means.sh_best_pct >= 99,
  steps_pct_at_most_40: means.sh_steps_pct !== null && means.sh_steps_pct <= 40,
};

if (flags.json) {
  process.stdout.write(
    `${JSON.stringify({ config: flags.config, fidelity, seeds, rows: table, mean: means, targets }, null, 2)}\n`,
  );
} else {
  const f = (x, digits = 3) => (x === null ? "–" : x.toFixed(digits));
  const line = (cells) => `| ${cells.join(" | ")} |`;
  const out = [
    `Successive halving vs full-budget random search, ${base.num_samples} configurations per seed (the same set for every method), example trainer, budgets ${fidelity.min_budget}..${full} (eta ${fidelity.eta}), rung 0 in ${base.waves} wave(s)`,
    "configs at best: how many of random search's configurations reached its best score at the full budget.",
    "",
    line([
      "seed",
      "random best",
      "configs at best",
      "SH best",
      "SH % of random",
      "SH restart best",
      "restart %",
      "random steps",
      "SH steps",
      "SH steps %",
      "restart steps",
      "restart steps %",
      "same configs",
    ]),
    line(Array(13).fill("---")),
    ...table.map((r) =>
      line([
        String(r.seed),
        f(r.random_best),
        String(r.random_at_best),
        f(r.sh_best),
        f(r.sh_best_pct, 1),
        f(r.sh_restart_best),
        f(r.sh_restart_best_pct, 1),
        String(r.random_steps),
        String(r.sh_steps),
        f(r.sh_steps_pct, 1),
        String(r.sh_restart_steps),
        f(r.sh_restart_steps_pct, 1),
        r.same_configurations ? "yes" : "NO",
      ]),
    ),
    line([
      "mean",
      f(means.random_best),
      f(means.random_at_best, 1),
      f(means.sh_best),
      f(means.sh_best_pct, 1),
      f(means.sh_restart_best),
      f(means.sh_restart_best_pct, 1),
      f(means.random_steps, 0),
      f(means.sh_steps, 0),
      f(means.sh_steps_pct, 1),
      f(means.sh_restart_steps, 0),
      f(means.sh_restart_steps_pct, 1),
      "",
    ]),
    "",
    `Targets (SH with resume, means): best >= 99% of random's: ${targets.best_pct_at_least_99 ? "met" : "MISSED"}; steps <= 40% of random's: ${targets.steps_pct_at_most_40 ? "met" : "MISSED"}.`,
    `Wall time per seed (s, --parallel ${flags.parallel}): ${table.map((r) => `${r.seed}: random ${r.wall_s.random.toFixed(0)}, SH ${r.wall_s.sh.toFixed(0)}, restart ${r.wall_s.sh_restart.toFixed(0)}`).join("; ")}`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}
