// Limits: `tunix-rt verify` on evidence at each of its limits (src/core/limits.ts) and just
// past it, each a real child process, with the reference evidence verified in the same run as
// the baseline. For each: the wall time, the peak resident memory, the exit code, and the
// line that refuses what is past the limit. The limits table of docs/evidence.md
// ("Hostile evidence") comes from this.
//
//   npm run bench:limits            (about 5 minutes, 2 GB of scratch disk)
//   BENCH_ONLY=rows,zip-total npm run bench:limits
import { spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { appendFile, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ZipArchive } from "archiver";
import { limits } from "../lib/core/limits.js";
import { readZipFile } from "../lib/runtime/zip-read.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin/tunix-rt.js");
const only = process.env.BENCH_ONLY?.split(",");
const work = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-bench-limits-"));
const evidence = "submission_runs/example_v1";
const MiB = 1024 ** 2;

/** A scratch repository holding the reference evidence, its evalset and configs. */
async function reference(name) {
  const dir = path.join(work, name);
  const zips = (await import("node:fs")).readdirSync(path.join(root, "training/example/reference"));
  const zip = path.join(
    root,
    "training/example/reference",
    zips.find((f) => f.endsWith(".zip")),
  );
  for (const m of await readZipFile(zip)) {
    if (m.kind !== "file" || m.name === "MANIFEST.json" || m.name === "README_SUBMISSION.md") continue;
    await mkdir(path.dirname(path.join(dir, m.name)), { recursive: true });
    await writeFile(path.join(dir, m.name), m.data);
  }
  return dir;
}

/** Writes `count` lines from `line(i)` to `file`, streamed. */
async function writeLines(file, count, line) {
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    if (!out.write(line(i))) await new Promise((r) => out.once("drain", r));
  }
  await new Promise((r) => out.end(r));
}

/** `tunix-rt verify <target>` in `cwd`: seconds, peak RSS (MiB), exit code, first line out. */
function verify(cwd, target) {
  const hook =
    'data:text/javascript,process.on("exit",()=>process.stderr.write("maxrss="+process.resourceUsage().maxRSS+"\\n"))';
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ["--import", hook, cli, "verify", target], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * MiB,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = Number(/maxrss=(\d+)/.exec(run.stderr)?.[1] ?? 0) / 1024;
  const said = `${run.stdout}${run.stderr}`
    .split("\n")
    .filter((l) => l && !l.startsWith("maxrss=") && !l.startsWith("verify:"));
  return { seconds, rss, code: run.status, said };
}

const rowLine = (i) =>
  `{"id":"r${i}","prediction":"<answer>${i % 10}</answer>","expected_answer":"${i % 10}","metrics":{"answer_correctness":1},"score":100}\n`;
const itemLine = (i) => `{"id":"r${i}","prompt":"What is ${i % 10} + 0?","expected_answer":"${i % 10}"}\n`;

/** Points eval_summary.json at `evalset` (a repository path). */
async function useEvalset(dir, evalset) {
  const file = path.join(dir, evidence, "eval_summary.json");
  const doc = JSON.parse(await readFile(file, "utf8"));
  doc.eval_set = evalset;
  await writeFile(file, JSON.stringify(doc, null, 2));
}

/** A zip of `members` ([name, size, byte]) written with archiver, zeros compress to almost nothing. */
async function zipOf(file, members) {
  const archive = new ZipArchive({ zlib: { level: 1 } });
  const done = new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    out.on("close", resolve);
    out.on("error", reject);
    archive.pipe(out);
  });
  for (const [name, size] of members) archive.append(Buffer.alloc(size), { name });
  await archive.finalize();
  await done;
}

/** Each limit: how to build the evidence at it (`at`) and just past it (`past`). */
const cases = [
  {
    name: "rows",
    limit: `${limits.rows.toLocaleString("en")} rows of eval_rows.jsonl, each re-graded against an evalset of as many items`,
    async build(dir, n) {
      await writeLines(path.join(dir, "training/evalsets/big.jsonl"), n, itemLine);
      await useEvalset(dir, "training/evalsets/big.jsonl");
      await writeLines(path.join(dir, evidence, "eval_rows.jsonl"), n, rowLine);
    },
    at: limits.rows,
    past: limits.rows + 1,
  },
  {
    name: "trials",
    limit: `${limits.trials.toLocaleString("en")} trials in trials.jsonl`,
    async build(dir, n) {
      const first = (await readFile(path.join(dir, evidence, "trials.jsonl"), "utf8")).split("\n")[0];
      const record = JSON.parse(first);
      await writeLines(
        path.join(dir, evidence, "trials.jsonl"),
        n,
        (i) => `${JSON.stringify({ ...record, trial_id: `x${i}` })}\n`,
      );
    },
    at: limits.trials,
    past: limits.trials + 1,
  },
  {
    name: "jsonl-file",
    limit: `${limits.jsonlFileBytes / MiB} MiB per JSONL file (eval_rows.jsonl)`,
    async build(dir, size) {
      const file = path.join(dir, evidence, "eval_rows.jsonl");
      await writeLines(
        file,
        Math.floor(size / 200),
        (i) => `${JSON.stringify({ id: `p${i}`, pad: "x".repeat(160) }).padEnd(199)}\n`,
      );
      await truncate(file, size);
    },
    at: limits.jsonlFileBytes,
    past: limits.jsonlFileBytes + 1,
  },
  {
    name: "line",
    limit: `${limits.lineBytes / MiB} MiB per line of JSONL (a row's prediction)`,
    async build(dir, size) {
      const head = '{"id":"ex-001","prediction":"';
      const tail = '","expected_answer":"91","metrics":{"answer_correctness":0},"score":0}';
      await writeFile(
        path.join(dir, evidence, "eval_rows.jsonl"),
        `${head}${"x".repeat(size - head.length - tail.length)}${tail}\n`,
      );
    },
    at: limits.lineBytes,
    past: limits.lineBytes + 1,
  },
  {
    name: "json-file",
    limit: `${limits.jsonFileBytes / MiB} MiB per JSON file (run_manifest.json)`,
    async build(dir, size) {
      const file = path.join(dir, evidence, "run_manifest.json");
      const doc = JSON.parse(await readFile(file, "utf8"));
      const base = JSON.stringify({ ...doc, notes: "" }).length;
      await writeFile(file, JSON.stringify({ ...doc, notes: "x".repeat(size - base) }));
    },
    at: limits.jsonFileBytes,
    past: limits.jsonFileBytes + 1,
  },
  {
    name: "depth",
    limit: `${limits.jsonDepth} levels of nesting in a JSON document`,
    async build(dir, depth) {
      const file = path.join(dir, evidence, "run_manifest.json");
      const text = (await readFile(file, "utf8")).replace(
        /\}\s*$/,
        `, "deep": ${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`,
      );
      await writeFile(file, text);
    },
    at: limits.jsonDepth,
    past: 100_000,
  },
  {
    name: "log",
    limit: `${limits.logFileBytes / MiB} MiB of kaggle_output_log.txt`,
    async build(dir, size) {
      const file = path.join(dir, evidence, "kaggle_output_log.txt");
      await writeLines(file, Math.floor(size / 100), () => `${"log line ".repeat(11)}\n`);
      await truncate(file, size);
    },
    at: limits.logFileBytes,
    past: limits.logFileBytes + 1,
  },
  {
    name: "evalset",
    limit: `${limits.evalsetBytes / MiB} MiB of evalset`,
    async build(dir, size) {
      const file = path.join(dir, "training/evalsets/big.jsonl");
      const pad = "y".repeat(900);
      await writeLines(
        file,
        Math.floor(size / 1000),
        (i) => `${JSON.stringify({ id: `b${i}`, prompt: pad, expected_answer: "1" }).padEnd(999)}\n`,
      );
      await appendFile(file, " ".repeat(size % 1000));
      await useEvalset(dir, "training/evalsets/big.jsonl");
    },
    at: limits.evalsetBytes,
    past: limits.evalsetBytes + 1,
  },
  {
    name: "config",
    limit: `${limits.configBytes / MiB} MiB of promoted (or sweep) config`,
    async build(dir, size) {
      const file = path.join(dir, "training/configs/example_v1_best.yaml");
      const text = await readFile(file, "utf8");
      await writeFile(file, `${text}# ${"c".repeat(size - text.length - 3)}\n`);
    },
    at: limits.configBytes,
    past: limits.configBytes + 1,
  },
  {
    name: "attestation",
    limit: `${limits.attestationBytes / MiB} MiB of attestation.sigstore.json (its statement naming ${1024} subjects)`,
    async build(dir, size) {
      const subjects = Array.from({ length: 1024 }, (_, i) => ({
        name: `f${i}`,
        digest: { sha256: "a".repeat(64) },
      }));
      const payload = Buffer.from(
        JSON.stringify({
          _type: "https://in-toto.io/Statement/v1",
          subject: subjects,
          predicateType: "x",
          predicate: {},
        }),
      ).toString("base64");
      const bundle = {
        mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
        verificationMaterial: {
          certificate: { rawBytes: "" },
          tlogEntries: [],
          timestampVerificationData: {},
        },
        dsseEnvelope: {
          payload,
          payloadType: "application/vnd.in-toto+json",
          signatures: [{ sig: "", keyid: "" }],
        },
      };
      const text = JSON.stringify(bundle);
      await writeFile(
        path.join(dir, evidence, "attestation.sigstore.json"),
        `${text}${" ".repeat(size - text.length)}`,
      );
    },
    at: limits.attestationBytes,
    past: limits.attestationBytes + 1,
  },
  {
    name: "zip-members",
    limit: `${limits.zipMembers.toLocaleString("en")} members of a submission zip`,
    zip: true,
    async build(file, n) {
      await zipOf(
        file,
        Array.from({ length: n }, (_, i) => [`m/${i}`, 16]),
      );
    },
    at: limits.zipMembers,
    past: limits.zipMembers + 1,
  },
  {
    name: "zip-member",
    limit: `${limits.zipMemberBytes / MiB} MiB per zip member, uncompressed`,
    zip: true,
    async build(file, size) {
      await zipOf(file, [[`${evidence}/eval_rows.jsonl`, size]]);
    },
    at: limits.zipMemberBytes,
    past: limits.zipMemberBytes + 1,
  },
  {
    name: "zip-total",
    limit: `${limits.zipTotalBytes / MiB} MiB of a zip, uncompressed`,
    zip: true,
    async build(file, size) {
      const each = limits.zipMemberBytes;
      const members = [];
      for (let left = size, i = 0; left > 0; left -= each, i++)
        members.push([`m/${i}`, Math.min(each, left)]);
      await zipOf(file, members);
    },
    at: limits.zipTotalBytes,
    past: limits.zipTotalBytes + 1,
  },
];

const baselineDir = await reference("baseline");
const baseline = verify(baselineDir, evidence);
console.log(
  `baseline (the reference evidence): ${baseline.seconds.toFixed(2)} s, ${baseline.rss.toFixed(0)} MiB, exit ${baseline.code}`,
);
const rows = [];
for (const c of cases) {
  if (only && !only.includes(c.name)) continue;
  const results = {};
  for (const which of ["at", "past"]) {
    let target;
    let cwd;
    if (c.zip) {
      cwd = work;
      target = path.join(work, `${c.name}-${which}.zip`);
      await c.build(target, c[which]);
    } else {
      cwd = await reference(`${c.name}-${which}`);
      target = evidence;
      await c.build(cwd, c[which]);
    }
    results[which] = verify(cwd, target);
    await rm(c.zip ? target : cwd, { recursive: true, force: true });
  }
  const refusal =
    results.past.said.find((l) => /over|more than|deeper|holds more/.test(l)) ?? results.past.said[0] ?? "";
  rows.push({ c, results, refusal });
  console.log(
    `${c.name}: at ${results.at.seconds.toFixed(2)} s, ${results.at.rss.toFixed(0)} MiB, exit ${results.at.code} | past ${results.past.seconds.toFixed(2)} s, exit ${results.past.code}: ${refusal.slice(0, 200)}`,
  );
}
console.log("\n| limit | verify at the limit | past it |");
console.log("|---|---|---|");
for (const { c, results, refusal } of rows) {
  const shown = refusal.replace(work, "…").replace(/\|/g, "\\|");
  console.log(
    `| ${c.limit} | ${results.at.seconds.toFixed(1)} s, ${results.at.rss.toFixed(0)} MiB | ${results.past.seconds.toFixed(1)} s: \`${shown.slice(0, 160)}\` |`,
  );
}
console.log(
  `\nbaseline: ${baseline.seconds.toFixed(2)} s, ${baseline.rss.toFixed(0)} MiB (node ${process.version}, ${os.cpus().length} CPUs)`,
);
await rm(work, { recursive: true, force: true });
