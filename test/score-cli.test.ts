import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, seedData, tempDir } from "./helpers/cli.js";

// Real child processes against the built CLI (`npx tsc -p tsconfig.build.json` first; `npm test` does it).

const JSON_LINE = /^\{"primary_score":(?:null|-?\d[\d.e+-]*),"rows":\d+,"counted":\d+\}\n$/;

let dir = "";
beforeAll(async () => {
  dir = await tempDir("tunix-rt-score-cli-");
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const full = path.join(dir, name);
  await writeFile(full, text);
  return full;
}

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;

describe("tunix-rt score --rows", () => {
  it("prints exactly {primary_score, rows, counted} on one line with --json", async () => {
    const rows = await file(
      "rows.jsonl",
      `${jsonl([
        { id: "a", metrics: { answer_correctness: 1 }, score: 100 },
        { id: "b", metrics: { answer_correctness: 0 }, score: 0 },
        { id: "c", score: 85 },
        { id: "d", metrics: { answer_correctness: 1.5 }, score: 100 },
        { id: "e", metrics: { answer_correctness: " 0.5 " } },
        5,
        [],
      ])}\n{"id": "f", "metrics": {"answer_correctness": NaN}, "score": 100}\n`,
    );
    const result = await runCli(["score", "--rows", rows, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(JSON_LINE);
    expect(JSON.parse(result.stdout)).toEqual({
      primary_score: (1 + 0 + 0.85 + 0.5) / 4,
      rows: 8,
      counted: 4,
    });
    expect(Object.keys(JSON.parse(result.stdout))).toEqual(["primary_score", "rows", "counted"]);
  });

  it("prints a sentence without --json", async () => {
    const rows = await file("two.jsonl", jsonl([{ score: 100 }, { score: 0 }]));
    const result = await runCli(["score", "--rows", rows]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("primary_score 0.5 (2 of 2 rows counted)\n");
  });

  it("answers null with exit 0 when no row counts, and for an empty file", async () => {
    const none = await file("none.jsonl", jsonl([{ score: 500 }, { metrics: { answer_correctness: -1 } }]));
    const result = await runCli(["score", "--rows", none, "--json"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"primary_score":null,"rows":2,"counted":0}\n');
    const human = await runCli(["score", "--rows", none]);
    expect(human.stdout).toMatch(/^primary_score null: none of 2 rows counted/);
    const empty = await runCli(["score", "--rows", await file("empty.jsonl", ""), "--json"]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('{"primary_score":null,"rows":0,"counted":0}\n');
  });

  it("reads CRLF line ends and a byte order mark", async () => {
    const rows = await file("crlf.jsonl", '\ufeff{"score": 100}\r\n\r\n{"score": 0}\r\n');
    const result = await runCli(["score", "--rows", rows, "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ primary_score: 0.5, rows: 2, counted: 2 });
  });

  it("exits 2 on a line that is not JSON, naming the file, the first line and the count", async () => {
    const rows = await file("bad.jsonl", `${jsonl([{ score: 1 }])}{"score": 1,}\n\n{"score": 1}\nnot json\n`);
    const result = await runCli(["score", "--rows", rows, "--json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^tunix-rt score: .*bad\.jsonl:2: not valid JSON \(.+\) \(and 1 more malformed line\) \(--all-problems lists every one\)\n$/,
    );
    // Under --json the failure is also one object on stdout, with every malformed line in it.
    const failure = JSON.parse(result.stdout);
    expect(failure).toMatchObject({ ok: false, exit_code: 2 });
    expect(failure.error).toMatch(/bad\.jsonl:2: not valid JSON/);
    expect(failure.problems.map((p: { line: number | null }) => p.line)).toEqual([2, 5]);
    // --all-problems: each on a line of its own, in text.
    const all = await runCli(["score", "--rows", rows, "--all-problems"]);
    expect(all.code).toBe(2);
    expect(all.stdout).toBe("");
    const lines = all.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^tunix-rt score: .*bad\.jsonl:2: not valid JSON \(.+\)$/);
    expect(lines[1]).toMatch(/^tunix-rt score: .*bad\.jsonl:5: not valid JSON \(.+\)$/);
  });

  it("exits 2 when the file cannot be read", async () => {
    const result = await runCli(["score", "--rows", path.join(dir, "absent.jsonl"), "--json"]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      exit_code: 2,
      error: expect.stringMatching(/absent\.jsonl/),
    });
    expect(result.stderr).toMatch(/absent\.jsonl: cannot read: no such file or directory\n$/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });
});

describe("tunix-rt score usage", () => {
  it("exits 2 with a pointer to --help for bad flag combinations", async () => {
    const cases = [
      [],
      ["--rows", "x", "--evalset", "y"],
      ["--predictions", "x"],
      ["--evalset", "y"],
      ["--rows"],
      ["--rows", "x", "--bogus"],
    ];
    // Concurrently: each is a separate process start.
    const results = await Promise.all(cases.map((args) => runCli(["score", ...args])));
    results.forEach((result, i) => {
      const label = JSON.stringify(cases[i]);
      expect(result.code, label).toBe(2);
      expect(result.stdout, label).toBe("");
      expect(result.stderr, label).toMatch(/^tunix-rt score: .+\(see tunix-rt score --help\)\n$/);
    });
  });

  it("documents the flags and exit codes in --help", async () => {
    const result = await runCli(["score", "--help"]);
    expect(result.code).toBe(0);
    for (const word of [
      "--rows",
      "--predictions",
      "--evalset",
      "--json",
      "Exit codes",
      "  0 ",
      "  1 ",
      "  2 ",
    ]) {
      expect(result.stdout).toContain(word);
    }
  });
});

describe("tunix-rt score --predictions --evalset", () => {
  const seedEvalset = path.join(seedData, "eval_v1.jsonl");
  const haveSeed = existsSync(seedEvalset);
  if (!haveSeed)
    console.warn(`score-cli.test.ts: ${seedEvalset} not found; skipping the seed-data grading test`);

  it.skipIf(!haveSeed)("grades predictions made from the seed evalset", async () => {
    const items = (await readFile(seedEvalset, "utf8"))
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { id: string; expected_answer: string });
    expect(items.length).toBeGreaterThan(10);
    // Every third item wrong, the last two missing, one prediction for an unknown id; right
    // answers in tags with other case and spaces, some bare.
    const predictions = items.slice(0, -2).map((item, i) => ({
      id: item.id,
      prediction:
        i % 3 === 2
          ? "<answer>certainly not this</answer>"
          : i % 2 === 0
            ? `<reasoning>thinking about ${item.id}</reasoning><answer>  ${item.expected_answer.toUpperCase()}\n</answer>`
            : ` ${item.expected_answer} `,
    }));
    predictions.push({ id: "not-in-evalset", prediction: "x" });
    const correct = items.slice(0, -2).filter((_item, i) => i % 3 !== 2).length;
    const predictionsFile = await file("predictions.jsonl", jsonl(predictions));
    const result = await runCli([
      "score",
      "--predictions",
      predictionsFile,
      "--evalset",
      seedEvalset,
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(JSON_LINE);
    expect(JSON.parse(result.stdout)).toEqual({
      primary_score: correct / items.length,
      rows: items.length,
      counted: items.length,
    });
    const [last, beforeLast] = [items.at(-1)?.id, items.at(-2)?.id];
    expect(result.stderr).toContain(
      `2 evalset items have no prediction in ${predictionsFile}, graded 0: "${beforeLast}", "${last}"`,
    );
    expect(result.stderr).toContain("1 prediction has an id not in");
    expect(result.stderr).toContain('"not-in-evalset"');
  });

  it("exits 1 on malformed lines and duplicated ids, with line numbers on stderr and nothing on stdout", async () => {
    const evalset = await file(
      "eval.jsonl",
      jsonl([
        { id: "eval-001", prompt: "1+1?", expected_answer: "2" },
        { id: "eval-002", prompt: "2+2?", expected_answer: "4" },
      ]),
    );
    const predictions = await file(
      "faulty.jsonl",
      `${jsonl([
        { id: "eval-001", prediction: "2" },
        { id: "eval-002", prediction: "4" },
      ])}{"id": "eval-001", "prediction": "3"}\n{"id": 1.5, "prediction": "x"}\nnope\n`,
    );
    const result = await runCli(["score", "--predictions", predictions, "--evalset", evalset, "--json"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^tunix-rt score: 2 malformed lines in .*faulty\.jsonl \(first at line 4: id: got 1\.5; expected a string/,
    );
    expect(lines[1]).toMatch(
      /^tunix-rt score: duplicated id "eval-001" in .*faulty\.jsonl at lines 1 and 3$/,
    );
  });

  it("exits 1 when no prediction id, or less than half of them, matches an evalset item, saying so in one line", async () => {
    const evalset = await file(
      "ids-eval.jsonl",
      jsonl([
        { id: "eval-001", prompt: "1+1?", expected_answer: "2" },
        { id: "eval-002", prompt: "2+2?", expected_answer: "4" },
      ]),
    );
    // Another evalset's predictions: a 0.0 here would be a wrong answer, not a score.
    const other = await file(
      "other-ids.jsonl",
      jsonl([
        { id: "1", prediction: "2" },
        { id: "2", prediction: "4" },
      ]),
    );
    const result = await runCli(["score", "--predictions", other, "--evalset", evalset, "--json"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `tunix-rt score: 2 of 2 prediction ids in ${other} match no item of ${evalset} (first: "1"; its ids look like "eval-001"): predictions for another evalset, or ids in another form?\n`,
    );
    // One unknown id beside two known ones is still reported and ignored.
    const few = await file(
      "few-extra.jsonl",
      jsonl([
        { id: "eval-001", prediction: "2" },
        { id: "eval-002", prediction: "5" },
        { id: "eval-999", prediction: "x" },
      ]),
    );
    const ok = await runCli(["score", "--predictions", few, "--evalset", evalset, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ primary_score: 0.5, rows: 2, counted: 2 });
    expect(ok.stderr).toContain("1 prediction has an id not in");
  });

  it("exits 2 on an invalid evalset, and on an unreadable predictions file", async () => {
    const evalset = await file("bad-eval.jsonl", jsonl([{ id: "a", prompt: "p" }]));
    const predictions = await file("p.jsonl", jsonl([{ id: "a", prediction: "x" }]));
    const invalid = await runCli(["score", "--predictions", predictions, "--evalset", evalset]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/bad-eval\.jsonl:1: expected_answer: missing; expected a string\n$/);
    const good = await file("good-eval.jsonl", jsonl([{ id: "a", prompt: "p", expected_answer: "x" }]));
    const missing = await runCli([
      "score",
      "--predictions",
      path.join(dir, "absent-predictions.jsonl"),
      "--evalset",
      good,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/absent-predictions\.jsonl: cannot read: no such file or directory\n$/);
  });

  it("scores a clean run with exit 0 and a sentence", async () => {
    const evalset = await file("e.jsonl", jsonl([{ id: "q", prompt: "p", expected_answer: "Yes" }]));
    const predictions = await file("ok.jsonl", jsonl([{ id: "q", prediction: "<answer>yes</answer>" }]));
    const result = await runCli(["score", "--predictions", predictions, "--evalset", evalset]);
    expect(result).toMatchObject({ code: 0, stderr: "", stdout: "primary_score 1 (1 of 1 row counted)\n" });
  });
});
