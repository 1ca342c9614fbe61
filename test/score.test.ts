import { execFileSync, spawnSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coerceFloat, primaryScore, rowValue, ScoreAccumulator } from "../src/core/grading/score.js";
import { parsePythonJson, pyFloat, pyStrip } from "../src/core/python.js";
import { tempDir } from "./helpers/cli.js";

describe("coerceFloat (Python float())", () => {
  it.each([
    [0.25, 0.25],
    [true, 1],
    [false, 0],
    ["0.5", 0.5],
    [" 0.5 ", 0.5],
    ["\t\n0.5\r\n", 0.5],
    ["\u00a00.25\u3000", 0.25], // non-ASCII whitespace is stripped too
    ["1_0", 10],
    ["1_000.000_1", 1000.0001],
    ["1e1_0", 1e10],
    ["1e-1", 0.1],
    ["1E5", 1e5],
    [".5", 0.5],
    ["5.", 5],
    ["+.5e1", 5],
    ["00.5", 0.5],
    ["-0", -0],
    ["\u0661\u0662", 12], // Arabic-Indic digits
    ["\uff11.\uff15", 1.5], // fullwidth digits
    ["inf", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    ["+iNf", Number.POSITIVE_INFINITY],
    ["1e400", Number.POSITIVE_INFINITY],
  ])("reads %j as %s", (input, expected) => {
    expect(Object.is(coerceFloat(input), expected)).toBe(true);
  });

  it("reads nan in any case and sign as NaN, and keeps number NaN and infinities as values", () => {
    for (const text of ["nan", "NaN", "-nan", "+NAN", " nan "]) expect(coerceFloat(text)).toBeNaN();
    expect(coerceFloat(Number.NaN)).toBeNaN();
    expect(coerceFloat(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    null,
    undefined,
    {},
    [],
    [1],
    { value: 1 },
    "",
    "   ",
    "abc",
    "0x10",
    "0b1",
    "0o7",
    "1,5",
    "1 2",
    "- 1",
    "+-1",
    "1__0",
    "_1",
    "1_",
    "1_.5",
    "1._5",
    "1_e5",
    "1e",
    ".",
    ".e5",
    "e5",
    "infinit",
    "infinityy",
    "nan(1)",
    "Infinity!",
    "\x1c0.5", // ASCII but not C whitespace: Python's float() does not strip it
    "0.5\ufeff", // the byte order mark is not whitespace to Python
  ])("rejects %j", (input) => {
    expect(coerceFloat(input)).toBeUndefined();
  });
});

describe("rowValue (each clause of DESIGN.md's primary_score)", () => {
  it("uses answer_correctness when it coerces to a number", () => {
    expect(rowValue({ metrics: { answer_correctness: 1 }, score: 0 })).toBe(1);
    expect(rowValue({ metrics: { answer_correctness: "0.75" }, score: 0 })).toBe(0.75);
    expect(rowValue({ metrics: { answer_correctness: true } })).toBe(1);
  });

  it("counts answer_correctness 0 as a 0 (no fallback to score)", () => {
    expect(rowValue({ metrics: { answer_correctness: 0 }, score: 100 })).toBe(0);
    expect(rowValue({ metrics: { answer_correctness: false }, score: 100 })).toBe(0);
  });

  it("drops an out-of-range answer_correctness without falling back to score", () => {
    expect(rowValue({ metrics: { answer_correctness: 1.5 }, score: 100 })).toBeUndefined();
    expect(rowValue({ metrics: { answer_correctness: -0.1 }, score: 50 })).toBeUndefined();
    expect(rowValue({ metrics: { answer_correctness: "2" }, score: 50 })).toBeUndefined();
    expect(rowValue({ metrics: { answer_correctness: "nan" }, score: 50 })).toBeUndefined();
    expect(rowValue({ metrics: { answer_correctness: Number.NaN }, score: 50 })).toBeUndefined();
    expect(rowValue({ metrics: { answer_correctness: "inf" }, score: 50 })).toBeUndefined();
  });

  it("falls back to score when answer_correctness gives nothing", () => {
    expect(rowValue({ score: 85 })).toBe(0.85); // absent metrics
    expect(rowValue({ metrics: {}, score: 85 })).toBe(0.85); // absent key
    expect(rowValue({ metrics: { answer_correctness: null }, score: 85 })).toBe(0.85); // null
    expect(rowValue({ metrics: { answer_correctness: "abc" }, score: 85 })).toBe(0.85); // not a number
    expect(rowValue({ metrics: { answer_correctness: [1] }, score: 85 })).toBe(0.85); // not coercible
    expect(rowValue({ metrics: { answer_correctness: {} }, score: 85 })).toBe(0.85);
    expect(rowValue({ metrics: [{ answer_correctness: 1 }], score: 85 })).toBe(0.85); // metrics an array
    expect(rowValue({ metrics: null, score: 85 })).toBe(0.85);
    expect(rowValue({ metrics: "1", score: 85 })).toBe(0.85); // metrics a string
  });

  it("divides score by 100 only when above 1.0", () => {
    expect(rowValue({ score: 1.0 })).toBe(1);
    expect(rowValue({ score: 1 })).toBe(1);
    expect(rowValue({ score: 0.5 })).toBe(0.5);
    expect(rowValue({ score: 100 })).toBe(1);
    expect(rowValue({ score: 1.5 })).toBe(0.015);
    expect(rowValue({ score: "85" })).toBe(0.85);
    expect(rowValue({ score: " 1e2 " })).toBe(1);
    expect(rowValue({ score: true })).toBe(1);
    expect(rowValue({ score: 0 })).toBe(0);
  });

  it("drops a score outside [0, 1] after the division", () => {
    expect(rowValue({ score: 150 })).toBeUndefined(); // 1.5
    expect(rowValue({ score: -5 })).toBeUndefined();
    expect(rowValue({ score: "nan" })).toBeUndefined();
    expect(rowValue({ score: "inf" })).toBeUndefined(); // inf / 100 is still inf
    expect(rowValue({ score: "-inf" })).toBeUndefined();
  });

  it("counts nothing for rows without a usable value, or that are not objects", () => {
    expect(rowValue({})).toBeUndefined();
    expect(rowValue({ score: null })).toBeUndefined();
    expect(rowValue({ score: "x" })).toBeUndefined();
    expect(rowValue({ score: [50] })).toBeUndefined();
    for (const row of [null, 5, "0.5", true, [], [{ score: 50 }]]) expect(rowValue(row)).toBeUndefined();
  });

  it("reads only own properties", () => {
    const metrics = Object.create({ answer_correctness: 1 }) as object;
    expect(rowValue({ metrics, score: 50 })).toBe(0.5);
  });

  it("keeps -0 as a counted value", () => {
    expect(Object.is(rowValue({ metrics: { answer_correctness: "-0" } }), -0)).toBe(true);
  });
});

describe("ScoreAccumulator and primaryScore", () => {
  it("is the plain mean of counted values", () => {
    const rows = [
      { metrics: { answer_correctness: 1 } },
      { metrics: { answer_correctness: 0 } },
      { score: 50 },
      { metrics: { answer_correctness: 2 }, score: 100 }, // dropped
      "not a row",
    ];
    const accumulator = new ScoreAccumulator();
    for (const row of rows) accumulator.add(row);
    expect(accumulator.result).toEqual({ primary_score: 0.5, rows: 5, counted: 3 });
    expect(primaryScore(rows)).toBe(0.5);
  });

  it("is null when no row counts, and when there are no rows", () => {
    expect(primaryScore([{ score: 500 }, {}, null])).toBeNull();
    expect(primaryScore([])).toBeNull();
    expect(new ScoreAccumulator().result).toEqual({ primary_score: null, rows: 0, counted: 0 });
  });

  it("a single -0 scores 0 (as Python's 0 + -0.0)", () => {
    expect(Object.is(primaryScore([{ score: -0 }]), 0)).toBe(true);
  });

  it("sums a million rows without drift (compensated summation)", () => {
    // Summed naively, a million 0.1s give 100000.00000133288 (mean off by 1.3e-12).
    const accumulator = new ScoreAccumulator();
    const row = { metrics: { answer_correctness: 0.1 } };
    for (let i = 0; i < 1_000_000; i++) accumulator.add(row);
    expect(accumulator.result.primary_score).toBe(0.1);
  });

  it("matches an exact sum where small values follow a large one", () => {
    const values = [1, ...Array.from({ length: 1000 }, () => 1e-17)];
    const score = primaryScore(values.map((v) => ({ metrics: { answer_correctness: v } })));
    expect(score).toBe((1 + 1e-14) / 1001);
  });
});

describe("pyStrip and parsePythonJson", () => {
  it("strips what Python's str.strip() strips", () => {
    expect(pyStrip("\x1c\x85\u2003 a b \u3000\n")).toBe("a b");
    expect(pyStrip("\ufeffa")).toBe("\ufeffa");
    expect(pyStrip("")).toBe("");
  });

  it("reads NaN, Infinity and -Infinity outside strings, as Python's json does", () => {
    const value = parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN Infinity"}') as {
      a: number;
      b: number[];
      c: string;
    };
    expect(value.a).toBeNaN();
    expect(value.b).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(value.c).toBe("NaN Infinity");
    expect(parsePythonJson('{"s": "say \\"NaN\\"", "n": NaN}')).toMatchObject({ s: 'say "NaN"' });
  });

  it("rejects what Python's json rejects, with JSON.parse's message", () => {
    for (const text of ["{bad", "-NaN", "+Infinity", "NaNa", "[nan]", "{'a': 1}", "[1,]", "Infinity x"]) {
      expect(() => parsePythonJson(text), text).toThrow(SyntaxError);
    }
    expect(() => parsePythonJson("[NaN, x]")).toThrow(/JSON/);
  });
});

// Cross-checks against real Python: the M34 function as DESIGN.md states it, run by python3.
const python = spawnSync("python3", ["--version"]).status === 0 ? "python3" : undefined;
if (!python) console.warn("score.test.ts: python3 not found; skipping the cross-checks against Python");

const M34_PY = `
import json, sys
def coerce(v):
    try: return float(v)
    except (TypeError, ValueError): return None
def value(row):
    if not isinstance(row, dict): return None  # tunix-rt: a non-object line counts nothing
    v = None
    metrics = row.get("metrics")
    if isinstance(metrics, dict):
        ac = metrics.get("answer_correctness")
        if ac is not None: v = coerce(ac)
    if v is None:
        raw = row.get("score")
        if raw is not None:
            f = coerce(raw)
            if f is not None: v = f / 100.0 if f > 1.0 else f
    return v if v is not None and 0.0 <= v <= 1.0 else None
values = [value(json.loads(line)) for line in open(sys.argv[1]) if line.strip()]
counted = [v for v in values if v is not None]
score = sum(counted) / len(counted) if counted else None
# sum() of floats is compensated (Neumaier) since 3.12, as ScoreAccumulator: then equal to the bit.
print(json.dumps({"values": values, "score": score, "counted": len(counted), "exact": sys.version_info >= (3, 12)}))
`;

const FLOAT_PY = `
import json, sys
out = []
for s in json.load(open(sys.argv[1])):
    try: f = float(s); out.append("nan" if f != f else repr(f))
    except ValueError: out.append(None)
print(json.dumps(out))
`;

describe.skipIf(!python)("agrees with Python", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await tempDir("tunix-rt-score-py-");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A seeded generator, so a failure can be replayed. */
  function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // Raw JSON texts, so NaN and Infinity (which Python's json writes) are in the mix too.
  const VALUES = [
    "0",
    "1",
    "0.5",
    "-0.0",
    "1.0",
    "1.5",
    "-0.1",
    "85",
    "100",
    "101",
    "150.5",
    "1e-1",
    "0.3333333333333333",
    "true",
    "false",
    "null",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    '" 0.5 "',
    '"1_0"',
    '"1__0"',
    '"nan"',
    '"-inf"',
    '"Infinity"',
    '"0x1"',
    '"1,5"',
    '""',
    '"  "',
    '"1e-1"',
    '".5"',
    '"5."',
    '"85"',
    '"-0"',
    '"abc"',
    '"\\u0661"',
    '"\\u00a00.25\\u2003"',
    '"\\u001c0.5"',
    '"\\u00850.75"',
    "[1]",
    "{}",
    '{"v": 1}',
  ];

  function tricky(next: () => number): string {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const roll = next();
    if (roll < 0.04) return pick(["5", "[]", '"row"', "null", "[{}]"]); // not an object
    const parts: string[] = [];
    if (next() < 0.8) {
      const metrics = next();
      if (metrics < 0.7) parts.push(`"metrics": {"answer_correctness": ${pick(VALUES)}, "bleu": 0.1}`);
      else if (metrics < 0.8) parts.push(`"metrics": {"other": ${pick(VALUES)}}`);
      else parts.push(`"metrics": ${pick(["[]", "[1]", "null", '"x"', "3"])}`);
    }
    if (next() < 0.8) parts.push(`"score": ${pick(VALUES)}`);
    return `{${['"id": "r"', ...parts].join(", ")}}`;
  }

  it("on 200 random tricky rows: each row's value, the count and the mean", async () => {
    const next = random(20240601);
    const lines = Array.from({ length: 200 }, () => tricky(next));
    const file = path.join(dir, "rows.jsonl");
    await writeFile(file, `${lines.join("\n")}\n`);
    const py = JSON.parse(execFileSync(python as string, ["-c", M34_PY, file], { encoding: "utf8" })) as {
      values: (number | null)[];
      score: number | null;
      counted: number;
      exact: boolean;
    };
    const accumulator = new ScoreAccumulator();
    lines.forEach((line, i) => {
      const row = parsePythonJson(line);
      accumulator.add(row);
      expect(rowValue(row) ?? null, `line ${i + 1}: ${line}`).toBe(py.values[i]);
    });
    const ours = accumulator.result;
    expect(ours.counted).toBe(py.counted);
    expect(ours.rows).toBe(200);
    expect(py.score).not.toBeNull();
    if (py.exact) expect(ours.primary_score).toBe(py.score);
    else expect(Math.abs((ours.primary_score as number) - (py.score as number))).toBeLessThanOrEqual(1e-12);
  });

  it("reads every string in the grammar's corners as float() does", async () => {
    const inputs = [
      ...VALUES.filter((v) => v.startsWith('"')).map((v) => JSON.parse(v) as string),
      "1_000",
      "1e1_0",
      "1_e5",
      "1e+_5",
      "+.5e1",
      ".e5",
      "INFINITY",
      "-iNf",
      "+nan",
      "nan(1)",
      "infinit",
      "0b1",
      "0o7",
      "1 2",
      "\t-1.25e-3\n",
      "\u3000\uff11.\uff15\u2029",
      "\u0966\u0967",
      "\ud835\udfce\ud835\udfd9", // U+1D7CE bold 0, U+1D7D9 double-struck 1: runs of ten back to back
      "\x1f1",
      "\ufeff1",
      "1\ufeff",
      "00",
      "-0e0",
    ];
    const file = path.join(dir, "floats.json");
    await writeFile(file, JSON.stringify(inputs));
    const py = JSON.parse(execFileSync(python as string, ["-c", FLOAT_PY, file], { encoding: "utf8" })) as (
      | string
      | null
    )[];
    inputs.forEach((input, i) => {
      const ours = pyFloat(input);
      const expected = py[i];
      if (expected === null || expected === undefined) expect(ours, JSON.stringify(input)).toBeUndefined();
      else if (expected === "nan") expect(ours, JSON.stringify(input)).toBeNaN();
      else expect(ours, JSON.stringify(input)).toBe(Number(expected.replace("inf", "Infinity")));
    });
  });
});
