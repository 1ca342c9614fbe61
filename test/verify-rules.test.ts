/**
 * The rule modules of src/core/evidence/verify/, each on its own: a context made by hand
 * (only the fields the rule reads), one call, and the exact problems or notes it adds. The
 * whole verifier, files in and problems out, is test/evidence-verify.test.ts's.
 */
import { describe, expect, it } from "vitest";
import type { BestParams, EvalSummary, RunManifest } from "../src/core/evidence/schemas.js";
import { checkBestTrial } from "../src/core/evidence/verify/best-trial.js";
import { VerifyContext } from "../src/core/evidence/verify/context.js";
import { checkProvenance, checkScores, checkTuningJobId } from "../src/core/evidence/verify/cross-file.js";
import { checkGrades, gradesLine } from "../src/core/evidence/verify/grades.js";
import { checkTemplate, readJsonFile } from "../src/core/evidence/verify/json-file.js";
import { type JsonlEntry, jsonlEntries } from "../src/core/evidence/verify/jsonl.js";
import { checkManifest } from "../src/core/evidence/verify/manifest.js";
import { checkOutputLog } from "../src/core/evidence/verify/output-log.js";
import { fileMissing } from "../src/core/evidence/verify/presence.js";
import { checkHasRows, evalRowsLine } from "../src/core/evidence/verify/rows.js";
import { checkHasTrials, trialsLine } from "../src/core/evidence/verify/trials.js";
import { checkTrustedCopy } from "../src/core/evidence/verify/trusted.js";

const runVersion = "rt_test_v1";
const sweepId = "0b7f4a6e-2c1d-4e8f-9a3b-5c6d7e8f9a0b";
const otherSweepId = "1c8e5b7f-3d2e-4f9a-8b4c-6d7e8f9a0b1c";

const context = (options: Partial<ConstructorParameters<typeof VerifyContext>[0]> = {}) =>
  new VerifyContext({ runVersion, ...options });

const manifest = (fields: Partial<RunManifest> & Record<string, unknown> = {}): RunManifest =>
  ({
    run_version: runVersion,
    model_id: "google/gemma-3-1b-it",
    dataset: "gsm8k",
    config_path: `training/configs/${runVersion}_best.yaml`,
    command: "python train.py",
    commit_sha: "1942c2bac461c355f10a6b78484f116341923755",
    timestamp: "2026-01-02T03:04:05.000Z",
    tuning_job_id: sweepId,
    trial_id: "t1",
    ...fields,
  }) as RunManifest;

const bestParams = (fields: Partial<BestParams> = {}): BestParams =>
  ({
    source: "M34 Ray Tune Sweep",
    tuning_job_id: sweepId,
    trial_id: "t1",
    best_run_id: null,
    params: { lr: 0.1 },
    primary_score: 1,
    sweep_config: {},
    ...fields,
  }) as BestParams;

/** A trials.jsonl line as the streaming reader yields it. */
const line = (n: number, value: unknown): JsonlEntry => ({ line: n, ok: true, value });
const trial = (id: string, fields: Record<string, unknown> = {}) => ({
  trial_id: id,
  params: { lr: 0.1 },
  status: "completed",
  primary_score: 0.5,
  ...fields,
});

describe("presence.ts", () => {
  it("says what a missing file is for, and leaves it unusable", () => {
    const ctx = context();
    fileMissing(ctx, "trials.jsonl");
    expect(ctx.problems).toEqual([
      {
        file: "trials.jsonl",
        path: "",
        message: "missing; the evidence needs it (every trial's record, from which the best trial is found)",
      },
    ]);
    expect(ctx.unusable.has("trials.jsonl")).toBe(true);
  });
});

describe("json-file.ts", () => {
  it("refuses text that is not JSON, and names the file unusable", () => {
    const ctx = context();
    expect(readJsonFile(ctx, "eval_summary.json", "{")).toBeUndefined();
    expect(ctx.problems).toHaveLength(1);
    expect(ctx.problems[0]?.message).toMatch(/^not valid JSON: /);
    expect(ctx.unusable.has("eval_summary.json")).toBe(true);
  });

  it("refuses a document that is not an object, in one problem", () => {
    const ctx = context();
    expect(readJsonFile(ctx, "best_params.json", "[1]")).toBeUndefined();
    expect(ctx.problems).toEqual([
      { file: "best_params.json", path: "", message: "got [1]; expected a JSON object" },
    ]);
  });

  it("calls a file a template only when its rules found problems and its notes say so", () => {
    const ctx = context();
    const document = { notes: "A template: fill in after the sweep" };
    checkTemplate(ctx, "run_manifest.json", document, 0);
    expect(ctx.problems).toEqual([]);
    ctx.add({ file: "run_manifest.json", path: "trial_id", message: "is null" });
    checkTemplate(ctx, "run_manifest.json", document, 0);
    expect(ctx.problems[1]).toEqual({
      file: "run_manifest.json",
      path: "notes",
      message:
        'this file is a template, not evidence of a sweep (notes: "A template: fill in after the sweep")',
    });
  });
});

describe("manifest.ts", () => {
  it("finds template nulls and a run_version that is not the folder's, in that order", () => {
    const ctx = context();
    checkManifest(ctx, manifest({ tuning_job_id: null, trial_id: null, run_version: "rt_other_v2" }));
    expect(ctx.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "tuning_job_id: is null; evidence must carry the id of the sweep that produced it",
      "trial_id: is null; evidence must carry the best trial's id",
      'run_version: got "rt_other_v2"; expected "rt_test_v1", the evidence folder\'s name',
    ]);
  });

  it("asks the kaggle profile's model only under that profile", () => {
    const llama = manifest({ model_id: "meta-llama/Llama-3.2-1B" });
    const plain = context();
    checkManifest(plain, llama);
    expect(plain.problems).toEqual([]);
    const kaggle = context({ profile: "kaggle" });
    checkManifest(kaggle, llama);
    expect(kaggle.problems).toEqual([
      {
        file: "run_manifest.json",
        path: "model_id",
        message:
          'got "meta-llama/Llama-3.2-1B"; the kaggle profile expects one of google/gemma-3-1b-it, google/gemma-2-2b',
      },
    ]);
  });
});

describe("output-log.ts", () => {
  it("finds the template's marker line, on its line", () => {
    const ctx = context();
    checkOutputLog(ctx, "step 1\nStatus: TEMPLATE\n");
    expect(ctx.problems).toEqual([
      {
        file: "kaggle_output_log.txt",
        line: 2,
        path: "",
        message: 'holds the template line "Status: TEMPLATE"; expected the best trial\'s output log',
      },
    ]);
  });

  it("passes a real log", () => {
    const ctx = context();
    checkOutputLog(ctx, "step 1 loss 0.5\n");
    expect(ctx.problems).toEqual([]);
  });
});

describe("rows.ts", () => {
  it("finds a row id twice, and counts every row into the score", () => {
    const ctx = context();
    for (const entry of jsonlEntries('{"id":"a","score":100}\n{"id":"a","score":0}\n'))
      evalRowsLine(ctx, entry);
    expect(ctx.problems).toEqual([
      {
        file: "eval_rows.jsonl",
        line: 2,
        path: "id",
        message: 'got "a" again (first on line 1); expected one row per evalset item',
      },
    ]);
    expect(ctx.score.result).toMatchObject({ primary_score: 0.5, rows: 2, counted: 2 });
  });

  it("needs at least one row", () => {
    const ctx = context();
    checkHasRows(ctx);
    expect(ctx.problems.map((p) => p.message)).toEqual([
      "has no rows; expected the best trial's graded rows",
    ]);
    expect(ctx.unusable.has("eval_rows.jsonl")).toBe(true);
  });
});

describe("trials.ts", () => {
  it("keeps each trial once, the first of an id", () => {
    const ctx = context();
    trialsLine(ctx, line(1, trial("t1")));
    trialsLine(ctx, line(2, trial("t1", { primary_score: 0.9 })));
    expect(ctx.problems).toEqual([
      {
        file: "trials.jsonl",
        line: 2,
        path: "trial_id",
        message: 'got "t1" again (first on line 1); expected each trial once',
      },
    ]);
    expect(ctx.trials.map((t) => [t.trial_id, t.primary_score])).toEqual([["t1", 0.5]]);
  });

  it("makes the file unusable on an invalid record (it could be the best trial)", () => {
    const ctx = context();
    trialsLine(ctx, line(1, { trial_id: "t1" }));
    expect(ctx.unusable.has("trials.jsonl")).toBe(true);
    expect(ctx.problems.length).toBeGreaterThan(0);
  });

  it("needs at least one trial", () => {
    const ctx = context();
    checkHasTrials(ctx);
    expect(ctx.problems.map((p) => p.message)).toEqual(["has no trials; expected every trial's record"]);
  });
});

describe("grades.ts", () => {
  /** The problems of `checkGrades` on one trial's record and grades.jsonl's lines (by trial id: its grades). */
  const gradeProblems = (record: Record<string, unknown>, grades: Record<string, string>) => {
    const ctx = context();
    trialsLine(ctx, line(1, trial("t1", record)));
    ctx.gradesGiven = true;
    Object.entries(grades).forEach(([id, values], i) => {
      gradesLine(ctx, line(i + 1, { trial_id: id, grades: values }));
    });
    checkGrades(ctx);
    return ctx.problems;
  };

  it("recomputes each scored trial's primary_score from its line", () => {
    expect(gradeProblems({ primary_score: 1, rows: 2, counted: 2 }, { t1: "10" })).toEqual([
      {
        file: "trials.jsonl",
        line: 1,
        path: "primary_score",
        message: "got 1; grades.jsonl line 1 gives 0.5 (2 of 2 rows counted)",
      },
    ]);
  });

  it("finds a line for a trial that is not a scored one", () => {
    expect(gradeProblems({ primary_score: 0.5 }, { t1: "10", t9: "1" })).toEqual([
      {
        file: "grades.jsonl",
        line: 2,
        path: "trial_id",
        message: 'got "t9"; trials.jsonl has no completed trial with a score of that id',
      },
    ]);
  });
});

describe("best-trial.ts", () => {
  it("names the best completed trial where best_params.json and the manifest name another", () => {
    const ctx = context();
    trialsLine(ctx, line(1, trial("t1", { primary_score: 0.5 })));
    trialsLine(ctx, line(2, trial("t2", { primary_score: 0.75, params: { lr: 0.2 } })));
    ctx.best = bestParams({ trial_id: "t1", primary_score: 0.5 });
    ctx.manifest = manifest({ trial_id: "t3" });
    checkBestTrial(ctx);
    const why = 'the best completed trial in trials.jsonl is "t2" (line 2: primary_score 0.75, the highest)';
    expect(ctx.problems).toEqual([
      { file: "best_params.json", path: "trial_id", message: `got "t1"; ${why}` },
      {
        file: "run_manifest.json",
        path: "trial_id",
        message: `got "t3", which is not in trials.jsonl; ${why}`,
      },
    ]);
  });

  it("checks the two files against each other when trials.jsonl cannot be used", () => {
    const ctx = context();
    ctx.unusable.add("trials.jsonl");
    ctx.best = bestParams({ trial_id: "t1" });
    ctx.manifest = manifest({ trial_id: "t2" });
    checkBestTrial(ctx);
    expect(ctx.problems).toEqual([
      { file: "run_manifest.json", path: "trial_id", message: 'got "t2"; best_params.json has "t1"' },
    ]);
  });
});

describe("cross-file.ts", () => {
  it("recomputes primary_score from the rows against the summary and best_params.json", () => {
    const ctx = context();
    ctx.score.add({ score: 100 });
    ctx.score.add({ score: 0 });
    ctx.summary = { primary_score: 0.5, metrics: { answer_correctness: 0.75 } } as EvalSummary;
    ctx.best = bestParams({ primary_score: 1 });
    checkScores(ctx);
    const from = "the primary_score recomputed from eval_rows.jsonl (2 of 2 rows counted)";
    expect(ctx.problems).toEqual([
      {
        file: "eval_summary.json",
        path: "metrics.answer_correctness",
        message: `got 0.75; expected 0.5, ${from}`,
      },
      { file: "best_params.json", path: "primary_score", message: `got 1; expected 0.5, ${from}` },
    ]);
  });

  it("counts the trials the manifest claims in trials.jsonl", () => {
    const ctx = context();
    trialsLine(ctx, line(1, trial("t1")));
    trialsLine(ctx, line(2, trial("t2", { status: "failed", primary_score: null })));
    ctx.manifest = manifest({ trials: { total: 2, completed: 2, failed: 0 } });
    checkProvenance(ctx);
    expect(ctx.problems).toEqual([
      { file: "run_manifest.json", path: "trials.completed", message: "got 2; trials.jsonl holds 1" },
      { file: "run_manifest.json", path: "trials.failed", message: "got 0; trials.jsonl holds 1" },
    ]);
  });

  it("finds the manifest and best_params.json naming different sweeps", () => {
    const ctx = context();
    ctx.manifest = manifest();
    ctx.best = bestParams({ tuning_job_id: otherSweepId });
    checkTuningJobId(ctx);
    expect(ctx.problems).toEqual([
      {
        file: "run_manifest.json",
        path: "tuning_job_id",
        message: `got "${sweepId}"; best_params.json has "${otherSweepId}"`,
      },
    ]);
  });
});

describe("trusted.ts", () => {
  const trusted = {
    shownAs: "the base commit 1a2b3c4",
    file: (p: string) => ({ shownAs: p, absent: "is not there" }),
    sha256: () => undefined,
    config: (p: string) => ({ shownAs: p, absent: "is not there" }),
  };

  it("finds a copy beside the evidence that is not the trusted checkout's, on the repository file", () => {
    const ctx = context({ trusted });
    const evalset = "training/evalsets/eval.jsonl";
    checkTrustedCopy(ctx, { shownAs: evalset, text: "a\n" }, { shownAs: evalset, text: "a\n" }, "evalset");
    expect(ctx.repoProblems).toEqual([]);
    checkTrustedCopy(ctx, { shownAs: evalset, text: "a\n" }, { shownAs: evalset, text: "b\n" }, "evalset");
    expect(ctx.repoProblems).toEqual([
      {
        file: evalset,
        path: "",
        message:
          "differs from its copy in the base commit 1a2b3c4: the evidence is verified against that copy, and a change to the evalset needs a pull request of its own, reviewed and merged before evidence made with it",
      },
    ]);
    expect(ctx.problems).toEqual([]);
  });
});
