import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Problem } from "../../src/core/errors.js";
import { type ReportCheckOptions, reportCheck } from "../../src/github/evidence-check.js";
import { type Harness, startHarness } from "./helpers.js";

let h: Harness;
let head: string;
beforeEach(async () => {
  h = await startHarness();
  head = h.standIn.repo().commitFiles("tunix-rt/evidence/m34_v1", { "x.json": "{}" }, "evidence");
});
afterEach(async () => {
  await h.standIn.close();
});

const problem = (i: number): Problem => ({
  file: "submission_runs/m34_v1/eval_rows.jsonl",
  line: i + 1,
  path: "metrics.answer_correctness",
  message: `got ${i}; expected 0 or 1`,
});

function options(overrides: Partial<ReportCheckOptions> = {}): ReportCheckOptions {
  return {
    owner: "octo",
    repo: "sweeps",
    headSha: head,
    name: "tunix-rt verify-evidence",
    valid: false,
    summary: "## 2 problems",
    problems: [
      problem(0),
      { file: "submission_runs/m34_v1/run_manifest.json", path: "model_id", message: "missing" },
    ],
    detailsUrl: "https://github.com/octo/sweeps/actions/runs/7",
    ...overrides,
  };
}

describe("reportCheck", () => {
  it("creates a completed check run with one annotation per problem (line when known, else 1)", async () => {
    const result = await reportCheck(h.octokit, options());
    const run = h.standIn.repo().checkRuns[0];
    expect(result).toEqual({
      kind: "check-run",
      id: run?.id,
      url: `https://github.com/octo/sweeps/runs/${run?.id}`,
    });
    expect(run).toMatchObject({
      headSha: head,
      status: "completed",
      conclusion: "failure",
      name: "tunix-rt verify-evidence",
    });
    expect(run?.output).toMatchObject({ title: "2 problems in the evidence", summary: "## 2 problems" });
    expect(run?.annotations).toEqual([
      {
        path: "submission_runs/m34_v1/eval_rows.jsonl",
        start_line: 1,
        end_line: 1,
        annotation_level: "failure",
        message: "metrics.answer_correctness: got 0; expected 0 or 1",
        title: "tunix-rt verify",
      },
      {
        path: "submission_runs/m34_v1/run_manifest.json",
        start_line: 1,
        end_line: 1,
        annotation_level: "failure",
        message: "model_id: missing",
        title: "tunix-rt verify",
      },
    ]);
    h.standIn.assertClean();
  });

  it("a valid folder: conclusion success, no annotations", async () => {
    await reportCheck(h.octokit, options({ valid: true, problems: [], summary: "all good" }));
    expect(h.standIn.repo().checkRuns[0]).toMatchObject({ conclusion: "success", annotations: [] });
    h.standIn.assertClean();
  });

  it("more than 50 problems: 50 with the creation, the rest in batches of 50 through updates", async () => {
    const problems = Array.from({ length: 123 }, (_, i) => problem(i));
    await reportCheck(h.octokit, options({ problems }));
    const run = h.standIn.repo().checkRuns[0];
    expect(run?.annotations).toHaveLength(123);
    expect(run?.annotations.map((a) => a.start_line)).toEqual(problems.map((p) => p.line));
    expect(h.standIn.count("checks/create")).toBe(1);
    expect(h.standIn.count("checks/update")).toBe(2);
    h.standIn.assertClean();
  });

  it("caps annotations at maxAnnotations (the job summary lists every problem)", async () => {
    const problems = Array.from({ length: 80 }, (_, i) => problem(i));
    await reportCheck(h.octokit, options({ problems, maxAnnotations: 60 }));
    expect(h.standIn.repo().checkRuns[0]?.annotations).toHaveLength(60);
    h.standIn.assertClean();
  });

  it("403 on check runs (no checks: write): falls back to a commit status", async () => {
    h.standIn.inject("checks/create", { status: 403 });
    const result = await reportCheck(h.octokit, options());
    const status = h.standIn.repo().statuses[0];
    expect(result).toMatchObject({
      kind: "commit-status",
      id: status?.id,
      url: "https://github.com/octo/sweeps/actions/runs/7",
    });
    expect(result.note).toMatch(
      /^check runs were refused \(GitHub answered 403: Resource not accessible by integration\)/,
    );
    expect(status).toMatchObject({
      sha: head,
      state: "failure",
      context: "tunix-rt verify-evidence",
      targetUrl: "https://github.com/octo/sweeps/actions/runs/7",
    });
    expect(status?.description?.length).toBeLessThanOrEqual(140);
    expect(status?.description).toMatch(/^2 problems in the evidence: submission_runs/);
    h.standIn.assertClean();
  });

  it("403 on both: nothing reported, no error; the note names checks: write and statuses: write", async () => {
    h.standIn.inject("checks/create", { status: 403 });
    h.standIn.inject("repos/create-commit-status", { status: 403 });
    const result = await reportCheck(h.octokit, options());
    expect(result).toMatchObject({ kind: "none", id: null, url: null });
    expect(result.note).toContain('"checks: write"');
    expect(result.note).toContain('"statuses: write"');
    h.standIn.assertClean();
  });

  it("an unknown commit is an error (422 from GitHub), not a fallback", async () => {
    const error = await reportCheck(h.octokit, options({ headSha: "0".repeat(40) })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /creating the check run in octo\/sweeps failed: GitHub answered 422 \(No commit found/,
    );
    h.standIn.assertClean();
  });

  it("makes absolute problem paths relative to repoRoot and redacts secrets", async () => {
    await reportCheck(
      h.octokit,
      options({
        repoRoot: "/work/repo",
        secrets: ["s3cr3t-value"],
        summary: "token s3cr3t-value",
        problems: [
          { file: "/work/repo/submission_runs/m34_v1/best_params.json", path: "x", message: "s3cr3t-value" },
        ],
      }),
    );
    const run = h.standIn.repo().checkRuns[0];
    expect(run?.output.summary).toBe("token ***");
    expect(run?.annotations[0]).toMatchObject({
      path: "submission_runs/m34_v1/best_params.json",
      message: "x: ***",
    });
    h.standIn.assertClean();
  });
});
