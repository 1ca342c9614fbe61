// Benchmark: `tunix-rt score --rows F --json` against a bare readline + JSON.parse loop over the
// same 1,000,000-row eval_rows file, both as real child processes, alternating runs.
// Targets: score's median time within 1.5x of the bare loop's; score's peak RSS under 150 MB.
// Run with `npm run bench:score` (builds lib/ first). Options: --rows N (default 1000000),
// --runs N (default 3), --keep (leave the temp folder).

import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin/tunix-rt.js");
const TIME_TARGET = 1.5;
const RSS_TARGET_MB = 150;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const rowCount = option("rows", 1_000_000);
const runs = option("runs", 3);
const keep = args.includes("--keep");

if (!existsSync(path.join(root, "lib/cli/main.js"))) {
  console.error(
    "bench/score.mjs: lib/ is not built; run `npx tsc -p tsconfig.build.json` (or `npm run bench:score`)",
  );
  process.exit(2);
}

/** A small seeded generator, so every run scores the same file. */
const rng = mulberry32;

/** One eval row in the shapes real files hold, mostly graded rows, some odd ones. */
function makeRow(i, random) {
  const id = `eval-${String(i).padStart(7, "0")}`;
  const expected = String(Math.floor(random() * 1000));
  const right = random() < 0.6;
  const answer = right ? expected : String(Math.floor(random() * 1000));
  const prediction = `<reasoning>Step 1: read the question. Step 2: compute ${i % 97} + ${i % 89}. Step 3: check the result.</reasoning><answer>${answer}</answer>`;
  const correct = right ? 1 : 0;
  const kind = random();
  const base = { id, prediction, expected_answer: expected };
  if (kind < 0.7) return { ...base, metrics: { answer_correctness: correct }, score: correct * 100 };
  if (kind < 0.8) return { ...base, score: Math.floor(random() * 101) }; // score only, 0-100
  if (kind < 0.85)
    return { ...base, metrics: { answer_correctness: random() < 0.5 ? 1.5 : -0.25 }, score: 100 }; // dropped
  if (kind < 0.9)
    return { ...base, metrics: { answer_correctness: random() < 0.5 ? " 0.5 " : "1" }, score: "85" }; // strings
  if (kind < 0.95) return { ...base, metrics: { answer_correctness: null, bleu: random() }, score: random() }; // fallback
  return { ...base, metrics: [correct], score: `${Math.floor(random() * 101)}` }; // metrics not an object
}

async function writeRows(file) {
  const random = rng(42);
  const out = createWriteStream(file);
  let buffer = "";
  for (let i = 0; i < rowCount; i++) {
    buffer += `${JSON.stringify(makeRow(i, random))}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise((resolve) => out.once("drain", resolve));
      buffer = "";
    }
  }
  await new Promise((resolve, reject) => out.end(buffer, (error) => (error ? reject(error) : resolve())));
}

const BARE = `import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
const lines = createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity });
let rows = 0;
lines.on("line", (line) => { if (line !== "") { JSON.parse(line); rows++; } });
lines.on("close", () => console.log(JSON.stringify({ rows })));
`;

// Used only where /usr/bin/time is missing: the child reports its own peak RSS as it exits.
const PROBE = `import { writeFileSync } from "node:fs";
process.on("exit", () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));
`;

const gnuTime = existsSync("/usr/bin/time");

/** Runs `node ...argv` as a child; resolves to wall seconds, peak RSS in MB and stdout. */
function measure(dir, label, argv) {
  const rssFile = path.join(dir, `${label}.rss`);
  const command = gnuTime ? "/usr/bin/time" : process.execPath;
  const full = gnuTime
    ? ["-f", "%M", "-o", rssFile, process.execPath, ...argv]
    : ["--import", path.join(dir, "probe.mjs"), ...argv];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, full, {
      env: { ...process.env, BENCH_RSS_FILE: rssFile },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (data) => {
      stdout += data;
    });
    child.on("error", reject);
    child.on("close", async (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`${label} exited with ${code}`));
      const kb = Number((await readFile(rssFile, "utf8")).trim().split("\n").pop());
      resolve({ seconds, rssMb: kb / 1024, stdout: stdout.trim() });
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

const dir = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-bench-score-"));
try {
  const rowsFile = path.join(dir, "eval_rows.jsonl");
  await writeFile(path.join(dir, "bare.mjs"), BARE);
  await writeFile(path.join(dir, "probe.mjs"), PROBE);
  console.log(`writing ${fmt(rowCount)} rows to ${rowsFile} ...`);
  await writeRows(rowsFile);
  const size = (await stat(rowsFile)).size;
  const results = { bare: [], score: [] };
  let scored = "";
  for (let run = 0; run < runs; run++) {
    results.bare.push(await measure(dir, "bare", [path.join(dir, "bare.mjs"), rowsFile]));
    const score = await measure(dir, "score", [cli, "score", "--rows", rowsFile, "--json"]);
    results.score.push(score);
    scored = score.stdout;
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, list]) => [
      name,
      { seconds: median(list.map((r) => r.seconds)), rssMb: Math.max(...list.map((r) => r.rssMb)) },
    ]),
  );
  const ratio = summary.score.seconds / summary.bare.seconds;
  const rss = summary.score.rssMb;
  console.log(
    `\nfile: ${fmt(rowCount)} rows, ${fmt(size / 1024 / 1024, 1)} MB; node ${process.version}; ${os.cpus().length} CPUs; ${runs} runs each, alternating`,
  );
  console.log(
    `peak RSS measured with ${gnuTime ? "/usr/bin/time -f %M" : "process.resourceUsage().maxRSS in the child"}`,
  );
  console.log(`score output: ${scored}\n`);
  console.log("| run                          | median wall s | rows/s     | peak RSS MB |");
  console.log("|------------------------------|---------------|------------|-------------|");
  for (const [name, label] of [
    ["bare", "bare readline + JSON.parse"],
    ["score", "tunix-rt score --rows --json"],
  ]) {
    const { seconds, rssMb } = summary[name];
    console.log(
      `| ${label.padEnd(28)} | ${fmt(seconds, 2).padStart(13)} | ${fmt(rowCount / seconds).padStart(10)} | ${fmt(rssMb, 1).padStart(11)} |`,
    );
  }
  console.log(
    `\ntime ratio score/bare: ${fmt(ratio, 2)}  ${ratio <= TIME_TARGET ? "PASS" : "MISS"} (target <= ${TIME_TARGET})`,
  );
  console.log(
    `score peak RSS: ${fmt(rss, 1)} MB  ${rss < RSS_TARGET_MB ? "PASS" : "MISS"} (target < ${RSS_TARGET_MB} MB)`,
  );
} finally {
  if (keep) console.log(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
