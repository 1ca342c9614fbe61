// Benchmark: parameter importance (src/core/report/importance.ts) of a sweep of 256 scored
// trials over 10 parameters of every type, as the sweep report computes it: the first call
// in a fresh process (cold: what a report pays, JIT warm-up included), then the median of
// several more, next to the forest's fit alone on the same data (the baseline: what the
// exact fANOVA adds on top of fitting the trees).
// Target: the cold call under 1 s on this project's 2-CPU machine.
//   npm run build && node bench/importance.mjs [--trials 256] [--runs 5]
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const lib = path.join(root, "lib/core");
if (!existsSync(path.join(lib, "report/importance.js"))) {
  console.error("bench/importance.mjs: lib/ is not built; run `npm run build` first");
  process.exit(2);
}
const { parameterImportance, importanceDefaults } = await import(path.join(lib, "report/importance.js"));
const { fitForest } = await import(path.join(lib, "report/random-forest.js"));
const { encodeSpace } = await import(path.join(lib, "samplers/encoding.js"));
const { createSampler } = await import(path.join(lib, "samplers/index.js"));
const { createRng } = await import(path.join(lib, "rng.js"));
const { searchSpaceOf, toUnit } = await import(path.join(lib, "space.js"));

const { values: flags } = parseArgs({
  options: { trials: { type: "string", default: "256" }, runs: { type: "string", default: "5" } },
});
const trialCount = Number(flags.trials);
const runs = Number(flags.runs);
const TARGET_MS = 1000;

const space = searchSpaceOf({
  learning_rate: { type: "loguniform", min: 1e-6, max: 1e-2 },
  weight_decay: { type: "uniform", min: 0, max: 0.1 },
  warmup_steps: { type: "randint", min: 0, max: 500 },
  per_device_batch_size: { type: "choice", values: [1, 2, 4, 8, 16] },
  optimizer: { type: "choice", values: ["adamw", "adafactor", "sgd"] },
  lora_rank: { type: "qloguniform", min: 4, max: 256, q: 4 },
  dropout: { type: "quniform", min: 0, max: 0.5, q: 0.05 },
  beta2: { type: "uniform", min: 0.9, max: 0.999 },
  scheduler: { type: "choice", values: ["cosine", "linear", "constant"] },
  epochs: { type: "randint", min: 1, max: 5 },
});
const params = createSampler("random", { space, seed: 1, metricMode: "max" }).propose(trialCount, []);
const noise = createRng(1, "bench-importance");
const unit = (name, value) => toUnit(space.find((p) => p.name === name).spec, value);
const trials = params.map((p, i) => ({
  trial_id: `t${String(i).padStart(4, "0")}`,
  params: p,
  status: "completed",
  primary_score:
    0.3 +
    0.3 * Math.exp(-((unit("learning_rate", p.learning_rate) - 0.6) ** 2) / 0.05) +
    0.1 * (p.optimizer === "sgd" ? 0 : 1) +
    0.1 * unit("warmup_steps", p.warmup_steps) * unit("epochs", p.epochs) +
    0.05 * noise.next(),
}));

const time = (f) => {
  const start = process.hrtime.bigint();
  const value = f();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cold = time(() => parameterImportance(space, trials));
const warm = [];
for (let r = 0; r < runs; r++) warm.push(time(() => parameterImportance(space, trials)).ms);
const encoding = encodeSpace(space);
const x = trials.map((t) => encoding.encode(t.params));
const y = trials.map((t) => t.primary_score);
const features = encoding.coords.map((c) => ({ kind: c.kind, levels: c.levels }));
const fitOnly = [];
for (let r = 0; r < runs; r++) fitOnly.push(time(() => fitForest(features, x, y, importanceDefaults)).ms);

const result = cold.value;
console.log(
  `importance: ${trialCount} trials, ${space.length} parameters, ${result.trees} trees (Node ${process.version})`,
);
for (const p of result.params)
  console.log(`  ${p.name.padEnd(22)} ${p.importance.toFixed(3)} ± ${p.std.toFixed(3)}`);
console.log(`  main effects explain ${(100 * result.mainEffects).toFixed(1)}% of the variance`);
console.log(`cold (first call): ${cold.ms.toFixed(1)} ms   target < ${TARGET_MS} ms`);
console.log(`warm median of ${runs}: ${median(warm).toFixed(1)} ms`);
console.log(`baseline, forest fit alone (warm median): ${median(fitOnly).toFixed(1)} ms`);
console.log(cold.ms < TARGET_MS ? "PASS" : "FAIL");
process.exitCode = cold.ms < TARGET_MS ? 0 : 1;
