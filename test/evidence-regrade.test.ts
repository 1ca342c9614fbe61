/**
 * verify re-grades eval_rows.jsonl against the evalset the evidence names: a row's claimed
 * answer_correctness is not trusted. Real folders, a real git repository, real zips read
 * back by the CLI as a child process.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatProblem } from "../src/core/errors.js";
import { maxRegradeProblems } from "../src/core/evidence/regrade.js";
import { type NamedFile, verifyEvidence } from "../src/core/evidence/verify.js";
import { runCli, runVerify, scratchFolder } from "./helpers/cli.js";
import {
  defaultTrials,
  type EvidenceFixture,
  evidenceTexts,
  type FolderOptions,
  gradedRows,
  repoTexts,
  writeEvidenceFolder,
} from "./helpers/evidence-fixture.js";

const unzip = ["/usr/bin/unzip", "/bin/unzip"].find((p) => existsSync(p));
const hasGit = (() => {
  try {
    execFileSync("git", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const scratch = scratchFolder("tunix-rt-regrade-");
const verify = runVerify;

/** A fresh folder holding the evidence `rt_test_v1` and the files it names; returns it (the CLI's cwd). */
async function folder(fixture: EvidenceFixture = {}, options: FolderOptions = {}): Promise<string> {
  const parent = scratch.fresh();
  await writeEvidenceFolder(parent, fixture, options);
  return parent;
}

/** Trials whose best (t0001) scored `score`, so that rows claiming it are consistent with the rest. */
const trialsWithBest = (score: number) =>
  defaultTrials().map((t) => (t.trial_id === "t0001" ? { ...t, primary_score: score } : t));

/** The default rows with row 3 (a wrong answer, "no") claimed right: what a trainer could write. */
function tamperedRows(): unknown[] {
  const rows = gradedRows([1, 1, 0, 1]) as Record<string, unknown>[];
  rows[2] = { ...rows[2], metrics: { answer_correctness: 1 }, score: 100 };
  return rows;
}

const evalsetLine = (id: string, expected: string) =>
  `${JSON.stringify({ id, prompt: `question ${id}`, expected_answer: expected })}\n`;

describe("verify re-grades eval_rows.jsonl against the evalset (folder)", () => {
  it("reports a wrong prediction marked 1, with its line and both answers", async () => {
    const cwd = await folder({ rows: tamperedRows(), trials: trialsWithBest(1) });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual([
      `rt_test_v1/eval_rows.jsonl:3: metrics.answer_correctness: got 1; the prediction's answer "no" is not the expected answer "yes" of training/evalsets/eval_v1.jsonl (re-graded: 0)`,
    ]);
    expect(result.code).toBe(1);
  });

  it("reports a right prediction marked 0, a value that counts nothing, and a score that claims too much", async () => {
    const rows = gradedRows([1, 1, 1, 1]) as Record<string, unknown>[];
    rows[0] = { ...rows[0], metrics: { answer_correctness: 0 }, score: 0 };
    rows[1] = { ...rows[1], metrics: { answer_correctness: "n/a" }, score: null };
    rows[3] = { id: "q4", prediction: "<answer>no</answer>", score: 100 };
    const cwd = await folder(
      { rows, trials: trialsWithBest(2 / 3) },
      { replaceRepo: { evalset: ["q1", "q2", "q3", "q4"].map((id) => evalsetLine(id, "yes")).join("") } },
    );
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual([
      `rt_test_v1/eval_rows.jsonl:1: metrics.answer_correctness: got 0; the prediction's answer "yes" is the expected answer "yes" of training/evalsets/eval_v1.jsonl (re-graded: 1)`,
      `rt_test_v1/eval_rows.jsonl:2: metrics.answer_correctness: got "n/a", which counts nothing; the prediction's answer "yes" is the expected answer "yes" of training/evalsets/eval_v1.jsonl (re-graded: 1)`,
      `rt_test_v1/eval_rows.jsonl:4: score: got 100; the prediction's answer "no" is not the expected answer "yes" of training/evalsets/eval_v1.jsonl (re-graded: 0)`,
    ]);
    expect(result.code).toBe(1);
  });

  it("reports a row whose id is not in the evalset, an expected_answer that is not the evalset's, and items without a row", async () => {
    const evalset = [
      evalsetLine("q1", "yes"),
      evalsetLine("q2", "yes!"),
      evalsetLine("q3", "yes"),
      evalsetLine("q5", "yes"),
      evalsetLine("q6", "yes"),
    ].join("");
    const cwd = await folder({}, { replaceRepo: { evalset } });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual([
      `rt_test_v1/eval_rows.jsonl: has no row for 2 of the 5 items of training/evalsets/eval_v1.jsonl (first: "q5"); expected one row per item, as a dropped row changes primary_score`,
      `rt_test_v1/eval_rows.jsonl:2: expected_answer: got "yes"; training/evalsets/eval_v1.jsonl has "yes!" for "q2"`,
      `rt_test_v1/eval_rows.jsonl:2: metrics.answer_correctness: got 1; the prediction's answer "yes" is not the expected answer "yes!" of training/evalsets/eval_v1.jsonl (re-graded: 0)`,
      `rt_test_v1/eval_rows.jsonl:4: id: got "q4"; training/evalsets/eval_v1.jsonl has no item with this id`,
    ]);
    expect(result.code).toBe(1);
  });

  it("reports the rows a trainer dropped to raise its score", async () => {
    // Only the right answers kept: primary_score 1.0, consistent everywhere but with the evalset.
    const rows = (gradedRows([1, 1, 0, 1]) as { metrics: { answer_correctness: number } }[]).filter(
      (row) => row.metrics.answer_correctness === 1,
    );
    const evalset = ["q1", "q2", "q3", "q4"].map((id) => evalsetLine(id, "yes")).join("");
    const cwd = await folder({ rows, trials: trialsWithBest(1) }, { replaceRepo: { evalset } });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual([
      `rt_test_v1/eval_rows.jsonl: has no row for 1 of the 4 items of training/evalsets/eval_v1.jsonl (first: "q3"); expected one row per item, as a dropped row changes primary_score`,
    ]);
    expect(result.code).toBe(1);
  });

  it("reports an evalset it cannot read as one, rather than skipping the re-grade silently", async () => {
    const cwd = await folder({}, { replaceRepo: { evalset: '{"id": "q1", "prompt": "p"}\nnot json\n' } });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.lines).toEqual([
      "training/evalsets/eval_v1.jsonl:1: expected_answer: missing; expected a string (and 1 more problem); eval_summary.json eval_set names this evalset, and eval_rows.jsonl cannot be re-graded against it",
    ]);
    expect(result.code).toBe(1);
  });

  it("says in a note, not a problem, that the rows were not re-graded when the evalset is not at hand", async () => {
    const cwd = await folder({ rows: tamperedRows(), trials: trialsWithBest(1) }, { omitRepo: ["evalset"] });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.stdout).toBe("");
    const note = `eval_rows.jsonl was not re-graded: eval_summary.json eval_set "training/evalsets/eval_v1.jsonl" is not in the repository (${cwd})`;
    expect(result.stderr).toBe(`tunix-rt verify: note: ${note}\nverify: rt_test_v1: valid\n`);
    expect(result.code).toBe(0);
    const json = await verify(cwd, "rt_test_v1", "--json");
    expect(JSON.parse(json.stdout)).toEqual({ valid: true, problems: [], notes: [note] });
  });

  it("notes rows without a prediction (a trainer that grades itself) instead of failing them", async () => {
    const rows = [1, 1, 0, 1].map((c, i) => ({
      id: `q${i + 1}`,
      expected_answer: "yes",
      metrics: { answer_correctness: c },
    }));
    const cwd = await folder({ rows });
    const result = await verify(cwd, "rt_test_v1");
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "tunix-rt verify: note: 4 rows of eval_rows.jsonl have no prediction text (first at line 1); their answer_correctness could not be re-graded against training/evalsets/eval_v1.jsonl\nverify: rt_test_v1: valid\n",
    );
    expect(result.code).toBe(0);
  });

  it.skipIf(!hasGit)(
    "reads the evalset from the git top level of the folder, wherever verify runs",
    async () => {
      const root = scratch.fresh("git");
      // Evidence outside submission_runs/, verified from its own parent: without git the
      // evalset would be looked for there (and not found); git names the repository root.
      const fixture = { rows: tamperedRows(), trials: trialsWithBest(1) };
      await writeEvidenceFolder(path.join(root, "runs"), fixture, {
        omitRepo: ["evalset", "promotedConfig"],
      });
      for (const file of Object.values(repoTexts(fixture))) {
        await mkdir(path.dirname(path.join(root, file.path)), { recursive: true });
        await writeFile(path.join(root, file.path), file.text);
      }
      execFileSync("git", ["init", "-q"], { cwd: root });
      const result = await verify(path.join(root, "runs"), "rt_test_v1");
      expect(result.lines).toEqual([
        // Shown absolute: it lies outside the working directory.
        `rt_test_v1/eval_rows.jsonl:3: metrics.answer_correctness: got 1; the prediction's answer "no" is not the expected answer "yes" of ${path.join(root, "training/evalsets/eval_v1.jsonl")} (re-graded: 0)`,
      ]);
      expect(result.code).toBe(1);
    },
  );
});

describe("verify re-grades a submission zip against the evalset in it", () => {
  /** A repository with the evidence under submission_runs/, packaged with --no-verify (so a bad one is zipped too). */
  async function packaged(fixture: EvidenceFixture, options: FolderOptions = {}) {
    const root = scratch.fresh("repo");
    await writeEvidenceFolder(path.join(root, "submission_runs"), fixture, options);
    await writeFile(path.join(root, "sweep.yaml"), "name: x\n");
    const packed = await runCli(
      ["package", "--run-dir", "submission_runs/rt_test_v1", "--no-verify", "--config", "sweep.yaml"],
      { cwd: root, env: { SOURCE_DATE_EPOCH: "1766793600" } },
    );
    expect(packed.code).toBe(0);
    return { root, zip: packed.stdout.trim() };
  }

  it.skipIf(!unzip)(
    "finds the tampered row in the zip, and the package gate refuses the folder",
    async () => {
      const { root, zip } = await packaged({ rows: tamperedRows(), trials: trialsWithBest(1) });
      expect(execFileSync(unzip as string, ["-t", path.join(root, zip)], { encoding: "utf8" })).toMatch(
        /No errors detected/,
      );
      const result = await verify(root, zip);
      expect(result.lines).toEqual([
        `${zip}/submission_runs/rt_test_v1/eval_rows.jsonl:3: metrics.answer_correctness: got 1; the prediction's answer "no" is not the expected answer "yes" of training/evalsets/eval_v1.jsonl (re-graded: 0)`,
      ]);
      expect(result.code).toBe(1);
      const gated = await runCli(["package", "--run-dir", "submission_runs/rt_test_v1"], { cwd: root });
      expect(gated.stderr).toContain(
        `submission_runs/rt_test_v1/eval_rows.jsonl:3: metrics.answer_correctness: got 1; the prediction's answer "no"`,
      );
      expect(gated.code).toBe(1);
    },
  );

  it("notes a zip without the evalset: its rows were not re-graded", async () => {
    const { root, zip } = await packaged(
      { rows: tamperedRows(), trials: trialsWithBest(1) },
      { omitRepo: ["evalset"] },
    );
    const result = await verify(root, zip, "--json");
    expect(JSON.parse(result.stdout)).toEqual({
      valid: true,
      problems: [],
      notes: [
        'eval_rows.jsonl was not re-graded: eval_summary.json eval_set "training/evalsets/eval_v1.jsonl" is not in the zip',
      ],
    });
    expect(result.code).toBe(0);
  });
});

describe("re-grading, the pure pieces", () => {
  const find =
    (files: Record<string, string>) =>
    (repoPath: string): NamedFile =>
      Object.hasOwn(files, repoPath)
        ? { shownAs: repoPath, text: files[repoPath] as string }
        : { shownAs: repoPath, absent: "is not in the test" };

  it(`lists at most ${maxRegradeProblems} disagreements and counts the rest, while the rows stream`, () => {
    const n = maxRegradeProblems + 50;
    // Every answer wrong and claimed right: a trainer that answered another evalset's questions.
    const rows = gradedRows(Array.from({ length: n }, () => 1)).map((row) => ({
      ...(row as object),
      prediction: "<answer>no</answer>",
    }));
    const fixture = { rows, trials: trialsWithBest(1) };
    const repo = repoTexts(fixture);
    const notes: string[] = [];
    const problems = verifyEvidence({
      runVersion: "rt_test_v1",
      files: evidenceTexts(fixture),
      findRepoFile: find({
        [repo.evalset?.path ?? ""]: repo.evalset?.text ?? "",
        [repo.promotedConfig?.path ?? ""]: repo.promotedConfig?.text ?? "",
      }),
      onNote: (note) => notes.push(note),
    });
    expect(problems).toHaveLength(maxRegradeProblems + 1);
    expect(formatProblem(problems[0] as never)).toBe(
      "eval_rows.jsonl: and 50 more rows that disagree with training/evalsets/eval_v1.jsonl (not listed)",
    );
    expect(problems[1]?.line).toBe(1);
    expect(problems.at(-1)?.line).toBe(maxRegradeProblems);
    expect(notes).toEqual([]);
  });

  it("notes what it was not given: no evalset, no promoted config", () => {
    const notes: string[] = [];
    expect(
      verifyEvidence({ runVersion: "rt_test_v1", files: evidenceTexts(), onNote: (n) => notes.push(n) }),
    ).toEqual([]);
    expect(notes).toEqual([
      "eval_rows.jsonl was not re-graded: no evalset was given to verify against",
      'the promoted config "training/configs/best.yaml" (run_manifest.json config_path) was not checked: it was not given',
    ]);
  });

  it("reads whole-number row ids as the evalset's text ids, and a numeric expected_answer as its text", () => {
    const rows = [
      { id: 7, prediction: "<answer>13</answer>", expected_answer: 13, metrics: { answer_correctness: 1 } },
    ];
    const fixture = { rows, trials: trialsWithBest(1) };
    const problems = verifyEvidence({
      runVersion: "rt_test_v1",
      files: evidenceTexts(fixture),
      findRepoFile: find({
        "training/evalsets/eval_v1.jsonl": evalsetLine("7", "13"),
        "training/configs/best.yaml": repoTexts(fixture).promotedConfig?.text ?? "",
      }),
    });
    expect(problems).toEqual([]);
  });
});
