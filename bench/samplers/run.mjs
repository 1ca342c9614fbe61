// Sampler benchmark: tunix-rt's samplers against Optuna's TPE and random search in
// the CI-matrix regime: q trials a wave, W waves, the sampler told all results after each
// wave. Regret of the recommended configuration (the one with the best observed score).
//
//   npm run build && node bench/samplers/run.mjs [--seeds 100] [--problems a,b]
//     [--samplers auto,tpe,sobol,random,optuna-tpe,optuna-random] [--quick] [--jobs N]
//     [--tabular native|float|grid] [--waves 6] [--q 8] [--json FILE] [--optuna-cache DIR]
//     [--variants a,b (see variants.mjs)] [--seed-offset K] [--no-install] [--regime waves|async]
//     [--auto-variant NAME (auto runs variants.mjs's NAME: an ablation with every table)]
//
// Problems: the 8 HPOBench tabular sets in ../shared/bench/hpobench (maximise the accuracy;
// regret = best_mean - the mean-over-seeds accuracy of the recommended configuration; a
// query returns one seed's value, picked by the noise protocol of problems.mjs), Branin and
// Hartmann6 (metric_mode min; regret = f(recommended x) - f*, no noise), and scores in
// [0, 1] with known truth (problems.mjs `noisyLevels`): Hartmann6 as a score with Gaussian
// noise of sd 0.01, 0.03 and 0.1 of the true scores' span (hartmann6-n01/-n03/-n10), and a
// fine-tuning-like surface (log learning rate, warm-up, LoRA rank, optimizer) without noise
// and at 0.03 and 0.1 (finetune, finetune-n03/-n10).
// Peers: Optuna's TPESampler(multivariate=True, constant_liar=True, seed=s) and
// RandomSampler(seed=s), run by /usr/bin/python3 (Debian's python3-optuna, installed with
// apt where missing), through the same ask-a-wave / tell-a-wave loop (optuna_driver.py).
// tunix-rt's samplers: each wave is `createSampler(name, {space, seed: s, metricMode})
// .propose(q, history)` with every trial told so far (ours.mjs, in worker threads).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { resolveSampler } from "../../lib/core/search/samplers/index.js";
import { mulberry32, runChild } from "../lib.mjs";
import {
  hpobenchDir,
  hpobenchNames,
  noiseFreeNames,
  noisyLevels,
  noisyNames,
  syntheticNames,
} from "./problems.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const python = "/usr/bin/python3";

const { values: flags } = parseArgs({
  options: {
    seeds: { type: "string" },
    "seed-offset": { type: "string", default: "0" },
    problems: { type: "string" },
    samplers: { type: "string" },
    variants: { type: "string" },
    quick: { type: "boolean", default: false },
    jobs: { type: "string" },
    waves: { type: "string", default: "6" },
    q: { type: "string", default: "8" },
    tabular: { type: "string", default: "native" },
    json: { type: "string" },
    "optuna-cache": { type: "string" },
    "no-install": { type: "boolean", default: false },
    regime: { type: "string", default: "waves" },
    // Ablations: `auto` runs this variant of variants.mjs (its rows and recommendation arms).
    "auto-variant": { type: "string" },
    recommend: { type: "string", default: "best_observed,model,reeval:4x2,oracle" },
  },
});
// Recommendation arms for `auto` (ours.mjs `parseArm`): which configuration a finished run
// recommends, and its true regret. "" for none.
const arms = flags.recommend ? flags.recommend.split(",") : [];
// waves: q trials a wave, each wave proposed from every result before it (a GitHub matrix);
// async: q workers, one trial proposed each time a worker frees up (a local sweep).
const regime = flags.regime;
if (regime !== "waves" && regime !== "async")
  throw new Error(`--regime: got ${regime}; expected waves or async`);

const allProblems = [...hpobenchNames, ...syntheticNames, ...noisyNames];
const quickProblems = ["branin", "hartmann6", "car", "kc1", "vehicle"];
const problems = flags.problems ? flags.problems.split(",") : flags.quick ? quickProblems : allProblems;
for (const p of problems)
  if (!allProblems.includes(p)) throw new Error(`unknown problem ${p}; one of ${allProblems.join(", ")}`);
// 100 seeds by default: on the noisy tabular sets one seed's regret varies by about its own
// mean, so at 20 seeds (the protocol's minimum) a mean regret carries ±11% to ±40% (1.96
// standard errors) and "at most Optuna's" on a set near parity is a coin flip.
const seedCount = Number(flags.seeds ?? (flags.quick ? 8 : 100));
// Development runs can use other seeds (`--seed-offset 1000`) than the reported run (0..N-1).
const seedOffset = Number(flags["seed-offset"]);
const seeds = Array.from({ length: seedCount }, (_, i) => seedOffset + i);
const waves = Number(flags.waves);
const q = Number(flags.q);
const jobs = Number(flags.jobs ?? os.availableParallelism?.() ?? os.cpus().length);
const defaultSamplers = ["auto", "tpe", "sobol", "random", "optuna-tpe", "optuna-random"];
const samplers = [
  ...(flags.samplers ? flags.samplers.split(",") : defaultSamplers),
  ...(flags.variants ? flags.variants.split(",").map((v) => `variant:${v}`) : []),
];
const reference = "optuna-tpe";
const isOptuna = (s) => s.startsWith("optuna-");

// How the tabular sets are represented (problems.mjs). "native" gives each library its own
// type for an ordered grid: tunix-rt an ordered numeric choice, Optuna a log-scale float
// snapped to the grid (an integer index measured 1-11% worse for Optuna's TPE over 100 seeds,
// so the peer gets the better of its two). "float" and "grid" give both sides the same one.
const tabularModes = {
  native: { ours: "grid", optuna: "float" },
  float: { ours: "float", optuna: "float" },
  grid: { ours: "grid", optuna: "grid" },
};
const tabular = tabularModes[flags.tabular];
if (!tabular) throw new Error(`--tabular: got ${flags.tabular}; expected native, float or grid`);

/** Whether Optuna can be imported by /usr/bin/python3, installing python3-optuna with apt if not. */
function ensureOptuna() {
  const version = () => {
    try {
      return execFileSync(python, ["-c", "import optuna; print(optuna.__version__)"], {
        stdio: ["ignore", "pipe", "ignore"],
      })
        .toString()
        .trim();
    } catch {
      return undefined;
    }
  };
  const found = version();
  if (found) return { ok: true, version: found };
  if (flags["no-install"]) return { ok: false, why: "python3-optuna is not installed (--no-install)" };
  process.stderr.write("bench: Optuna missing; apt-get update && apt-get install -y python3-optuna\n");
  try {
    execFileSync("apt-get", ["update"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "python3-optuna"], { stdio: "ignore" });
  } catch (error) {
    return {
      ok: false,
      why: `apt-get install python3-optuna failed: ${String(error.message).split("\n")[0]}`,
    };
  }
  const installed = version();
  return installed
    ? { ok: true, version: installed }
    : { ok: false, why: "python3-optuna installed but `import optuna` fails" };
}

/** The commit the benchmark ran on, and whether the work tree differed from it. */
function codeVersion() {
  const git = (args) => {
    try {
      return execFileSync("git", args, { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
        .toString()
        .trim();
    } catch {
      return undefined;
    }
  };
  const commit = git(["rev-parse", "--short=10", "HEAD"]);
  if (commit === undefined) return "commit unknown (not a git checkout)";
  const dirty = git(["status", "--porcelain", "--untracked-files=no", "--", "src", "bench"]);
  return `commit ${commit}${dirty ? " with uncommitted changes to src/ or bench/" : ""}`;
}

function runWorker(job) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(here, "ours.mjs"), { workerData: { job } });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`worker for ${job.sampler} on ${job.problem} exited ${code}`));
    });
  });
}

async function runPython(job) {
  const out = await runChild(
    [python, path.join(here, "optuna_driver.py"), JSON.stringify(job)],
    `optuna_driver.py (${job.sampler}, ${job.problem})`,
  );
  return JSON.parse(out);
}

/**
 * Runs the Optuna driver, or reuses its result from `--optuna-cache DIR`: a peer's regrets
 * depend only on the problem, the seeds and the protocol, so development runs need not
 * repeat them.
 */
async function runPeer(job) {
  const dir = flags["optuna-cache"];
  if (dir === undefined) return runPython(job);
  const file = path.join(
    dir,
    `${job.problem}.${job.sampler}.${job.tabular}.w${job.waves}.q${job.q}.s${job.seeds.length}${seedOffset ? `.o${seedOffset}` : ""}${regime === "async" ? ".async" : ""}.json`,
  );
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  const result = await runPython(job);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(result));
  return result;
}

/** Runs async tasks, at most `limit` at a time. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  });
  await Promise.all(lanes);
  return results;
}

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const halfWidth = (xs) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  const variance = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  return 1.96 * Math.sqrt(variance / xs.length);
};
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return (sorted[Math.floor(mid)] + sorted[Math.ceil(mid)]) / 2;
};
const fmt = (x) => (x === 0 ? "0" : Math.abs(x) >= 0.01 ? x.toFixed(4) : x.toExponential(2));
const ratioOf = (a, b) => (a === 0 && b === 0 ? 1 : a / b);

// 95% intervals of ratios of mean regrets: a percentile bootstrap over seeds, paired (one
// resample of the seed list serves both samplers, which met the same seeds), 2,000
// resamples from a fixed generator so a report is reproducible.
const bootstrapRounds = 2000;
const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))];
/** Bootstrap replicates of mean(ours) / mean(ref) over paired seeds. */
function ratioReplicates(ours, ref, seed) {
  const next = mulberry32(seed);
  const n = ours.length;
  const out = new Float64Array(bootstrapRounds);
  for (let b = 0; b < bootstrapRounds; b++) {
    let a = 0;
    let r = 0;
    for (let i = 0; i < n; i++) {
      const k = Math.floor(next() * n);
      a += ours[k];
      r += ref[k];
    }
    out[b] = ratioOf(a, r);
  }
  return out;
}
const interval = (replicates) => {
  const sorted = Float64Array.from(replicates).sort();
  return [percentile(sorted, 0.025), percentile(sorted, 0.975)];
};
const fmtRatio = (r) => (r < 0.1 ? r.toPrecision(2) : r.toFixed(2));
const fmtInterval = ([lo, hi]) => `${fmtRatio(lo)}..${fmtRatio(hi)}`;

async function main() {
  const started = performance.now();
  // Read before the run: the code the results come from, not what the tree holds at the end.
  const code = codeVersion();
  const optuna = samplers.some(isOptuna) ? ensureOptuna() : { ok: true };
  const active = samplers.filter((s) => !isOptuna(s) || optuna.ok);
  const label = (s) =>
    s === "auto"
      ? `auto (${flags["auto-variant"] ? `variant ${flags["auto-variant"]}` : resolveSampler("auto")})`
      : s.startsWith("variant:")
        ? s.slice(8)
        : s;

  // One task per (problem, sampler), all seeds; Optuna tasks are child processes, ours
  // worker threads; `jobs` at a time.
  const keys = [];
  const tasks = [];
  for (const problem of problems)
    for (const sampler of active) {
      keys.push(`${problem}/${sampler}`);
      tasks.push(async () => {
        const t = performance.now();
        const common = { problem, seeds, waves, q, regime };
        const result = isOptuna(sampler)
          ? await runPeer({ ...common, sampler, hpobench_dir: hpobenchDir(root), tabular: tabular.optuna })
          : await runWorker({
              ...common,
              sampler,
              recommend: sampler === "auto" ? arms : [],
              root,
              tabular: tabular.ours,
              ...(sampler.startsWith("variant:") ? { variant: sampler.slice(8) } : {}),
              ...(sampler === "auto" && flags["auto-variant"] ? { variant: flags["auto-variant"] } : {}),
            });
        process.stderr.write(
          `bench: ${problem} ${label(sampler)}: ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
        );
        return result;
      });
    }
  const results = await pool(tasks, jobs);
  const byKey = new Map(keys.map((k, i) => [k, results[i]]));

  const lines = [];
  const say = (s = "") => lines.push(s);
  say(
    (regime === "async"
      ? `# Sampler benchmark, asynchronous: ${q} workers, each trial proposed when one frees up (simulated durations 0.5..1.5), ${q * waves} trials, ${seedCount} seeds`
      : `# Sampler benchmark: q = ${q} trials a wave, ${waves} waves (${q * waves} trials), ${seedCount} seeds`) +
      (seedOffset ? ` (${seedOffset}..${seedOffset + seedCount - 1})` : ""),
  );
  say(
    "Regret of the recommended configuration (the best observed score); mean ± 1.96 standard errors over seeds;",
  );
  say(`ratio = mean regret / ${reference}'s mean regret (lower is better).`);
  say(
    `Tabular sets: tunix-rt samplers see ${tabular.ours === "grid" ? "ordered numeric choices of the grid values" : "log-uniform ranges (depth an integer range) snapped to the grid"}; ` +
      `Optuna ${tabular.optuna === "float" ? "log-scale floats (depth an int) snapped to the nearest grid value" : "integer indices of the grid values"} (--tabular ${flags.tabular}).`,
  );
  say(`Code: ${code}; command: \`node bench/samplers/run.mjs ${process.argv.slice(2).join(" ")}\`.`);
  say(
    optuna.ok
      ? `Optuna ${optuna.version ?? ""} (${python}); Node ${process.version}; ${os.cpus().length} CPUs.`
      : `NOTE: Optuna peers skipped: ${optuna.why}. Ratios to ${reference} are not available.`,
  );
  say();
  const summary = [];
  const armSummary = [];
  for (const problem of problems) {
    const ref = byKey.get(`${problem}/${reference}`);
    const refMean = ref ? mean(ref.regrets.map((r) => r[waves - 1])) : undefined;
    say(
      `## ${problem}${syntheticNames.includes(problem) ? " (minimise; regret f(x) - f*)" : problem in noisyLevels ? ` (maximise a score in [0, 1]; noise sd ${noisyLevels[problem]} of the true scores' span; regret best - true score)` : " (HPOBench; regret best_mean - mean accuracy)"}`,
    );
    say(
      `| sampler | mean regret ± 1.96 SE | median | ratio to ${reference} | mean regret after ${regime === "async" ? `${q}, ${2 * q}, ... finished trials` : `wave 1..${waves}`} | s |`,
    );
    say("|---|---|---|---|---|---|");
    for (const sampler of active) {
      const result = byKey.get(`${problem}/${sampler}`);
      const final = result.regrets.map((r) => r[waves - 1]);
      const m = mean(final);
      const ratio = refMean === undefined ? undefined : ratioOf(m, refMean);
      const curve = Array.from({ length: waves }, (_, w) => fmt(mean(result.regrets.map((r) => r[w])))).join(
        " ",
      );
      say(
        `| ${label(sampler)} | ${fmt(m)} ± ${fmt(halfWidth(final))} | ${fmt(median(final))} | ${ratio === undefined ? "n/a" : ratio.toFixed(2)} | ${curve} | ${result.seconds.toFixed(0)} |`,
      );
      if (sampler === "auto") summary.push({ problem, ratio, mean: m, refMean });
    }
    say();
    const auto = byKey.get(`${problem}/auto`);
    if (ref && auto?.arms && arms.length > 0) {
      const refFinal = ref.regrets.map((r) => r[waves - 1]);
      say(
        `True regret of auto's recommendation by rule, at ${q * waves} trainer runs (a re-evaluation arm: ${q * waves} - K * R searched, then K * R repeats when the product plans them, none otherwise), against ${reference}'s best observed; ratio with a 95% paired bootstrap interval:`,
      );
      say(
        `| rule | mean regret ± 1.96 SE | median | ratio to ${reference} | 95% interval | seeds with repeats (runs) |`,
      );
      say("|---|---|---|---|---|---|");
      arms.forEach((arm, a) => {
        const values = auto.arms[arm];
        const replicates = ratioReplicates(values, refFinal, 1000 * problems.indexOf(problem) + a);
        const ratio = ratioOf(mean(values), mean(refFinal));
        const runs = auto.arms[`${arm}#runs`];
        const repeated = runs ? runs.filter((r) => r > 0) : undefined;
        say(
          `| ${arm} | ${fmt(mean(values))} ± ${fmt(halfWidth(values))} | ${fmt(median(values))} | ${fmtRatio(ratio)} | ${fmtInterval(interval(replicates))} | ${repeated ? `${repeated.length} of ${runs.length} (${repeated.reduce((x, y) => x + y, 0)})` : ""} |`,
        );
        armSummary.push({
          problem,
          arm,
          ratio,
          replicates,
          repeated: repeated?.length,
          seedsRun: runs?.length,
        });
      });
      say();
    }
  }

  if (optuna.ok && summary.length > 0 && summary.every((s) => s.ratio !== undefined)) {
    const verdict = (ok) => (ok ? "PASS" : "MISS");
    const tabularSets = summary.filter((s) => hpobenchNames.includes(s.problem));
    const wins = tabularSets.filter((s) => s.mean <= s.refMean);
    say(`## Summary (default sampler: auto = ${resolveSampler("auto")}; reference: Optuna TPE)`);
    if (tabularSets.length > 0)
      say(
        `- HPOBench sets where auto's mean regret <= Optuna TPE's: ${wins.length} of ${tabularSets.length}` +
          (tabularSets.length === hpobenchNames.length
            ? ` (target >= 6 of 8): ${verdict(wins.length >= 6)}`
            : " (target: >= 6 of 8; not every set was run)") +
          `; ratios: ${tabularSets.map((s) => `${s.problem} ${s.ratio.toFixed(2)}`).join(", ")}`,
      );
    for (const name of syntheticNames) {
      const s = summary.find((x) => x.problem === name);
      if (s)
        say(
          `- ${name}: auto ${fmt(s.mean)} vs Optuna TPE ${fmt(s.refMean)} (ratio ${s.ratio.toFixed(2)}; target <= 1): ${verdict(s.mean <= s.refMean)}`,
        );
    }
    // Per problem, ratio = auto's mean regret / Optuna TPE's (a ratio of means over seeds).
    const ratios = summary.map((s) => Math.max(s.ratio, 1e-6));
    const geometric = Math.exp(mean(ratios.map((r) => Math.log(r))));
    const arithmetic = mean(ratios);
    const geometricTabular = Math.exp(mean(tabularSets.map((s) => Math.log(Math.max(s.ratio, 1e-6)))));
    say(
      `- Average over the ${summary.length} problems of the per-problem ratio (auto's mean regret / Optuna TPE's), target <= 0.7: ` +
        `geometric mean ${geometric.toFixed(3)}: ${verdict(geometric <= 0.7)}; arithmetic mean ${arithmetic.toFixed(3)}: ${verdict(arithmetic <= 0.7)}` +
        (tabularSets.length > 0
          ? ` (HPOBench sets alone: geometric mean ${geometricTabular.toFixed(3)})`
          : ""),
    );
  }
  if (armSummary.length > 0) {
    say();
    say(
      `## Recommendation rules (auto; true regret at ${q * waves} trainer runs; reference: Optuna TPE's best observed)`,
    );
    say(
      "Per problem the ratio of mean true regrets with its 95% paired bootstrap interval; over the problems the geometric and arithmetic means of the ratios, their intervals from the same replicates (each problem resampled on its own).",
    );
    say(
      `| rule | geometric mean | 95% interval | arithmetic mean | 95% interval | worse than ${reference} beyond the interval | point ratio above 1 | per problem |`,
    );
    say("|---|---|---|---|---|---|---|---|");
    for (const arm of arms) {
      const rows = armSummary.filter((s) => s.arm === arm);
      const gm = (ratios) => Math.exp(mean(ratios.map((r) => Math.log(Math.max(r, 1e-6)))));
      const gmReps = Array.from({ length: bootstrapRounds }, (_, b) => gm(rows.map((r) => r.replicates[b])));
      const amReps = Array.from({ length: bootstrapRounds }, (_, b) =>
        mean(rows.map((r) => r.replicates[b])),
      );
      const worse = rows.filter((r) => interval(r.replicates)[0] > 1).map((r) => r.problem);
      const above = rows.filter((r) => r.ratio > 1).map((r) => r.problem);
      say(
        `| ${arm} | ${gm(rows.map((r) => r.ratio)).toFixed(3)} | ${fmtInterval(interval(gmReps))} | ${mean(rows.map((r) => r.ratio)).toFixed(3)} | ${fmtInterval(interval(amReps))} | ${worse.length === 0 ? "none" : worse.join(", ")} | ${above.length === 0 ? "none" : above.join(", ")} | ${rows.map((r) => `${r.problem} ${fmtRatio(r.ratio)} (${fmtInterval(interval(r.replicates))})`).join(", ")} |`,
      );
    }
    // Re-evaluation on the noise-free problems: a repeat there returns the same score.
    for (const arm of arms.filter((a) => a.startsWith("reeval"))) {
      const clean = armSummary.filter(
        (s) => s.arm === arm && noiseFreeNames.includes(s.problem) && s.repeated !== undefined,
      );
      if (clean.length > 0)
        say(
          `- ${arm} on the noise-free problems (${clean.map((s) => s.problem).join(", ")}): repeats planned in ${clean.reduce((x, s) => x + s.repeated, 0)} of ${clean.reduce((x, s) => x + s.seedsRun, 0)} runs (target 0).`,
        );
    }
  }
  say();
  say(`Duration: ${((performance.now() - started) / 1000).toFixed(0)} s with ${jobs} parallel jobs.`);
  process.stdout.write(`${lines.join("\n")}\n`);
  if (flags.json) {
    writeFileSync(
      flags.json,
      `${JSON.stringify({ problems, samplers: active, seeds: seedCount, waves, q, tabular: flags.tabular, results: Object.fromEntries(byKey) })}\n`,
    );
  }
}

await main();
