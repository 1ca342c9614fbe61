#!/usr/bin/env node
// Writes the example trainer's evalset, training/evalsets/example_eval.jsonl, from a fixed
// seed. The file is committed; rerunning this script reproduces it byte for byte.
//   node training/example/make-data.mjs [--out FILE] [--count N]

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drawProblems } from "./problems.mjs";

/** The evalset's seed; the trainer's training split uses another, and skips eval problems. */
const EVAL_SEED = 34_000;
const HERE = path.dirname(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
let out = path.join(HERE, "..", "evalsets", "example_eval.jsonl");
let count = 120;
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === "--out" && value) out = value;
  else if (flag === "--count" && value && /^\d+$/.test(value) && Number(value) > 0) count = Number(value);
  else {
    process.stderr.write(
      `make-data.mjs: bad argument ${JSON.stringify(flag)}; usage: make-data.mjs [--out FILE] [--count N]\n`,
    );
    process.exit(2);
  }
}

const problems = drawProblems(EVAL_SEED, count, new Set());
const lines = problems.map((p, i) =>
  JSON.stringify({
    id: `ex-${String(i + 1).padStart(3, "0")}`,
    prompt: p.prompt,
    expected_answer: p.answer,
    category: p.category,
    difficulty: p.difficulty,
  }),
);
mkdirSync(path.dirname(out), { recursive: true });
const temp = `${out}.${process.pid}.tmp`;
writeFileSync(temp, `${lines.join("\n")}\n`);
renameSync(temp, out);
process.stdout.write(`wrote ${lines.length} items to ${out}\n`);
