// The example trainer (training/example/train.mjs) run for real as a child process, the way a
// sweep runs it: contract env, params file, flags, output folder in a temp dir.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const trainer = path.join(root, "training", "example", "train.mjs");
const evalset = path.join(root, "training", "evalsets", "example_eval.jsonl");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the trainer with `args`, the contract env in `env` and nothing else of ours. */
function train(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith("TUNIX_RT_")) delete base[key];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [trainer, ...args],
      { cwd: root, env: { ...base, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function jsonl(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The M34 judge: the text inside <answer>, stripped and lowercased, equal to the expected answer. */
function accuracy(predictions: Record<string, unknown>[], items: Record<string, unknown>[]): number {
  const byId = new Map(predictions.map((row) => [row.id, String(row.prediction)]));
  let right = 0;
  for (const item of items) {
    const prediction = byId.get(item.id) ?? "";
    const answer = /<answer>([\s\S]*?)<\/answer>/.exec(prediction)?.[1] ?? prediction;
    if (answer.trim().toLowerCase() === String(item.expected_answer).trim().toLowerCase()) right += 1;
  }
  return right / items.length;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

let tmp: string;
let items: Record<string, unknown>[];
const dir = (name: string) => path.join(tmp, name);
const read = (name: string, file: string) => readFile(path.join(dir(name), file), "utf8");

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-example-"));
  items = jsonl(await readFile(evalset, "utf8"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("example evalset", () => {
  it("is what make-data.mjs writes, in the M34 format, with every category and difficulty", async () => {
    const out = dir("evalset.jsonl");
    const made = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [path.join(root, "training/example/make-data.mjs"), "--out", out],
        (error) => (error ? reject(error) : resolve(out)),
      ),
    );
    expect(await readFile(made, "utf8")).toBe(await readFile(evalset, "utf8"));
    expect(items.length).toBeGreaterThanOrEqual(100);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(["category", "difficulty", "expected_answer", "id", "prompt"]);
    }
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    expect(new Set(items.map((item) => item.category))).toEqual(new Set(["arithmetic", "word_problem"]));
    expect(new Set(items.map((item) => item.difficulty))).toEqual(new Set(["easy", "medium", "hard"]));
  });
});

describe("example trainer", () => {
  it("follows the trial contract: params file and env in, tagged predictions and metrics out", async () => {
    const params = dir("params.json");
    await writeFile(
      params,
      JSON.stringify({ learning_rate: 0.03, per_device_batch_size: 8, weight_decay: 0.01, warmup_steps: 50 }),
    );
    const run = await train([], {
      TUNIX_RT_PARAMS_FILE: params,
      TUNIX_RT_OUTPUT_DIR: dir("contract"),
      TUNIX_RT_SEED: "5",
      TUNIX_RT_EVALSET: evalset,
      TUNIX_RT_BUDGET: "300",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "learning_rate=0.03 per_device_batch_size=8 weight_decay=0.01 warmup_steps=50",
    );
    expect(run.stdout).toMatch(/step 300\/300 loss /);

    const predictions = jsonl(await read("contract", "predictions.jsonl"));
    expect(predictions.map((row) => row.id)).toEqual(items.map((item) => item.id));
    for (const row of predictions) {
      expect(Object.keys(row)).toEqual(["id", "prediction"]);
      expect(row.prediction).toMatch(/^<reasoning>[^<]+<\/reasoning><answer>-?\d+<\/answer>$/);
    }
    expect(predictions[0]?.prediction).toMatch(/write \d (carry|borrow) [01]/);

    const metrics = jsonl(await read("contract", "metrics.jsonl"));
    const steps = metrics.map((line) => line.step as number);
    expect(steps).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * 10));
    const losses = metrics.map((line) => line.loss as number);
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) * 0.8);
    // Linear warmup over 50 steps, then the peak rate.
    expect(metrics[0]?.lr).toBeCloseTo(0.03 * (10 / 50), 12);
    expect(metrics.at(-1)?.lr).toBe(0.03);
    expect(metrics.filter((line) => "eval_accuracy" in line).map((line) => line.step)).toEqual([
      100, 200, 300,
    ]);
  });

  it("learns: the default budget answers most of the evalset, a tiny learning rate almost none", async () => {
    const [good, poor] = await Promise.all([
      train(["--output-dir", dir("good"), "--seed", "3"]),
      train(["--output-dir", dir("poor"), "--seed", "3", "--learning-rate", "1e-4"]),
    ]);
    expect([good.code, poor.code]).toEqual([0, 0]);
    const goodScore = accuracy(jsonl(await read("good", "predictions.jsonl")), items);
    const poorScore = accuracy(jsonl(await read("poor", "predictions.jsonl")), items);
    expect(goodScore).toBeGreaterThan(0.9);
    expect(poorScore).toBeLessThan(0.2);
  });

  it("is deterministic: same seed gives the same bytes, another seed other weights", async () => {
    const args = (name: string, seed: string) => [
      "--output-dir",
      dir(name),
      "--seed",
      seed,
      "--budget",
      "150",
    ];
    const runs = await Promise.all([train(args("a", "11")), train(args("b", "11")), train(args("c", "12"))]);
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0]);
    expect(await read("a", "predictions.jsonl")).toBe(await read("b", "predictions.jsonl"));
    expect(await read("a", "metrics.jsonl")).toBe(await read("b", "metrics.jsonl"));
    expect(await read("a", "checkpoint.json")).toBe(await read("b", "checkpoint.json"));
    const weights = async (name: string) =>
      JSON.parse(await read(name, "checkpoint.json")).weights as number[];
    expect(await weights("c")).not.toEqual(await weights("a"));
  });

  it("resumes from a checkpoint to the same result as a straight run", async () => {
    const args = ["--learning-rate", "0.02", "--batch-size", "4", "--warmup-steps", "30", "--seed", "9"];
    const [straight, first] = await Promise.all([
      train([...args, "--output-dir", dir("straight"), "--budget", "200"]),
      train([...args, "--output-dir", dir("first"), "--budget", "87"]),
    ]);
    expect([straight.code, first.code]).toEqual([0, 0]);
    expect(JSON.parse(await read("first", "checkpoint.json")).step).toBe(87);
    const resumed = await train([...args, "--output-dir", dir("resumed")], {
      TUNIX_RT_RESUME_FROM: dir("first"),
      TUNIX_RT_BUDGET: "200",
    });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("at step 87");
    expect(resumed.stdout).toContain("trained 113 steps (87 -> 200)");
    for (const file of ["predictions.jsonl", "metrics.jsonl", "checkpoint.json"]) {
      expect(await read("resumed", file)).toBe(await read("straight", file));
    }
    // A trainer that cannot resume: --no-resume ignores the checkpoint and trains all 200 steps.
    const over = await train([...args, "--output-dir", dir("over"), "--no-resume"], {
      TUNIX_RT_RESUME_FROM: dir("first"),
      TUNIX_RT_BUDGET: "200",
    });
    expect(over.code).toBe(0);
    expect(over.stdout).toContain("--no-resume: TUNIX_RT_RESUME_FROM ignored");
    expect(over.stdout).toContain("trained 200 steps (0 -> 200)");
    expect(await read("over", "checkpoint.json")).toBe(await read("straight", "checkpoint.json"));
  });

  it("lets flags win over the params file", async () => {
    const params = dir("params-low.json");
    await writeFile(params, JSON.stringify({ learning_rate: 0.5, per_device_batch_size: 2 }));
    const run = await train(["--learning-rate=0.004", "--output-dir", dir("flags"), "--budget", "10"], {
      TUNIX_RT_PARAMS_FILE: params,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("learning_rate=0.004 per_device_batch_size=2 ");
  });

  it("answers prompts it cannot parse with an empty answer, still one line per id", async () => {
    const small = dir("small.jsonl");
    const rows = [
      { id: "q1", prompt: "What is 15 + 27?" },
      { id: "q2", prompt: "Name three primary colors." },
      {
        id: "q3",
        prompt: "If a baker makes 12 cookies per batch and makes 5 batches, how many cookies total?",
      },
    ];
    await writeFile(small, rows.map((row) => JSON.stringify(row)).join("\n"));
    const run = await train(["--output-dir", dir("small"), "--evalset", small, "--budget", "5"]);
    expect(run.code).toBe(0);
    const predictions = jsonl(await read("small", "predictions.jsonl"));
    expect(predictions.map((row) => row.id)).toEqual(["q1", "q2", "q3"]);
    expect(predictions[0]?.prediction).toMatch(/<answer>\d+<\/answer>$/);
    expect(predictions[1]?.prediction).toMatch(/<answer><\/answer>$/);
    expect(predictions[2]?.prediction).toMatch(/<answer><\/answer>$/);
  });

  it.each([
    [["--learning-rate", "fast"], /--learning-rate: got "fast"; expected a number/],
    [["--learning-rate", "-0.1"], /--learning-rate: got "-0.1"/],
    [["--batch-size", "2.5"], /--batch-size: got "2.5"; expected a whole number/],
    [["--budget"], /--budget: missing value/],
    [["--lr", "0.1"], /unknown argument "--lr"/],
    [
      ["--evalset", "no/such/evalset.jsonl"],
      /no\/such\/evalset.jsonl: cannot read the evalset: no such file/,
    ],
  ])("rejects bad input %j with exit 2 and one line", async (args, message) => {
    const run = await train([...args, "--output-dir", dir("bad")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\bat .*\.mjs:\d+/);
  });

  it("rejects a params file with an unknown name, and no output folder", async () => {
    const params = dir("params-typo.json");
    await writeFile(params, JSON.stringify({ learning_rte: 0.01 }));
    const typo = await train(["--output-dir", dir("typo")], { TUNIX_RT_PARAMS_FILE: params });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("learning_rte: unknown parameter");
    const noOut = await train([]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("--output-dir");
  });
});
