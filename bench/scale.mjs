// Scale: `tunix-rt aggregate` over 256 trials of 1,000 graded rows each, and `tunix-rt plan`
// from a history of 10,000 trials, each as a real child process (median of several runs),
// next to the CLI's bare start-up (`tunix-rt --version`) measured in the same run.
// Targets: under 2 s each.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin/tunix-rt.js");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const sampler = process.env.BENCH_SAMPLER ?? "auto";
const dir = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-bench-scale-"));

const space = [
  "search_space:",
  "  learning_rate: {type: loguniform, min: 1.0e-5, max: 1.0e-1}",
  "  per_device_batch_size: {type: choice, values: [1, 2, 4, 8]}",
  "  weight_decay: {type: uniform, min: 0.0, max: 0.1}",
  "  warmup_steps: {type: choice, values: [0, 10, 20]}",
];
await writeFile(
  path.join(dir, "sweep.yaml"),
  [
    "run_version: scale_v1",
    `sampler: ${sampler}`,
    "evalset: evalset.jsonl",
    ...space,
    "trainer:",
    "  command: [node, train.mjs]",
  ].join("\n"),
);
const sweepId = "44444444-4444-4444-8444-444444444444";
let seed = 7;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const params = () => ({
  learning_rate: Number((1e-5 * 10 ** (4 * rand())).toPrecision(6)),
  per_device_batch_size: [1, 2, 4, 8][Math.floor(rand() * 4)],
  weight_decay: Number((0.1 * rand()).toPrecision(6)),
  warmup_steps: [0, 10, 20][Math.floor(rand() * 3)],
});

// 256 trial folders as matrix artifacts would lay them out.
for (let t = 0; t < 256; t++) {
  const id = `t${String(t).padStart(4, "0")}`;
  const folder = path.join(dir, "artifacts", `tunix-rt-trial-${sweepId}-${id}`);
  await mkdir(folder, { recursive: true });
  let correct = 0;
  const rows = [];
  const p = rand();
  for (let i = 0; i < 1000; i++) {
    const ok = rand() < p ? 1 : 0;
    correct += ok;
    rows.push(
      JSON.stringify({
        id: `q${i}`,
        prediction: `<reasoning>…</reasoning><answer>${ok ? i : -1}</answer>`,
        expected_answer: String(i),
        metrics: { answer_correctness: ok },
        score: ok * 100,
      }),
    );
  }
  await writeFile(path.join(folder, "eval_rows.jsonl"), `${rows.join("\n")}\n`);
  await writeFile(path.join(folder, "output.log"), `trial ${id}\n`.repeat(200));
  const started = new Date(Date.UTC(2026, 0, 1, 0, 0, t)).toISOString();
  await writeFile(
    path.join(folder, "trial.json"),
    JSON.stringify({
      trial_id: id,
      params: params(),
      status: "completed",
      primary_score: correct / 1000,
      sweep_id: sweepId,
      seed: t,
      exit_code: 0,
      signal: null,
      started_at: started,
      finished_at: started,
      duration_s: 1,
      error: null,
      command: ["node", "train.mjs"],
      runner: "bench",
      rows: 1000,
      counted: 1000,
    }),
  );
}
// A history of 10,000 trials.
const history = [];
for (let t = 0; t < 10_000; t++) {
  history.push(
    JSON.stringify({
      trial_id: `t${String(t).padStart(4, "0")}`,
      params: params(),
      status: t % 17 === 0 ? "failed" : "completed",
      primary_score: t % 17 === 0 ? null : Number(rand().toFixed(4)),
    }),
  );
}
await writeFile(path.join(dir, "history.jsonl"), `${history.join("\n")}\n`);

function time(args) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8" });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`tunix-rt ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const startup = time(["--version"]);
const aggregate = time([
  "aggregate",
  "--config",
  "sweep.yaml",
  "--trials",
  "artifacts",
  "--run-dir",
  "submission_runs/scale_v1",
  "--best-config",
  "best.yaml",
]);
const plan = time([
  "plan",
  "--config",
  "sweep.yaml",
  "--history",
  "history.jsonl",
  "--count",
  "8",
  "--seed",
  "3",
  "--sweep-id",
  sweepId,
]);
const row = (what, ms) =>
  `| ${what} | ${(ms / 1000).toFixed(2)} s | ${(ms / startup).toFixed(1)}x | ${ms < 2000 ? "PASS" : "MISS"} |`;
console.log(
  `bench:scale: median of ${runs} runs, ${os.cpus().length} CPUs, node ${process.version}, sampler ${sampler}`,
);
console.log("| what | wall time | vs CLI start-up | target < 2 s |");
console.log("|---|---|---|---|");
console.log(`| tunix-rt --version (CLI start-up, baseline) | ${(startup / 1000).toFixed(2)} s | 1.0x | |`);
console.log(row("aggregate 256 trials x 1,000 graded rows", aggregate));
console.log(row("plan 8 trials from a history of 10,000", plan));
// What the evidence weighs: every trial's grades (grades.jsonl) beside the best trial's full
// rows, against all 256 trials' full rows, which stay in the trials' artifacts.
const evidence = path.join(dir, "submission_runs/scale_v1");
const size = async (file) => (await stat(file)).size;
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const grades = await readFile(path.join(evidence, "grades.jsonl"));
let allRows = 0;
for (const folder of await readdir(path.join(dir, "artifacts")))
  allRows += await size(path.join(dir, "artifacts", folder, "eval_rows.jsonl"));
let folderBytes = 0;
for (const name of await readdir(evidence, { recursive: true }))
  if ((await stat(path.join(evidence, name))).isFile()) folderBytes += await size(path.join(evidence, name));
console.log("\n| evidence of 256 trials x 1,000 items | size | gzip -9 |");
console.log("|---|---|---|");
console.log(
  `| grades.jsonl (every trial's grades) | ${kib(grades.length)} | ${kib(gzipSync(grades, { level: 9 }).length)} |`,
);
console.log(
  `| eval_rows.jsonl (the best trial's rows) | ${kib(await size(path.join(evidence, "eval_rows.jsonl")))} | |`,
);
console.log(`| the whole evidence folder | ${kib(folderBytes)} | |`);
console.log(`| every trial's full rows (not in the evidence) | ${kib(allRows)} | |`);
await rm(dir, { recursive: true, force: true });
