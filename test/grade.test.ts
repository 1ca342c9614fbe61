import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatProblem, InputError } from "../src/core/errors.js";
import { type ParsedLine, parseEvalset } from "../src/core/grading/evalset.js";
import {
  extractAnswer,
  gradePredictions,
  judge,
  MAX_FAULTS,
  predictionsNote,
} from "../src/core/grading/grade.js";
import type { EvalItem } from "../src/core/types.js";
import { gradePredictionsFile, readEvalset } from "../src/runtime/evalset.js";
import { tempDir } from "./helpers/cli.js";

/** Lines as a reader yields them: JSON text parsed, numbered from 1, blank lines skipped. */
function lines(...texts: string[]): ParsedLine[] {
  const out: ParsedLine[] = [];
  texts.forEach((text, i) => {
    if (text.trim() === "") return;
    try {
      out.push({ line: i + 1, ok: true, value: JSON.parse(text) });
    } catch (error) {
      out.push({ line: i + 1, ok: false, error: (error as Error).message });
    }
  });
  return out;
}

const line = (value: unknown) => JSON.stringify(value);

const ITEMS: EvalItem[] = [
  { id: "eval-001", prompt: "What is 15 + 27?", expected_answer: "42" },
  { id: "eval-002", prompt: "Capital of France?", expected_answer: "Paris" },
  { id: "eval-003", prompt: "Distance?", expected_answer: "120 km" },
];

describe("extractAnswer", () => {
  it("takes the text inside <answer>…</answer>", () => {
    expect(extractAnswer("<reasoning>15+27</reasoning><answer>42</answer>")).toBe("42");
    expect(extractAnswer("<answer>\n multi\nline \n</answer>")).toBe("\n multi\nline \n");
    expect(extractAnswer("<answer></answer>")).toBe("");
  });

  it("matches the tags in any case", () => {
    expect(extractAnswer("<ANSWER>Paris</Answer>")).toBe("Paris");
  });

  it("takes the first complete pair", () => {
    expect(extractAnswer("<answer>1</answer> then <answer>2</answer>")).toBe("1");
  });

  it("pairs the first closing tag with the nearest opening tag before it", () => {
    expect(extractAnswer("<reasoning>wrap it in <answer> tags</reasoning><answer>42</answer>")).toBe("42");
  });

  it("is the whole prediction without a complete pair", () => {
    expect(extractAnswer("42")).toBe("42");
    expect(extractAnswer("<answer>42")).toBe("<answer>42");
    expect(extractAnswer("42</answer>")).toBe("42</answer>");
    expect(extractAnswer("</answer>42<answer>")).toBe("</answer>42<answer>");
    expect(extractAnswer("< answer>42</answer>")).toBe("< answer>42</answer>");
  });
});

describe("judge (M34: strip().lower() exact equality)", () => {
  it("ignores case and surrounding whitespace on both sides", () => {
    expect(judge("<answer>  PARIS \n</answer>", "paris")).toBe(1);
    expect(judge("paris", " Paris ")).toBe(1);
    expect(judge("<answer>\u00a0120 KM\u3000</answer>", "120 km")).toBe(1);
    expect(judge("\x1c42\x85", "42")).toBe(1); // Python's strip() removes these; JS trim() does not
  });

  it("is exact otherwise", () => {
    expect(judge("<answer>120km</answer>", "120 km")).toBe(0);
    expect(judge("<answer>42.0</answer>", "42")).toBe(0);
    expect(judge("The answer is 42", "42")).toBe(0);
    expect(judge("<answer>Paris.</answer>", "Paris")).toBe(0);
    expect(judge("\ufeff42", "42")).toBe(0); // the byte order mark is not whitespace to Python
  });

  it("lowers case the full Unicode way", () => {
    expect(judge("<answer>STRASSE</answer>", "strasse")).toBe(1);
    // Final sigma: Python's lower() and toLowerCase() both end "ΟΔΟΣ" in ς (U+03C2), not σ (U+03C3).
    expect(judge("<answer>\u039f\u0394\u039f\u03a3</answer>", "\u03bf\u03b4\u03bf\u03c3")).toBe(0);
    expect(judge("<answer>\u039f\u0394\u039f\u03a3</answer>", "\u03bf\u03b4\u03bf\u03c2")).toBe(1);
  });
});

describe("gradePredictions", () => {
  it("grades each evalset item in evalset order, with the eval row shape", () => {
    const result = gradePredictions(
      ITEMS,
      lines(
        line({ id: "eval-002", prediction: "<answer>paris</answer>" }),
        line({ id: "eval-001", prediction: "<answer>41</answer>", extra: true }),
        line({ id: "eval-003", prediction: "120 KM" }),
      ),
    );
    expect(result.rows).toEqual([
      {
        id: "eval-001",
        prediction: "<answer>41</answer>",
        expected_answer: "42",
        metrics: { answer_correctness: 0 },
        score: 0,
      },
      {
        id: "eval-002",
        prediction: "<answer>paris</answer>",
        expected_answer: "Paris",
        metrics: { answer_correctness: 1 },
        score: 100,
      },
      {
        id: "eval-003",
        prediction: "120 KM",
        expected_answer: "120 km",
        metrics: { answer_correctness: 1 },
        score: 100,
      },
    ]);
    expect(result).toMatchObject({ missing: [], extra: [], faults: [], summary: [] });
  });

  it("grades a missing prediction 0 (even against an empty expected answer) and lists it", () => {
    const items = [...ITEMS, { id: "eval-004", prompt: "Say nothing", expected_answer: "" }];
    const result = gradePredictions(items, lines(line({ id: "eval-001", prediction: "42" })));
    expect(result.missing).toEqual(["eval-002", "eval-003", "eval-004"]);
    expect(result.rows.map((r) => [r.id, r.prediction, r.score])).toEqual([
      ["eval-001", "42", 100],
      ["eval-002", "", 0],
      ["eval-003", "", 0],
      ["eval-004", "", 0],
    ]);
    expect(result.summary).toEqual([]);
  });

  it("reports predictions for unknown ids and ignores them, while they are fewer than half", () => {
    const result = gradePredictions(
      ITEMS,
      lines(
        line({ id: "zzz", prediction: "42" }),
        line({ id: "eval-001", prediction: "42" }),
        line({ id: "eval-002", prediction: "Paris" }),
      ),
    );
    expect(result.extra).toEqual(["zzz"]);
    expect(result.rows).toHaveLength(3);
    expect(result.summary).toEqual([]);
  });

  it("notes what did not fail the trial: items without a prediction and unknown ids, counted, with the first", () => {
    expect(predictionsNote({ missing: [], extra: [], items: 20 })).toBeUndefined();
    expect(predictionsNote({ missing: ["q7"], extra: ["Q7"], items: 20 })).toBe(
      '1 of 20 evalset items had no prediction, graded 0: "q7"; 1 prediction id not in the evalset, ignored: "Q7"',
    );
    expect(predictionsNote({ missing: ["q1", "q2"], extra: [], items: 3 })).toBe(
      '2 of 3 evalset items had no prediction, graded 0: first "q1"',
    );
    expect(predictionsNote({ missing: [], extra: ["a", "b"], items: 3 })).toBe(
      '2 prediction ids not in the evalset, ignored: first "a"',
    );
  });

  it("fails when exactly half of the prediction ids match no evalset item", () => {
    // Half the evalset graded 0 for want of a prediction: the score would say more of the ids
    // than of the model.
    const result = gradePredictions(
      ITEMS,
      lines(
        line({ id: "zzz", prediction: "42" }),
        line({ id: "eval-001", prediction: "42" }),
        line({ id: "eval-002", prediction: "Paris" }),
        line({ id: "yyy", prediction: "x" }),
      ),
      "predictions.jsonl",
      "evalset.jsonl",
    );
    expect(result.summary).toEqual([
      '2 of 4 prediction ids in predictions.jsonl match no item of evalset.jsonl (first: "zzz"; its ids look like "eval-001"): predictions for another evalset, or ids in another form?',
    ]);
    expect(result.extra).toEqual(["zzz", "yyy"]);
    expect(result.missing).toEqual(["eval-003"]);
  });

  it("fails when no prediction id matches an evalset item, naming the counts, the first id and an evalset id", () => {
    // A trainer that answered another evalset, or wrote its ids in another form.
    const result = gradePredictions(
      ITEMS,
      lines(
        line({ id: "1", prediction: "42" }),
        line({ id: "2", prediction: "Paris" }),
        line({ id: "3", prediction: "120 km" }),
      ),
      "predictions.jsonl",
      "evalset.jsonl",
    );
    expect(result.summary).toEqual([
      '3 of 3 prediction ids in predictions.jsonl match no item of evalset.jsonl (first: "1"; its ids look like "eval-001"): predictions for another evalset, or ids in another form?',
    ]);
    // The counts are still there for the trial record.
    expect(result.extra).toEqual(["1", "2", "3"]);
    expect(result.missing).toEqual(["eval-001", "eval-002", "eval-003"]);
  });

  it("fails when more than half of the prediction ids match no evalset item", () => {
    const result = gradePredictions(
      ITEMS,
      lines(
        line({ id: "eval-001", prediction: "42" }),
        line({ id: "EVAL-002", prediction: "Paris" }),
        line({ id: "EVAL-003", prediction: "120 km" }),
      ),
    );
    expect(result.summary).toEqual([
      '2 of 3 prediction ids in predictions.jsonl match no item of the evalset (first: "EVAL-002"; its ids look like "eval-001"): predictions for another evalset, or ids in another form?',
    ]);
  });

  it("fails on a predictions file with no prediction at all", () => {
    const result = gradePredictions(ITEMS, lines(""), "predictions.jsonl", "evalset.jsonl");
    expect(result.summary).toEqual([
      'predictions.jsonl holds no prediction; expected one {"id", "prediction"} per item of evalset.jsonl (3 items)',
    ]);
  });

  it("accepts whole-number ids as their decimal text", () => {
    const items: EvalItem[] = [{ id: "7", prompt: "p", expected_answer: "x" }];
    const result = gradePredictions(items, lines(line({ id: 7, prediction: "x" })));
    expect(result.rows[0]?.score).toBe(100);
    expect(result.faults).toEqual([]);
  });

  it("fails on a duplicated id, naming every line it is on", () => {
    const result = gradePredictions(
      ITEMS,
      lines(
        line({ id: "eval-001", prediction: "42" }),
        line({ id: "eval-002", prediction: "Paris" }),
        line({ id: "eval-003", prediction: "x" }),
        line({ id: "eval-004", prediction: "x" }),
        "",
        line({ id: "eval-001", prediction: "wrong" }),
        line({ id: "eval-002", prediction: "a" }),
        line({ id: "eval-002", prediction: "b" }),
        line({ id: "eval-004", prediction: "y" }),
      ),
    );
    expect(result.summary).toEqual([
      'duplicated id "eval-001" in predictions.jsonl at lines 1 and 6',
      'duplicated id "eval-002" in predictions.jsonl at lines 2, 7 and 8',
      'duplicated id "eval-004" in predictions.jsonl at lines 4 and 9',
    ]);
    expect(result.faults.map(formatProblem)).toEqual([
      'predictions.jsonl:6: id: duplicated id "eval-001" (first at line 1)',
      'predictions.jsonl:7: id: duplicated id "eval-002" (first at line 2)',
      'predictions.jsonl:8: id: duplicated id "eval-002" (first at line 2)',
      'predictions.jsonl:9: id: duplicated id "eval-004" (first at line 4)',
    ]);
    // The first prediction is the one graded.
    expect(result.rows[0]?.score).toBe(100);
  });

  it("counts many duplicated ids without naming them all", () => {
    const texts: string[] = [];
    for (let i = 0; i < 5; i++)
      texts.push(line({ id: `d${i}`, prediction: "" }), line({ id: `d${i}`, prediction: "" }));
    const result = gradePredictions(ITEMS, lines(...texts));
    // Three named, the rest counted; and (the ids d0..d4 being no evalset's) the unmatched ids.
    expect(result.summary).toHaveLength(5);
    expect(result.summary[3]).toBe("and 2 more duplicated ids in predictions.jsonl");
    expect(result.summary[4]).toMatch(/^5 of 5 prediction ids in predictions\.jsonl match no item/);
  });

  it("fails on malformed lines, with their line numbers and the first reason", () => {
    const result = gradePredictions(
      ITEMS,
      lines(
        line({ id: "eval-001", prediction: "42" }),
        "",
        "{not json",
        "[1, 2]",
        line({ id: 1.5, prediction: "x" }),
        line({ prediction: "x" }),
        line({ id: "eval-002", prediction: null }),
        line({ id: "eval-003" }),
        "null",
        line({ id: null, prediction: "x" }),
        line({ id: "eval-003", prediction: 42 }),
      ),
      "trial/predictions.jsonl",
    );
    expect(result.faults.map((f) => [f.line, f.path])).toEqual([
      [3, ""],
      [4, ""],
      [5, "id"],
      [6, "id"],
      [7, "prediction"],
      [8, "prediction"],
      [9, ""],
      [10, "id"],
      [11, "prediction"],
    ]);
    expect(formatProblem(result.faults[2] as never)).toBe(
      "trial/predictions.jsonl:5: id: got 1.5; expected a string (or a whole number)",
    );
    expect(formatProblem(result.faults[4] as never)).toBe(
      "trial/predictions.jsonl:7: prediction: got null; expected a string",
    );
    expect(formatProblem(result.faults[5] as never)).toBe(
      "trial/predictions.jsonl:8: prediction: missing; expected a string",
    );
    expect(result.summary).toHaveLength(1);
    expect(result.summary[0]).toMatch(
      /^9 malformed lines in trial\/predictions\.jsonl \(first at line 3: not valid JSON \(.+\)\)$/,
    );
  });

  it("words a single malformed line as one", () => {
    const result = gradePredictions(ITEMS, lines("5"));
    expect(result.summary).toEqual([
      '1 malformed line in predictions.jsonl (line 1: got 5; expected an object {"id", "prediction"})',
    ]);
  });

  it("keeps at most MAX_FAULTS faults but counts them all", () => {
    const result = gradePredictions(ITEMS, lines(...Array.from({ length: MAX_FAULTS + 20 }, () => "x")));
    expect(result.faults).toHaveLength(MAX_FAULTS);
    expect(result.summary[0]).toMatch(new RegExp(`^${MAX_FAULTS + 20} malformed lines`));
  });
});

describe("parseEvalset", () => {
  it("returns the items, keeping optional fields and dropping unknown ones", () => {
    const result = parseEvalset(
      lines(
        line({ id: "a", prompt: "p", expected_answer: "x", category: "c", difficulty: "easy", meta: 1 }),
        line({ id: "b", prompt: "q", expected_answer: 42, category: null }),
      ),
      "eval.jsonl",
    );
    expect(result).toEqual({
      ok: true,
      items: [
        { id: "a", prompt: "p", expected_answer: "x", category: "c", difficulty: "easy" },
        { id: "b", prompt: "q", expected_answer: "42" },
      ],
    });
  });

  it("reports every problem as file:line: path: message", () => {
    const result = parseEvalset(
      lines(
        line({ id: "a", prompt: "p", expected_answer: "x" }),
        "{oops",
        "[]",
        line({ id: "", prompt: "p", expected_answer: "x" }),
        line({ id: "a", prompt: "p", expected_answer: "x" }),
        line({ id: "c", expected_answer: "x" }),
        line({ id: "d", prompt: "p", expected_answer: null }),
        line({ id: "e", prompt: "p", expected_answer: "x", difficulty: 3 }),
        line({ id: 5, prompt: "p", expected_answer: "x" }),
      ),
      "eval.jsonl",
    );
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems.map(formatProblem);
    expect(problems[0]).toMatch(/^eval\.jsonl:2: not valid JSON \(.+\)$/);
    expect(problems.slice(1)).toEqual([
      'eval.jsonl:3: got []; expected an object {"id", "prompt", "expected_answer"}',
      'eval.jsonl:4: id: got ""; expected a non-empty string',
      'eval.jsonl:5: id: duplicated id "a" (first at line 1)',
      "eval.jsonl:6: prompt: missing; expected a string",
      "eval.jsonl:7: expected_answer: got null; expected a string",
      "eval.jsonl:8: difficulty: got 3; expected a string (or no difficulty)",
      "eval.jsonl:9: id: got 5; expected a non-empty string",
    ]);
  });

  it("rejects an evalset without items", () => {
    const result = parseEvalset(lines("", " "), "eval.jsonl");
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([
      'eval.jsonl: no items; expected an object {"id", "prompt", "expected_answer"} per line',
    ]);
  });
});

describe("readEvalset and gradePredictionsFile (files)", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await tempDir("tunix-rt-grade-");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads an evalset and grades a predictions file, with real line numbers", async () => {
    const evalset = path.join(dir, "eval.jsonl");
    await writeFile(evalset, `${ITEMS.map(line).join("\n")}\n`);
    const predictions = path.join(dir, "predictions.jsonl");
    await writeFile(
      predictions,
      `\n${line({ id: "eval-001", prediction: "<answer>42</answer>" })}\r\n\n{bad\n`,
    );
    const items = await readEvalset(evalset);
    expect(items).toEqual(ITEMS);
    const result = await gradePredictionsFile(items, predictions);
    expect(result.rows.map((r) => r.score)).toEqual([100, 0, 0]);
    expect(result.faults.map((f) => [f.file, f.line])).toEqual([[predictions, 4]]);
  });

  it("throws InputError with the first problem and a count", async () => {
    const evalset = path.join(dir, "eval.jsonl");
    await writeFile(evalset, "{}\n{}\n");
    const error = await readEvalset(evalset).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      `${evalset}:1: id: missing; expected a non-empty string (and 5 more problems)`,
    );
    await expect(readEvalset(path.join(dir, "absent.jsonl"))).rejects.toThrow(/cannot read.*no such file/);
  });
});
