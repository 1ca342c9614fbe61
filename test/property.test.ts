/**
 * Property-based tests (fast-check) for the parts that read what users and trainers write:
 * the config parser, grading, primary_score and evidence verification. Whatever the input,
 * they must answer (a value or problems), never throw, and keep their invariants.
 *
 * Runs are reproducible: every property uses one fixed seed (FC_SEED overrides it), and
 * fast-check prints the seed and the shrunk counterexample when a property fails.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ParamSpec, type SweepConfig, validateConfig } from "../src/core/config/config.js";
import { importConfig } from "../src/core/config/import.js";
import { isInSpace } from "../src/core/config/space.js";
import { parsePlannedTrial } from "../src/core/config/trial-input.js";
import { formatProblem, type Problem } from "../src/core/errors.js";
import { type EvidenceFileName, evidenceFileNames } from "../src/core/evidence/schemas.js";
import { verifyEvidence } from "../src/core/evidence/verify.js";
import { type ParsedLine, parseEvalset } from "../src/core/grading/evalset.js";
import { extractAnswer, gradePredictions, judge } from "../src/core/grading/grade.js";
import { primaryScore, rowValue, ScoreAccumulator } from "../src/core/grading/score.js";
import { jsonPathLines, lineOfPath, parseJsonText } from "../src/core/json-text.js";
import { parsePythonJson, pyFloat } from "../src/core/python.js";
import { planTrials } from "../src/core/search/plan.js";
import type { EvalItem } from "../src/core/types.js";
import { evidenceTexts } from "./helpers/evidence-fixture.js";

/** One seed for every property, so a CI failure replays exactly; FC_SEED picks another. */
const seed = Number(process.env.FC_SEED ?? 20_251_127);
const runs = (numRuns: number) => ({ seed, numRuns });

/** Problems are shown one per line: neither the path nor the message may break the line. */
function expectOneLine(problems: readonly Problem[]): void {
  for (const problem of problems) {
    const text = formatProblem(problem);
    expect(typeof problem.message).toBe("string");
    expect(problem.message.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/[\n\r]/);
  }
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

/**
 * Anything a config parser could hand over: YAML (read with intAsBigInt) gives bigints, and
 * sparse arrays stand for odd shapes. No null-prototype objects: neither YAML nor JSON makes
 * them, and `quote` (src/core/errors.ts) cannot print one.
 */
const anyValue = fc.anything({ withBigInt: true, withSparseArray: true, stringUnit: "binary" });

/**
 * Anything a JSONL reader hands over: JSON values, plus NaN and the infinities, which
 * parsePythonJson reads as Python's json module writes them.
 */
const jsonish = fc.anything({
  values: [
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(Number.NaN, Infinity, -Infinity),
    fc.string({ unit: "binary" }),
    fc.constant(null),
  ],
  key: fc.string({ unit: "binary" }),
  maxDepth: 3,
});

/** A JSONL line that did not parse, with the reason as the reader gives it (one source line). */
const parseFailure = fc
  .string({ unit: "binary" })
  .map((text) => text.replace(/[\r\n]/g, " "))
  .chain((text) => {
    try {
      parsePythonJson(text);
      return fc.constant(`Unexpected token in JSON at position 0`);
    } catch (error) {
      return fc.constant((error as Error).message);
    }
  });

/** Finite numbers of every scale, including -0 and subnormals. */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
/** Numbers a user could write, NaN and infinities included. */
const anyNumber = fc.oneof(finite, fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0, 1, 1e308));

/** A valid parameter spec of every type (min <= max, min > 0 for the log types, a multiple of q in range). */
const validSpec: fc.Arbitrary<ParamSpec> = fc.oneof(
  fc
    .tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }))
    .map(([min, width]) => ({ type: "uniform" as const, min, max: min + width })),
  fc
    .tuple(fc.double({ min: 1e-12, max: 1e3, noNaN: true }), fc.double({ min: 1, max: 1e6, noNaN: true }))
    .map(([min, factor]) => ({ type: "loguniform" as const, min, max: min * factor })),
  fc
    .tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }))
    .map(([min, width]) => ({ type: "randint" as const, min, max: min + width })),
  fc
    .uniqueArray(fc.oneof(fc.integer(), fc.string(), fc.boolean(), finite), {
      minLength: 1,
      maxLength: 6,
      selector: (v) => JSON.stringify(v),
    })
    .map((values) => ({ type: "choice" as const, values })),
  fc
    .tuple(
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
    )
    .map(([k, width, q]) => ({ type: "quniform" as const, min: k * q, max: (k + width) * q, q })),
  fc
    .tuple(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom(0.001, 0.01, 0.1, 0.5, 1, 2, 8),
    )
    .map(([k, width, q]) => ({ type: "qloguniform" as const, min: k * q, max: (k + width) * q, q })),
);

const paramName = fc
  .stringMatching(/^[a-z][a-z0-9_]{0,11}$/)
  .filter((name) => !["trial_id", "output_dir", "seed", "budget"].includes(name));

/** A valid config document (as YAML would give it, without bigints). */
const validConfig = fc.record(
  {
    search_space: fc.dictionary(paramName, validSpec, { minKeys: 1, maxKeys: 5 }),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    num_samples: fc.integer({ min: 1, max: 12 }),
    metric_mode: fc.constant("max"),
    run_version: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/),
  },
  { requiredKeys: ["search_space"] },
);

/** Replaces the value at one random path of a document with anything (a near-valid config). */
function mutateAt(doc: unknown, path: readonly number[], replacement: unknown, depth = 0): unknown {
  if (depth >= path.length || doc === null || typeof doc !== "object") return replacement;
  const keys = Object.keys(doc);
  if (keys.length === 0) return replacement;
  const key = keys[(path[depth] ?? 0) % keys.length] as string;
  const copy: Record<string, unknown> = Array.isArray(doc) ? ([...doc] as never) : { ...doc };
  copy[key] = mutateAt((doc as Record<string, unknown>)[key], path, replacement, depth + 1);
  return copy;
}

const nearValidConfig = fc
  .tuple(
    validConfig,
    fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    fc.oneof(
      anyValue,
      anyNumber,
      fc.constantFrom("", "a\nb", "{x}", "../x", "normal", -1, 0, 2 ** 53, null, [], {}),
    ),
  )
  .map(([config, path, replacement]) => mutateAt(config, path, replacement));

/** W&B-like documents: the keys W&B uses, with values valid or not. */
const wandbDoc = fc.record(
  {
    method: fc.oneof(fc.constantFrom("random", "grid", "bayes", "hyperband"), anyValue),
    metric: fc.oneof(
      fc.record(
        { name: fc.string(), goal: fc.oneof(fc.constantFrom("maximize", "minimize", "up"), anyValue) },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
    parameters: fc.oneof(
      fc.dictionary(
        fc.string(),
        fc.oneof(
          fc.record(
            {
              distribution: fc.oneof(
                fc.constantFrom(
                  "categorical",
                  "constant",
                  "uniform",
                  "int_uniform",
                  "log_uniform",
                  "log_uniform_values",
                  "q_uniform",
                  "q_log_uniform",
                  "q_log_uniform_values",
                  "normal",
                ),
                anyValue,
              ),
              min: fc.oneof(anyNumber, fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), anyValue),
              max: fc.oneof(anyNumber, fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), anyValue),
              q: fc.oneof(anyNumber, anyValue),
              values: fc.oneof(fc.array(fc.oneof(fc.integer(), fc.string(), anyValue)), anyValue),
              value: anyValue,
              parameters: anyValue,
            },
            { requiredKeys: [] },
          ),
          anyValue,
        ),
        { maxKeys: 4 },
      ),
      anyValue,
    ),
    run_cap: fc.oneof(fc.bigInt({ min: -5n, max: 10n ** 30n }), anyValue),
    program: fc.string(),
  },
  { requiredKeys: ["parameters", "method"] },
);

// ---------------------------------------------------------------------------------------
// Config parser
// ---------------------------------------------------------------------------------------

/** importConfig then validateConfig, as loadConfig runs them; every problem checked for one line. */
function parseConfig(doc: unknown, intsAsBigInt = false) {
  const imported = importConfig(doc, "sweep.yaml", { intsAsBigInt });
  expectOneLine(imported.problems);
  for (const note of imported.notes) expect(note).not.toMatch(/[\n\r]/);
  const result = validateConfig(imported.raw, "sweep.yaml", { trainer: true, evalset: true });
  if (!result.ok) {
    expect(result.problems.length).toBeGreaterThan(0);
    expectOneLine(result.problems);
  }
  return result;
}

describe("config parser", () => {
  it("never throws on arbitrary values, and its problems are one line each", () => {
    fc.assert(
      fc.property(anyValue, fc.boolean(), (doc, big) => {
        parseConfig(doc, big);
      }),
      runs(500),
    );
  });

  it("never throws on arbitrary JSON documents", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (doc) => {
        parseConfig(doc);
      }),
      runs(300),
    );
  });

  it("answers near-valid configs (one value replaced anywhere) with ok or one-line problems", () => {
    fc.assert(
      fc.property(nearValidConfig, (doc) => {
        parseConfig(doc);
        parseConfig(doc, true);
      }),
      runs(500),
    );
  });

  it("answers W&B-like documents, bigints included, with ok or one-line problems", () => {
    fc.assert(
      fc.property(wandbDoc, (doc) => {
        parseConfig(doc, true);
      }),
      runs(400),
    );
  });

  it("answers M34 job documents (search_space_json of any shape) with ok or one-line problems", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          validConfig.map(({ search_space }) => search_space as unknown),
          anyValue,
          nearValidConfig.map((c) => (c as { search_space?: unknown })?.search_space),
        ),
        fc.oneof(fc.constant(undefined), fc.string(), anyValue),
        (space, status) => {
          parseConfig({ id: "job-1", status, search_space_json: space });
        },
      ),
      runs(300),
    );
  });

  it("accepts valid configs, and every planned trial lies inside the search space", () => {
    fc.assert(
      fc.property(validConfig, fc.constantFrom("random", "grid", "auto"), (doc, sampler) => {
        const result = validateConfig(doc, "sweep.yaml");
        if (!result.ok)
          throw new Error(`refused a valid config: ${formatProblem(result.problems[0] as Problem)}`);
        const config: SweepConfig = result.value;
        expectPlanInSpace(config, sampler as "random" | "grid" | "auto", Math.min(config.num_samples, 8));
      }),
      runs(200),
    );
  });
});

/** Parameter specs with any numbers: many are refused, and those accepted must be plannable. */
const wildSpec = fc.oneof(
  fc.record({
    type: fc.constantFrom("uniform", "loguniform", "randint", "quniform", "qloguniform"),
    min: fc.oneof(finite, fc.double({ min: -10, max: 10, noNaN: true }), fc.constantFrom(1e-12, 0, 1e-300)),
    max: fc.oneof(finite, fc.double({ min: -10, max: 10, noNaN: true }), fc.integer({ min: -5, max: 1000 })),
    q: fc.oneof(
      fc.double({ min: 1e-6, max: 100, noNaN: true }),
      fc.constantFrom(0.001, 0.1, 0.3, 1, 1e-10, 1e10),
    ),
  }),
  fc.record({
    type: fc.constantFrom("uniform", "loguniform", "randint"),
    min: fc.integer({ min: -1000, max: 1000 }),
    max: fc.integer({ min: -1000, max: 1000 }),
  }),
);

/** The params of a plan, each checked against its spec. */
function expectPlanInSpace(config: SweepConfig, sampler: "random" | "grid" | "auto", count: number): void {
  const plan = planTrials({ config, sweepId: "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", sampler, count });
  expect(plan.trials.length).toBeLessThanOrEqual(count);
  for (const trial of plan.trials) {
    expect(Object.keys(trial.params)).toEqual(Object.keys(config.search_space));
    for (const [name, spec] of Object.entries(config.search_space)) {
      if (!isInSpace(spec, trial.params[name])) {
        throw new Error(`${name}: ${JSON.stringify(trial.params[name])} outside ${JSON.stringify(spec)}`);
      }
    }
  }
}

describe("config parser: what validates can be planned", () => {
  it("plans every accepted config (specs with any numbers) inside its search space", () => {
    fc.assert(
      fc.property(
        fc.dictionary(paramName, wildSpec, { minKeys: 1, maxKeys: 3 }),
        fc.constantFrom("random", "grid", "auto"),
        (space, sampler) => {
          const result = validateConfig({ search_space: space }, "sweep.yaml");
          if (!result.ok) {
            expectOneLine(result.problems);
            return;
          }
          expectPlanInSpace(result.value, sampler as "random" | "grid" | "auto", 6);
        },
      ),
      runs(500),
    );
  });
});

// ---------------------------------------------------------------------------------------
// Grading
// ---------------------------------------------------------------------------------------

const evalItems: fc.Arbitrary<EvalItem[]> = fc
  .uniqueArray(
    fc.record({
      id: fc.oneof(fc.string({ minLength: 1 }), fc.nat().map(String)),
      prompt: fc.string(),
      expected_answer: fc.oneof(fc.string(), fc.constantFrom("42", " Yes ", "ß", "İ", "")),
    }),
    { minLength: 1, maxLength: 12, selector: (item) => item.id },
  )
  .map((items) => items as EvalItem[]);

/** Lines a trainer could write: sound predictions, near misses, garbage and parse failures. */
function predictionLines(items: readonly EvalItem[]): fc.Arbitrary<ParsedLine[]> {
  const ids = items.map((item) => item.id);
  const id = fc.oneof(fc.constantFrom(...ids), fc.string(), fc.integer(), jsonish);
  const prediction = fc.oneof(
    fc.string(),
    fc.constantFrom(...items.map((item) => `<answer>${item.expected_answer}</answer>`)),
    fc.string().map((s) => `<reasoning>${s}</reasoning><answer>${s}</answer>`),
    jsonish,
  );
  const value = fc.oneof(
    fc.record({ id, prediction }),
    fc.record({ id, prediction, extra: jsonish }, { requiredKeys: [] }),
    jsonish,
  );
  const entry: fc.Arbitrary<Omit<ParsedLine, "line">> = fc.oneof(
    value.map((v) => ({ ok: true as const, value: v })),
    parseFailure.map((error) => ({ ok: false as const, error })),
  );
  return fc
    .array(entry, { maxLength: 30 })
    .map((entries) => entries.map((e, i) => ({ ...e, line: i + 1 }) as ParsedLine));
}

describe("grading", () => {
  it("never throws; one row per evalset item, each 0 or 1, score 0 or 100", () => {
    fc.assert(
      fc.property(
        evalItems.chain((items) => fc.tuple(fc.constant(items), predictionLines(items))),
        ([items, lines]) => {
          const result = gradePredictions(items, lines, "predictions.jsonl");
          expect(result.rows.length).toBe(items.length);
          result.rows.forEach((row, i) => {
            expect(row.id).toBe(items[i]?.id);
            expect([0, 1]).toContain(row.metrics.answer_correctness);
            expect(row.score).toBe(row.metrics.answer_correctness * 100);
          });
          expectOneLine(result.faults);
          for (const line of result.summary) expect(line).not.toMatch(/[\n\r]/);
          // An item graded 1 had a prediction; a missing one is graded 0.
          for (const id of result.missing) {
            expect(result.rows.find((r) => r.id === id)?.metrics.answer_correctness).toBe(0);
          }
          const score = primaryScore(result.rows);
          expect(score).not.toBeNull();
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(1);
        },
      ),
      runs(250),
    );
  });

  it("judges a prediction that wraps the expected answer in <answer> tags as correct", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (reasoning, answer) => {
        fc.pre(!/<\/?answer>/i.test(answer) && !/<answer>/i.test(reasoning));
        expect(judge(`<reasoning>${reasoning}</reasoning><answer> ${answer} </answer>`, answer)).toBe(1);
        expect(extractAnswer(`<answer>${answer}</answer>`)).toBe(answer);
      }),
      runs(300),
    );
  });

  it("the evalset parser never throws on arbitrary lines and reports one-line problems", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            jsonish.map((value) => ({ ok: true as const, value })),
            fc
              .record({ id: jsonish, prompt: jsonish, expected_answer: jsonish }, { requiredKeys: [] })
              .map((value) => ({ ok: true as const, value })),
            parseFailure.map((error) => ({ ok: false as const, error })),
          ),
          { maxLength: 20 },
        ),
        (entries) => {
          const result = parseEvalset(
            entries.map((e, i) => ({ ...e, line: i + 1 }) as ParsedLine),
            "eval.jsonl",
          );
          if (!result.ok) expectOneLine(result.problems);
          else expect(new Set(result.items.map((item) => item.id)).size).toBe(result.items.length);
        },
      ),
      runs(300),
    );
  });
});

// ---------------------------------------------------------------------------------------
// primary_score
// ---------------------------------------------------------------------------------------

/** Values answer_correctness or score could hold, from sound to absurd. */
const metricValue = fc.oneof(
  anyNumber,
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.integer({ min: -200, max: 200 }),
  fc.boolean(),
  fc.constantFrom(
    "1",
    " 0.5 ",
    "1_0",
    "nan",
    "-inf",
    "Infinity",
    "1e-3",
    "0x1",
    "",
    "１",
    "١",
    "\u00850.25\u00a0",
    "1,5",
  ),
  fc.string(),
  jsonish,
  // Not from a JSON file, but rows can come from code: a bigint is a number to Python.
  fc.bigInt(),
);

const scoreRow = fc.oneof(
  fc.record(
    {
      metrics: fc.oneof(fc.record({ answer_correctness: metricValue }, { requiredKeys: [] }), jsonish),
      score: metricValue,
      id: jsonish,
    },
    { requiredKeys: [] },
  ),
  jsonish,
);

describe("primary_score", () => {
  it("never throws; null iff nothing counted, else the mean of the counted values, within [0, 1]", () => {
    fc.assert(
      fc.property(fc.array(scoreRow, { maxLength: 40 }), (rows) => {
        const accumulator = new ScoreAccumulator();
        for (const row of rows) accumulator.add(row);
        const { primary_score, rows: seen, counted } = accumulator.result;
        expect(seen).toBe(rows.length);
        const values = rows.map(rowValue).filter((v): v is number => v !== undefined);
        expect(counted).toBe(values.length);
        expect(primary_score === null).toBe(counted === 0);
        expect(primaryScore(rows)).toBe(primary_score);
        if (primary_score !== null) {
          expect(Number.isFinite(primary_score)).toBe(true);
          expect(primary_score).toBeGreaterThanOrEqual(0);
          expect(primary_score).toBeLessThanOrEqual(1);
          expect(primary_score).toBeGreaterThanOrEqual(Math.min(...values));
          expect(primary_score).toBeLessThanOrEqual(Math.max(...values));
        }
        for (const v of values) expect(v >= 0 && v <= 1).toBe(true);
      }),
      runs(500),
    );
  });

  it("stays within [0, 1] over many values near the ends", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant(1),
            fc.constant(0),
            fc.double({ min: 0.999999, max: 1, noNaN: true }),
            fc.double({ min: 0, max: 1e-300, noNaN: true }),
          ),
          { minLength: 1, maxLength: 300 },
        ),
        (values) => {
          const score = primaryScore(values.map((v) => ({ metrics: { answer_correctness: v } })));
          expect(score).not.toBeNull();
          expect(score as number).toBeGreaterThanOrEqual(0);
          expect(score as number).toBeLessThanOrEqual(1);
        },
      ),
      runs(300),
    );
  });

  it("pyFloat and parsePythonJson never throw anything but SyntaxError", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const value = pyFloat(text);
        expect(value === undefined || typeof value === "number").toBe(true);
        try {
          parsePythonJson(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SyntaxError);
        }
      }),
      runs(500),
    );
  });
});

// ---------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------

const validFiles = evidenceTexts({ runVersion: "rt_prop_v1" });
const verifyValid = (files: Partial<Record<EvidenceFileName, string>>) =>
  verifyEvidence({ runVersion: "rt_prop_v1", files });

/** Edits to a text: cut it, delete a span, insert a string, or replace a span. */
const textEdit = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.nat({ max: 40 }) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.string({ unit: "binary" }),
      fc.constantFrom("\n", "null", '"', "}", "NaN", "{", "\uFEFF"),
    ),
  }),
);

function applyEdit(text: string, edit: TextEdit): string {
  const at = text.length === 0 ? 0 : edit.at % (text.length + 1);
  switch (edit.kind) {
    case "truncate":
      return text.slice(0, at);
    case "delete":
      return text.slice(0, at) + text.slice(at + edit.length);
    case "insert":
      return text.slice(0, at) + edit.text + text.slice(at);
  }
}
type TextEdit =
  | { kind: "truncate"; at: number }
  | { kind: "delete"; at: number; length: number }
  | { kind: "insert"; at: number; text: string };

const fileName = fc.constantFrom(...evidenceFileNames);

describe("verify", () => {
  it("finds the fixture valid", () => {
    expect(verifyValid(validFiles)).toEqual([]);
  });

  it("never throws on arbitrary file contents, missing files included, and reports one-line problems", () => {
    const content = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.array(fc.jsonValue(), { maxLength: 5 }).map((vs) => vs.map((v) => JSON.stringify(v)).join("\n")),
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            "run_manifest.json": content,
            "eval_summary.json": content,
            "best_params.json": content,
            "kaggle_output_log.txt": content,
            "eval_rows.jsonl": content,
            "trials.jsonl": content,
          },
          { requiredKeys: [] },
        ),
        (files) => {
          const problems = verifyValid(files);
          expect(problems.length).toBeGreaterThan(0);
          expectOneLine(problems);
        },
      ),
      runs(300),
    );
  });

  it("never throws when valid files are edited at random, and reports one-line problems", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fileName, textEdit), { minLength: 1, maxLength: 4 }), (edits) => {
        const files: Record<string, string> = { ...validFiles };
        for (const [name, edit] of edits) files[name] = applyEdit(files[name] ?? "", edit as TextEdit);
        expectOneLine(verifyValid(files));
      }),
      runs(400),
    );
  });

  it("catches any change of primary_score in one file", () => {
    const other = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => Math.abs(v - 0.75) > 1e-9),
      fc.double({ min: 0, max: 1, noNaN: true }).filter((v) => Math.abs(v - 0.75) > 1e-9),
      fc.constantFrom(null, "0.75", true, [0.75], { value: 0.75 }, 0, 1, 0.7500001),
    );
    const where = fc.constantFrom(
      "eval_summary.json primary_score",
      "eval_summary.json metrics.answer_correctness",
      "best_params.json primary_score",
      "trials.jsonl t0001",
    );
    fc.assert(
      fc.property(where, other, (at, value) => {
        const files: Record<string, string> = { ...validFiles };
        if (at === "trials.jsonl t0001") {
          files["trials.jsonl"] = (files["trials.jsonl"] as string)
            .split("\n")
            .map((line) => {
              if (!line.includes('"t0001"')) return line;
              return JSON.stringify({ ...JSON.parse(line), primary_score: value });
            })
            .join("\n");
        } else {
          const [file, path] = at.split(" ") as [string, string];
          const doc = JSON.parse(files[file] as string);
          if (path === "primary_score") doc.primary_score = value;
          else doc.metrics.answer_correctness = value;
          files[file] = JSON.stringify(doc, null, 2);
        }
        const problems = verifyValid(files);
        expect(problems.length).toBeGreaterThan(0);
        expectOneLine(problems);
      }),
      runs(300),
    );
  });

  it("catches a changed eval row (its correctness flipped) as a primary_score mismatch", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), (index) => {
        const lines = (validFiles["eval_rows.jsonl"] as string).split("\n");
        const row = JSON.parse(lines[index] as string);
        const flipped = 1 - row.metrics.answer_correctness;
        lines[index] = JSON.stringify({
          ...row,
          metrics: { answer_correctness: flipped },
          score: flipped * 100,
        });
        const problems = verifyValid({ ...validFiles, "eval_rows.jsonl": lines.join("\n") });
        expect(problems.some((p) => p.path === "primary_score")).toBe(true);
      }),
      runs(20),
    );
  });

  it("json-text helpers never throw on valid JSON of any shape", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        expect(parseJsonText(text)).toEqual({ ok: true, value: JSON.parse(text) });
        const lines = jsonPathLines(text);
        // "" is the root's path (a key "" at the root shares it), which has no line by design.
        for (const key of lines.keys())
          if (key !== "") expect(lineOfPath(lines, key)).toBeGreaterThanOrEqual(1);
      }),
      runs(300),
    );
  });
});

describe("trial input", () => {
  it("parsePlannedTrial never throws on arbitrary values and reports one-line problems", () => {
    const config = validateConfig(
      {
        search_space: {
          lr: { type: "loguniform", min: 1e-5, max: 1e-3 },
          batch: { type: "choice", values: [1, 2, 4] },
          steps: { type: "randint", min: 1, max: 9 },
        },
      },
      "sweep.yaml",
    );
    if (!config.ok) throw new Error("the test config is invalid");
    const trial = fc.oneof(
      jsonish,
      fc.record(
        {
          sweep_id: fc.oneof(fc.uuid(), jsonish),
          trial_id: fc.oneof(fc.constantFrom("t0000", "../x", ""), jsonish),
          seed: fc.oneof(fc.nat(), jsonish),
          params: fc.oneof(
            fc.record(
              { lr: anyNumber, batch: fc.oneof(fc.constantFrom(1, 2, 4), jsonish), steps: jsonish },
              { requiredKeys: [] },
            ),
            fc.dictionary(fc.string({ unit: "binary" }), jsonish),
            fc.constant(JSON.parse('{"__proto__": {"lr": 1}, "constructor": 1, "toString": 2}')),
            jsonish,
          ),
          budget: jsonish,
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(trial, (value) => {
        const result = parsePlannedTrial(value, config.value, "trial.json");
        if (!result.ok) expectOneLine(result.problems);
      }),
      runs(400),
    );
  });
});
