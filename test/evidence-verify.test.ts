import { existsSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bestTrial, compareTrialIds } from "../src/core/best-trial.js";
import { formatProblem } from "../src/core/errors.js";
import { verifyEvidence } from "../src/core/evidence/verify.js";
import { describeJsonError, jsonPathLines, lineOfPath } from "../src/core/json-text.js";
import { verifyEvidenceFolder } from "../src/runtime/evidence-read.js";
import { runVerify, scratchFolder, seedData } from "./helpers/cli.js";
import {
  defaultTrials,
  type EvidenceFixture,
  evidenceTexts,
  type FolderOptions,
  gradedRows,
  writeEvidenceFolder,
} from "./helpers/evidence-fixture.js";

const scratch = scratchFolder("tunix-rt-verify-");
const verify = runVerify;

/** A fresh parent folder holding one evidence folder `rt_test_v1`; returns the parent (the CLI's cwd). */
async function folder(fixture: EvidenceFixture = {}, options: FolderOptions = {}): Promise<string> {
  const parent = scratch.fresh();
  await writeEvidenceFolder(parent, fixture, options);
  return parent;
}

describe("verify on a consistent evidence folder", () => {
  it("is valid: exit 0, nothing on stdout, the verdict on stderr", async () => {
    const cwd = await folder();
    const result = await verify(cwd, "rt_test_v1");
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("verify: rt_test_v1: valid\n");
    expect(result.code).toBe(0);
  });

  it("prints {valid: true, problems: []} with --json", async () => {
    const cwd = await folder();
    const result = await verify(cwd, "rt_test_v1", "--json");
    expect(JSON.parse(result.stdout)).toEqual({ valid: true, problems: [], notes: [] });
    expect(result.code).toBe(0);
  });

  it("accepts eval rows of other shapes (a trainer that grades itself), scored the M34 way", async () => {
    // 1 (answer_correctness), 0.5 (score 50 / 100), "1" (a numeric string), and a row that counts nothing.
    const rows = [
      { metrics: { answer_correctness: 1 } },
      { id: 7, score: 50 },
      { metrics: { answer_correctness: "1" } },
      { note: "no metric" },
    ];
    const trials = defaultTrials().map((t) =>
      t.trial_id === "t0001" ? { ...t, primary_score: 2.5 / 3 } : t,
    );
    const cwd = await folder({ rows, trials });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.stdout).toBe("");
    expect(result.code).toBe(0);
  });

  it("refuses evidence that promoted the lowest score (a sweep with metric_mode min)", async () => {
    // primary_score is higher-is-better whatever the config said: the worst trial is never the best.
    const cwd = await folder({ metricMode: "min", rows: gradedRows([1, 0, 0, 0]) });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'rt_test_v1/best_params.json:4: trial_id: got "t0003"; the best completed trial in trials.jsonl is "t0001" (line 2: primary_score 0.75, the highest)',
    );
  });

  it("breaks a tie in favour of the earlier trial id (t0002 before t0010)", async () => {
    const trials = [
      { trial_id: "t0010", params: { lr: 1 }, status: "completed" as const, primary_score: 0.75 },
      { trial_id: "t0002", params: { lr: 2 }, status: "completed" as const, primary_score: 0.75 },
    ];
    const ok = await folder({ trials });
    expect((await verify(ok, "rt_test_v1")).code).toBe(0);
    const wrong = await folder({
      trials,
      best: { trial_id: "t0010", params: { lr: 1 } },
      manifest: { trial_id: "t0010" },
    });
    const result = await verify(wrong, "rt_test_v1");
    expect(result.lines).toContain(
      `rt_test_v1/best_params.json:4: trial_id: got "t0010"; the best completed trial in trials.jsonl is "t0002" (line 2: primary_score 0.75, the highest)`,
    );
    expect(result.code).toBe(1);
  });
});

describe("verify reports each kind of breakage as file[:line]: path: message, exit 1", () => {
  const cases: {
    name: string;
    fixture?: EvidenceFixture;
    omit?: FolderOptions["omit"];
    replace?: FolderOptions["replace"];
    expected: string[];
  }[] = [
    {
      name: "a missing file",
      omit: ["eval_rows.jsonl"],
      expected: [
        "rt_test_v1/eval_rows.jsonl: missing; the evidence needs it (the best trial's graded rows, from which primary_score is recomputed)",
      ],
    },
    {
      name: "a JSON file that does not parse (with its line)",
      replace: { "best_params.json": '{\n  "source": "x",\n}\n' },
      expected: ["rt_test_v1/best_params.json:3: not valid JSON: Expected double-quoted property name"],
    },
    {
      name: "a JSONL line that does not parse",
      replace: { "trials.jsonl": `${evidenceTexts()["trials.jsonl"]}{"trial_id": "t0009",\n` },
      expected: ["rt_test_v1/trials.jsonl:5: not valid JSON: Expected double-quoted property name"],
    },
    {
      name: "eval_summary.primary_score that the rows do not give",
      fixture: { summary: { primary_score: 0.7 } },
      expected: [
        "rt_test_v1/eval_summary.json:7: primary_score: got 0.7; expected 0.75, the primary_score recomputed from eval_rows.jsonl (4 of 4 rows counted)",
      ],
    },
    {
      name: "metrics.answer_correctness that the rows do not give",
      fixture: { summary: { metrics: { answer_correctness: 0.5, final_loss: 1.2 } } },
      expected: [
        "rt_test_v1/eval_summary.json:5: metrics.answer_correctness: got 0.5; expected 0.75, the primary_score recomputed from eval_rows.jsonl (4 of 4 rows counted)",
      ],
    },
    {
      name: "best_params naming a trial that is not the best",
      fixture: {
        best: { trial_id: "t0000", params: { learning_rate: 2e-5, per_device_batch_size: 2 } },
        manifest: { trial_id: "t0000" },
      },
      expected: [
        `rt_test_v1/run_manifest.json:10: trial_id: got "t0000"; the best completed trial in trials.jsonl is "t0001" (line 2: primary_score 0.75, the highest)`,
        `rt_test_v1/best_params.json:4: trial_id: got "t0000"; the best completed trial in trials.jsonl is "t0001" (line 2: primary_score 0.75, the highest)`,
        "rt_test_v1/best_params.json:10: primary_score: got 0.75; trials.jsonl line 1 (t0000) has 0.5",
      ],
    },
    {
      name: "best_params naming a trial that is not in trials.jsonl",
      fixture: { best: { trial_id: "t0042" }, manifest: { trial_id: "t0042" } },
      expected: [
        `rt_test_v1/best_params.json:4: trial_id: got "t0042", which is not in trials.jsonl; the best completed trial in trials.jsonl is "t0001" (line 2: primary_score 0.75, the highest)`,
      ],
    },
    {
      name: "best_params.params that differ from the best trial's",
      fixture: { best: { params: { learning_rate: 5e-5, per_device_batch_size: 2 } } },
      expected: [
        `rt_test_v1/best_params.json:6: params: got {"learning_rate":0.00005,"per_device_batch_size":2}; trials.jsonl line 2 (t0001) has {"learning_rate":0.00005,"per_device_batch_size":4}`,
      ],
    },
    {
      name: "a run_version that is not the folder's name",
      fixture: { manifest: { run_version: "m34_v1" } },
      expected: [
        `rt_test_v1/run_manifest.json:2: run_version: got "m34_v1"; expected "rt_test_v1", the evidence folder's name`,
      ],
    },
    {
      name: "tuning_job_id that differs between run_manifest and best_params",
      fixture: { manifest: { tuning_job_id: "00000000-0000-4000-8000-000000000000" } },
      expected: [
        `rt_test_v1/run_manifest.json:9: tuning_job_id: got "00000000-0000-4000-8000-000000000000"; best_params.json has "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"`,
      ],
    },
    {
      name: "a tuning_job_id that is not a UUID",
      fixture: { best: { tuning_job_id: "sweep-1" } },
      expected: [
        `rt_test_v1/best_params.json:3: tuning_job_id: got "sweep-1"; expected a UUID (8-4-4-4-12 hex digits)`,
      ],
    },
    {
      name: "a timestamp that is not ISO 8601",
      fixture: { manifest: { timestamp: "yesterday" } },
      expected: [
        `rt_test_v1/run_manifest.json:8: timestamp: got "yesterday"; expected an ISO 8601 date-time with a zone, like 2025-12-26T12:00:00Z`,
      ],
    },
    {
      name: "a missing required key",
      fixture: { manifest: { model_id: undefined } },
      expected: ["rt_test_v1/run_manifest.json: model_id: missing; expected a string"],
    },
    {
      name: "a trial with an unknown status and one with a score out of range",
      fixture: {
        trials: [
          ...defaultTrials(),
          { trial_id: "t0004", params: {}, status: "done" as never, primary_score: 0.1 },
          { trial_id: "t0005", params: {}, status: "completed", primary_score: 1.5 },
        ],
      },
      expected: [
        `rt_test_v1/trials.jsonl:5: status: got "done"; expected one of completed, failed, timeout, pruned, running`,
        "rt_test_v1/trials.jsonl:6: primary_score: got 1.5; expected <= 1",
      ],
    },
    {
      name: "a trial id twice",
      fixture: {
        trials: [
          ...defaultTrials(),
          { trial_id: "t0000", params: {}, status: "failed", primary_score: null },
        ],
      },
      expected: [
        `rt_test_v1/trials.jsonl:5: trial_id: got "t0000" again (first on line 1); expected each trial once`,
      ],
    },
    {
      name: "an eval row id twice",
      fixture: { rows: [...gradedRows([1, 1, 0]), { ...(gradedRows([1])[0] as object), id: "q2" }] },
      expected: [
        `rt_test_v1/eval_rows.jsonl:4: id: got "q2" again (first on line 2); expected one row per evalset item`,
      ],
    },
    {
      name: "eval rows from which no score can be computed",
      fixture: {
        rows: [
          { id: "a", metrics: { answer_correctness: null } },
          { id: "b", score: "n/a" },
        ],
      },
      expected: [
        "rt_test_v1/eval_rows.jsonl: none of its 2 rows has a metrics.answer_correctness or score in 0..1; primary_score cannot be recomputed",
      ],
    },
    {
      name: "no completed trial with a score",
      fixture: {
        trials: [{ trial_id: "t0000", params: { lr: 1 }, status: "failed", primary_score: null }],
        best: { trial_id: "t0000", params: { lr: 1 }, primary_score: 0.75 },
        manifest: { trial_id: "t0000" },
      },
      expected: [
        "rt_test_v1/trials.jsonl: has no completed trial with a primary_score; evidence needs a best trial",
      ],
    },
    {
      name: "an empty output log",
      replace: { "kaggle_output_log.txt": "\n  \n" },
      expected: ["rt_test_v1/kaggle_output_log.txt: is empty; expected the best trial's output log"],
    },
    {
      name: "an empty trials.jsonl",
      replace: { "trials.jsonl": "" },
      expected: ["rt_test_v1/trials.jsonl: has no trials; expected every trial's record"],
    },
    {
      name: "a JSON file that is not an object",
      replace: { "eval_summary.json": "[1, 2]\n" },
      expected: ["rt_test_v1/eval_summary.json: got [1,2]; expected a JSON object"],
    },
  ];

  // Each case reads real files with the same reader the CLI uses (in process, to keep the
  // suite fast); the CLI's own output and exit code are checked once below.
  for (const c of cases) {
    it(c.name, async () => {
      const cwd = await folder(c.fixture, { omit: c.omit ?? [], replace: c.replace ?? {} });
      const { problems } = await verifyEvidenceFolder(path.join(cwd, "rt_test_v1"), {
        shownAs: "rt_test_v1",
        cwd,
      });
      const lines = problems.map(formatProblem);
      for (const line of c.expected) expect(lines).toContain(line);
    });
  }

  it("prints the problems on stdout and exits 1 from the CLI", async () => {
    const cwd = await folder({ summary: { primary_score: 0.7 } });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual([
      "rt_test_v1/eval_summary.json:7: primary_score: got 0.7; expected 0.75, the primary_score recomputed from eval_rows.jsonl (4 of 4 rows counted)",
    ]);
    expect(result.stderr).toBe("verify: rt_test_v1: invalid, 1 problem\n");
    expect(result.code).toBe(1);
  });

  it("keeps checking the other files when one is broken", async () => {
    const cwd = await folder({ summary: { primary_score: 0.7 } }, { replace: { "best_params.json": "{" } });
    const { problems } = await verifyEvidenceFolder(path.join(cwd, "rt_test_v1"), {
      shownAs: "rt_test_v1",
      cwd,
    });
    expect(problems.map(formatProblem)).toEqual([
      "rt_test_v1/eval_summary.json:7: primary_score: got 0.7; expected 0.75, the primary_score recomputed from eval_rows.jsonl (4 of 4 rows counted)",
      "rt_test_v1/best_params.json:1: not valid JSON: Expected property name or '}'",
    ]);
  });

  it("names files by the folder as given (a trailing slash or ./ is normalized)", async () => {
    const cwd = await folder({}, { omit: ["trials.jsonl"] });
    const result = await verify(cwd, "./rt_test_v1/");
    expect(result.lines[0]).toMatch(/^rt_test_v1\/trials\.jsonl: missing;/);
  });

  // Root reads every file whatever its mode: skipped there, and reported as skipped.
  it.skipIf(process.getuid?.() === 0)("reports a file it cannot read and goes on", async () => {
    const cwd = await folder();
    await chmod(path.join(cwd, "rt_test_v1", "trials.jsonl"), 0o000);
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual(["rt_test_v1/trials.jsonl: cannot read: permission denied"]);
    expect(result.code).toBe(1);
  });
});

describe("verify --json", () => {
  it("gives {valid: false, problems: [{file, line, path, message}]} with line null when there is none", async () => {
    const cwd = await folder({ summary: { primary_score: 0.7 } }, { omit: ["trials.jsonl"] });
    const result = await verify(cwd, "rt_test_v1", "--json");
    const output = JSON.parse(result.stdout) as { valid: boolean; problems: Record<string, unknown>[] };
    expect(output.valid).toBe(false);
    expect(output.problems).toEqual([
      {
        file: "rt_test_v1/eval_summary.json",
        line: 7,
        path: "primary_score",
        message:
          "got 0.7; expected 0.75, the primary_score recomputed from eval_rows.jsonl (4 of 4 rows counted)",
      },
      {
        file: "rt_test_v1/trials.jsonl",
        line: null,
        path: "",
        message: "missing; the evidence needs it (every trial's record, from which the best trial is found)",
      },
    ]);
    expect(result.code).toBe(1);
  });
});

describe("verify --profile kaggle", () => {
  it("requires a Gemma model the competition allows", async () => {
    const cwd = await folder({ modelId: "meta-llama/Llama-3.2-1B" });
    expect((await verify(cwd, "rt_test_v1")).code).toBe(0);
    const result = await verify(cwd, "rt_test_v1", "--profile", "kaggle");
    expect(result.lines).toEqual([
      `rt_test_v1/run_manifest.json:3: model_id: got "meta-llama/Llama-3.2-1B"; the kaggle profile expects one of google/gemma-3-1b-it, google/gemma-2-2b`,
    ]);
    expect(result.code).toBe(1);
    const gemma = await folder({ modelId: "google/gemma-2-2b" });
    expect((await verify(gemma, "rt_test_v1", "--profile", "kaggle")).code).toBe(0);
  });
});

describe("verify usage and unreadable input (exit 2)", () => {
  it("exits 2 for a folder that does not exist, a missing argument, a bad profile, a file that is not a zip", async () => {
    const cwd = await folder();
    const missing = await verify(cwd, "no_such_run");
    expect(missing.stderr).toBe("tunix-rt verify: no_such_run: cannot read: no such file or directory\n");
    expect(missing.code).toBe(2);
    const none = await verify(cwd);
    expect(none.stderr).toMatch(/expected one evidence folder or zip, got none/);
    expect(none.code).toBe(2);
    const profile = await verify(cwd, "rt_test_v1", "--profile", "nope");
    expect(profile.stderr).toMatch(/--profile: got "nope"; expected kaggle/);
    expect(profile.code).toBe(2);
    const notZip = await verify(cwd, "rt_test_v1/trials.jsonl");
    expect(notZip.stderr).toMatch(/is a file but not a \.zip/);
    expect(notZip.code).toBe(2);
    await writeFile(path.join(cwd, "broken.zip"), "not a zip at all");
    const broken = await verify(cwd, "broken.zip");
    expect(broken.stderr).toMatch(
      /^tunix-rt verify: broken\.zip: not a readable zip: End of central directory record signature not found/,
    );
    expect(broken.code).toBe(2);
  });
});

describe("verify on the M34 templates", () => {
  const m34 = path.join(seedData, "m34_v1");
  it.skipIf(!existsSync(m34))(
    "finds them invalid: templates with null values, and no eval_rows.jsonl / trials.jsonl",
    async () => {
      // Verification only reads: run it where the (read-only) seed data lies.
      const result = await verify(path.dirname(m34), "m34_v1");
      expect(result.code).toBe(1);
      expect(result.lines).toEqual(
        expect.arrayContaining([
          "m34_v1/run_manifest.json:14: tuning_job_id: is null; evidence must carry the id of the sweep that produced it",
          "m34_v1/run_manifest.json:15: trial_id: is null; evidence must carry the best trial's id",
          "m34_v1/eval_summary.json:9: primary_score: is null; evidence must carry the best trial's score",
          "m34_v1/best_params.json:12: primary_score: is null; evidence must carry the best trial's score",
          "m34_v1/best_params.json:7: params.learning_rate: is null; evidence must carry the best trial's value",
          `m34_v1/best_params.json:26: notes: this file is a template, not evidence of a sweep (notes: "Template file - update with actual sweep results from run_tune_m34.py")`,
          `m34_v1/kaggle_output_log.txt:7: holds the template line "Status: TEMPLATE - Not yet executed"; expected the best trial's output log`,
          "m34_v1/eval_rows.jsonl: missing; the evidence needs it (the best trial's graded rows, from which primary_score is recomputed)",
          "m34_v1/trials.jsonl: missing; the evidence needs it (every trial's record, from which the best trial is found)",
          // The promoted config it names is not beside it (seed-data holds it as m34_best.yaml).
          `m34_v1/run_manifest.json:5: config_path: got "training/configs/m34_best.yaml"; the promoted config is not in the repository (${path.dirname(m34)})`,
        ]),
      );
      expect(result.stderr).toBe(
        `tunix-rt verify: note: eval_rows.jsonl was not re-graded: eval_summary.json eval_set "training/evalsets/eval_v1.jsonl" is not in the repository (${path.dirname(m34)})\nverify: m34_v1: invalid, 18 problems\n`,
      );
    },
  );
});

describe("the pure pieces", () => {
  it("verifyEvidence agrees with the folder reader on an in-memory folder", () => {
    expect(verifyEvidence({ runVersion: "rt_test_v1", files: evidenceTexts() })).toEqual([]);
    const { "trials.jsonl": _, ...rest } = evidenceTexts();
    expect(verifyEvidence({ runVersion: "rt_test_v1", files: rest }).map((p) => p.file)).toEqual([
      "trials.jsonl",
    ]);
  });

  it("orders trial ids by number, then others as strings", () => {
    expect(["t10000", "t0002", "x", "t9999", "a"].sort(compareTrialIds)).toEqual([
      "t0002",
      "t9999",
      "t10000",
      "a",
      "x",
    ]);
  });

  it("never picks a trial that did not complete or has no score", () => {
    const trials = [
      { trial_id: "t0000", status: "failed" as const, primary_score: 0.9 },
      { trial_id: "t0001", status: "completed" as const, primary_score: null },
      { trial_id: "t0002", status: "completed" as const, primary_score: 0.1 },
    ];
    expect(bestTrial(trials)?.trial_id).toBe("t0002");
    expect(bestTrial(trials.slice(0, 2))).toBeUndefined();
  });

  it("finds the line of each key and array element, and of the nearest ancestor for a missing key", () => {
    const text = '{\n  "a": {\n    "b": [\n      1,\n      {"c": 2}\n    ]\n  },\n  "d\\"q": "x,{"\n}\n';
    const lines = jsonPathLines(text);
    expect(lines.get("a")).toBe(2);
    expect(lines.get("a.b")).toBe(3);
    expect(lines.get("a.b.0")).toBe(4);
    expect(lines.get("a.b.1.c")).toBe(5);
    expect(lines.get('d"q')).toBe(8);
    expect(lineOfPath(lines, "a.b.1.missing")).toBe(5);
    expect(lineOfPath(lines, "nothing")).toBeUndefined();
  });

  it("turns V8's JSON errors into a line and a short reason", () => {
    expect(describeJsonError("Unexpected token } in JSON at position 9", '{\n"a": 1}\n}')).toEqual({
      line: 2,
      reason: "Unexpected token }",
    });
    expect(describeJsonError(`Unexpected token 'x', "x" is not valid JSON`, "x")).toEqual({
      reason: "Unexpected token 'x'",
    });
    expect(
      describeJsonError(
        "Expected ',' or '}' after property value in JSON at position 5 (line 3 column 2)",
        "",
      ),
    ).toEqual({
      line: 3,
      reason: "Expected ',' or '}' after property value",
    });
  });
});
