// Drives one of tunix-rt's samplers through the benchmark's wave loop: each wave asks
// `createSampler(name, ...).propose(q, history)` with every trial told so far, evaluates the
// q proposals and tells them (appends completed trial records). Runs in a worker thread.
import { parentPort, workerData } from "node:worker_threads";
import { searchSpaceOf } from "../../lib/core/config/space.js";
import { defaultRecommendSettings, recommend, reevaluationTargets } from "../../lib/core/search/recommend.js";
import { createSampler } from "../../lib/core/search/samplers/index.js";
import { loadProblem, trialDuration } from "./problems.mjs";

/**
 * Regret of the recommended configuration (best observed score) after each wave, per seed;
 * with `job.recommend`, also the final regret under each recommendation arm (`arms`).
 */
export function runOurs(job) {
  return job.regime === "async" ? runOursAsync(job) : runOursWaves(job);
}

/**
 * A recommendation arm of the benchmark, from its name:
 * - "best_observed", "model": the rule over every trial;
 * - "reeval:KxR": a sweep of num_samples = total - K * R with `reevaluate: {top_k: K,
 *   repeats: R}`: the search stops K * R trials early, the top K configurations by the model
 *   rule (`reevaluationTargets`, as `planReevaluation` asks for them) are run R more times
 *   each (`repeat`: new trainer seeds), and the best mean among them is recommended
 *   ("repeats_mean"). When no configuration is worth re-running (the model finds no noise),
 *   the sweep ends after its search, as the product's does: the K * R runs are not made, and
 *   they do not go to the search;
 * - "oracle": the truly best configuration among the trials run (what no rule can beat);
 * - suffixes: ":quietN" skips re-evaluation (the runs go to the search) when the model's
 *   fitted noise is below N / 10,000 of the score variance; ":obs" picks the K by best observed instead; ":power" / ":standardise" give
 *   the model the sampler's power transform of the scores or plain standardisation; ":gp" /
 *   ":mean" rank the re-evaluated configurations by the GP with every run as data or by
 *   their mean.
 */
function parseArm(name) {
  const parts = name.split(":");
  const settings = { ...defaultRecommendSettings };
  if (parts.includes("power")) settings.transform = "power";
  if (parts.includes("standardise")) settings.transform = "standardise";
  if (parts.includes("gp")) settings.repeatsEstimate = "model";
  if (parts.includes("mean")) settings.repeatsEstimate = "mean";
  for (const part of parts) {
    const top = /^top(\d+)$/.exec(part);
    if (top) settings.candidates = Number(top[1]);
    const quiet = /^quiet(\d+)$/.exec(part);
    if (quiet) settings.noiseFreeShare = Number(quiet[1]) / 1e4;
    const fit = /^fit(\d+)$/.exec(part);
    if (fit) settings.fitShare = Number(fit[1]) / 100;
  }
  if (parts[0] === "best_observed" || parts[0] === "model" || parts[0] === "oracle")
    return { rule: parts[0] === "model" ? "model" : "best_observed", settings };
  const match = parts[0] === "reeval" ? /^(\d+)x(\d+)$/.exec(parts[1] ?? "") : null;
  if (!match) throw new Error(`unknown recommendation arm ${name}`);
  return {
    rule: parts.includes("obs") ? "best_observed" : "model",
    topK: Number(match[1]),
    repeats: Number(match[2]),
    settings,
  };
}

/** The true regret of each arm's recommendation for one seed's finished records. */
function armRegrets(arms, { space, seed, metricMode, range, records, run }) {
  const out = {};
  for (const name of arms) {
    const arm = parseArm(name);
    // The product passes primary_score's range ([0, 1]) to recommend and reevaluationTargets.
    const options = { rule: arm.rule, seed, metricMode, ...(range ? { range } : {}) };
    if (name === "oracle") {
      out[name] = Math.min(...records.map((r) => run.regret(r.params)));
      continue;
    }
    let history = records;
    if (arm.topK !== undefined) {
      history = records.slice(0, records.length - arm.topK * arm.repeats);
      const targets = reevaluationTargets(space, history, { ...options, topK: arm.topK }, arm.settings);
      // How many runs re-evaluation made (0: none planned; the sweep ended after its search).
      out[`${name}#runs`] = targets.length * arm.repeats;
      const repeats = [];
      for (let r = 0; r < arm.repeats; r++)
        for (const target of targets)
          repeats.push({
            trial_id: `t${String(history.length + repeats.length).padStart(4, "0")}`,
            params: target.params,
            status: "completed",
            primary_score: run.repeat(target.params),
            repeat_of: target.trial_id,
          });
      history = [...history, ...repeats];
    }
    const best = recommend(space, history, options, arm.settings).best;
    out[name] = run.regret(best.params);
  }
  return out;
}

/** Collects per-arm regrets over seeds: {arm: [regret per seed]}. */
function collect(perSeed) {
  const arms = {};
  for (const regrets of perSeed)
    for (const [name, value] of Object.entries(regrets)) {
      arms[name] ??= [];
      arms[name].push(value);
    }
  return arms;
}

function runOursWaves({
  problem: problemName,
  sampler,
  seeds,
  waves,
  q,
  root,
  factory,
  tabular,
  recommend: arms = [],
}) {
  const problem = loadProblem(problemName, root, tabular);
  const space = searchSpaceOf(problem.space);
  const better = problem.metricMode === "max" ? (a, b) => a > b : (a, b) => a < b;
  const regrets = [];
  // Diagnostics: the mean regret of each wave's proposals (how good the sampled configurations are).
  const proposalRegrets = [];
  const perSeedArms = [];
  const started = performance.now();
  for (const seed of seeds) {
    const run = problem.run(seed);
    const history = [];
    let best;
    const perWave = [];
    const proposed = [];
    for (let wave = 0; wave < waves; wave++) {
      const options = { space, seed, metricMode: problem.metricMode };
      const s = factory ? factory(options) : createSampler(sampler, options);
      const proposals = s.propose(q, history);
      if (proposals.length !== q) throw new Error(`${sampler} proposed ${proposals.length} of ${q}`);
      proposed.push(proposals.reduce((sum, params) => sum + run.regret(params), 0) / proposals.length);
      for (const params of proposals) {
        const score = run.evaluate(params);
        history.push({
          trial_id: `t${String(history.length).padStart(4, "0")}`,
          params,
          status: "completed",
          primary_score: score,
        });
        if (best === undefined || better(score, best.score)) best = { score, params };
      }
      perWave.push(run.regret(best.params));
    }
    regrets.push(perWave);
    proposalRegrets.push(proposed);
    perSeedArms.push(
      armRegrets(arms, {
        space,
        seed,
        metricMode: problem.metricMode,
        range: problem.range,
        records: history,
        run,
      }),
    );
  }
  return {
    regrets,
    proposalRegrets,
    arms: collect(perSeedArms),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The asynchronous regime of a local sweep: q workers; each time one frees up (the earliest
 * simulated finish, `trialDuration`), the finished trial is told and one new trial is
 * proposed from every finished record, the running ones counted as running. Regret of the
 * recommended configuration after each q finished trials (a "wave" of work, so the curve
 * compares with the wave regime's).
 */
function runOursAsync({
  problem: problemName,
  sampler,
  seeds,
  waves,
  q,
  root,
  factory,
  tabular,
  recommend: arms = [],
}) {
  const problem = loadProblem(problemName, root, tabular);
  const space = searchSpaceOf(problem.space);
  const better = problem.metricMode === "max" ? (a, b) => a > b : (a, b) => a < b;
  const total = waves * q;
  const regrets = [];
  const perSeedArms = [];
  const started = performance.now();
  for (const seed of seeds) {
    const run = problem.run(seed);
    const options = { space, seed, metricMode: problem.metricMode };
    const s = factory ? factory(options) : createSampler(sampler, options);
    const records = [];
    const running = [];
    let best;
    const curve = [];
    let finished = 0;
    const ask = (now) => {
      const k = records.length;
      const [params] = s.propose(1, records);
      if (!params) throw new Error(`${sampler} proposed nothing at trial ${k}`);
      const record = {
        trial_id: `t${String(k).padStart(4, "0")}`,
        params,
        status: "running",
        primary_score: null,
      };
      records.push(record);
      running.push({ record, end: now + trialDuration(seed, k) });
    };
    while (records.length < Math.min(q, total)) ask(0);
    while (running.length > 0) {
      running.sort((a, b) => a.end - b.end);
      const { record, end } = running.shift();
      const score = run.evaluate(record.params);
      record.status = "completed";
      record.primary_score = score;
      if (best === undefined || better(score, best.score)) best = { score, params: record.params };
      finished++;
      if (finished % q === 0 || finished === total) curve.push(run.regret(best.params));
      if (records.length < total) ask(end);
    }
    regrets.push(curve);
    // The records are in the order they were asked for, so a shorter search (re-evaluation
    // arms) is a prefix: the first trials were proposed from the same finished ones.
    perSeedArms.push(
      armRegrets(arms, { space, seed, metricMode: problem.metricMode, range: problem.range, records, run }),
    );
  }
  return {
    regrets,
    proposalRegrets: [],
    arms: collect(perSeedArms),
    seconds: (performance.now() - started) / 1000,
  };
}

if (parentPort && workerData?.job) {
  const job = workerData.job;
  let factory;
  if (job.variant) {
    const { variants } = await import("./variants.mjs");
    factory = variants[job.variant];
    if (!factory) throw new Error(`unknown variant ${job.variant}`);
  }
  parentPort.postMessage(runOurs({ ...job, factory }));
}
