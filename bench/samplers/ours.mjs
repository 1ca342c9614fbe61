// Drives one of tunix-rt's samplers through the benchmark's wave loop: each wave asks
// `createSampler(name, ...).propose(q, history)` with every trial told so far, evaluates the
// q proposals and tells them (appends completed trial records). Runs in a worker thread.
import { parentPort, workerData } from "node:worker_threads";
import { createSampler } from "../../lib/core/samplers/index.js";
import { searchSpaceOf } from "../../lib/core/space.js";
import { loadProblem, trialDuration } from "./problems.mjs";

/** Regret of the recommended configuration (best observed score) after each wave, per seed. */
export function runOurs(job) {
  return job.regime === "async" ? runOursAsync(job) : runOursWaves(job);
}

function runOursWaves({ problem: problemName, sampler, seeds, waves, q, root, factory, tabular }) {
  const problem = loadProblem(problemName, root, tabular);
  const space = searchSpaceOf(problem.space);
  const better = problem.metricMode === "max" ? (a, b) => a > b : (a, b) => a < b;
  const regrets = [];
  // Diagnostics: the mean regret of each wave's proposals (how good the sampled configurations are).
  const proposalRegrets = [];
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
  }
  return { regrets, proposalRegrets, seconds: (performance.now() - started) / 1000 };
}

/**
 * The asynchronous regime of a local sweep: q workers; each time one frees up (the earliest
 * simulated finish, `trialDuration`), the finished trial is told and one new trial is
 * proposed from every finished record, the running ones counted as running. Regret of the
 * recommended configuration after each q finished trials (a "wave" of work, so the curve
 * compares with the wave regime's).
 */
function runOursAsync({ problem: problemName, sampler, seeds, waves, q, root, factory, tabular }) {
  const problem = loadProblem(problemName, root, tabular);
  const space = searchSpaceOf(problem.space);
  const better = problem.metricMode === "max" ? (a, b) => a > b : (a, b) => a < b;
  const total = waves * q;
  const regrets = [];
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
  }
  return { regrets, proposalRegrets: [], seconds: (performance.now() - started) / 1000 };
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
