/**
 * Where the aggregate step (the committed bundle, run as the runner runs it, against the REST
 * stand-in) reports verify's verdict, by token and by pull request:
 *  - a personal access token cannot create check runs: a commit status, and the job summary
 *    says so;
 *  - a token that can create neither: a warning naming "statuses: write", and the step still
 *    succeeds (the evidence is committed and its pull request open);
 *  - no open pull request (the base branch already holds the evidence): no check and no
 *    status at all, so nothing lands on the base branch.
 */
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResultsStandIn } from "../github/stand-in/results.js";
import { RestStandIn } from "../github/stand-in/server.js";
import { makeWorkspace, parseAnnotations, runBundle } from "./helpers.js";

const appToken = "ghs_0123456789abcdefghijklmnopqrstuvwxyzAB";
const patToken =
  "github_pat_11AAAAAAA0123456789abc_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";
const runId = 5151;
const checkName = "tunix-rt / verify-evidence";

let workspace: string;
let standIn: RestStandIn;
/** The runner's artifact service: report.html is uploaded there. */
let results: ResultsStandIn;
let plan: Record<string, string>;

beforeAll(async () => {
  workspace = await makeWorkspace();
  standIn = await RestStandIn.start({ owner: "octo", repo: "sweeps" });
  results = await ResultsStandIn.start();
  const planned = await runBundle("dist/sweep.js", { mode: "plan", "num-samples": "2" }, { workspace });
  expect(planned.code, planned.stdout + planned.stderr).toBe(0);
  plan = planned.outputs;
  for (const entry of JSON.parse(plan.matrix as string).include) {
    const trial = await runBundle(
      "dist/sweep.js",
      { mode: "trial", trial: JSON.stringify(entry), upload: "false" },
      { workspace },
    );
    expect(trial.code, trial.stdout + trial.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await standIn?.close();
  await results?.close();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

/** The aggregate step with a token, on a GitHub-hosted runner whose API is the stand-in. */
function aggregate(token: string) {
  return runBundle(
    "dist/score.js",
    {
      mode: "aggregate",
      "sweep-id": plan["sweep-id"] as string,
      matrix: plan.matrix as string,
      download: "false",
      token,
      "create-pr": "true",
      base: "main",
    },
    {
      workspace,
      env: {
        GITHUB_API_URL: standIn.apiUrl,
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "octo/sweeps",
        GITHUB_RUN_ID: String(runId),
        GITHUB_REF_NAME: "main",
        ...results.envFor("b7a4e1f0-0000-4000-8000-000000000005"),
      },
    },
  );
}

describe("aggregate: where verify's verdict goes", { timeout: 60_000 }, () => {
  it("a personal access token: a commit status on the pull request's head, and the summary says why", async () => {
    const step = await aggregate(patToken);
    expect(step.code, step.stdout + step.stderr).toBe(0);
    standIn.assertClean();
    // The charts GitHub renders itself, and the links to the SVGs and to report.html.
    expect(step.summary).toContain("```mermaid\nxychart-beta");
    expect(step.summary).toMatch(
      /\[report\.html\]\(https:\/\/github\.com\/octo\/sweeps\/actions\/runs\/5151\/artifacts\/\d+\)/,
    );
    expect(step.summary).toMatch(
      /\[history\.svg\]\(https:\/\/github\.com\/octo\/sweeps\/blob\/tunix-rt\/evidence\/(\w+)\/submission_runs\/\1\/charts\/history\.svg\)/,
    );
    expect(results.artifactsOf("b7a4e1f0-0000-4000-8000-000000000005").map((a) => a.name)).toContain(
      `tunix-rt-report-${plan["sweep-id"]}`,
    );
    const repo = standIn.repo();
    const pull = repo.pulls.find((p) => p.number === Number(step.outputs["pr-number"]));
    expect(pull?.state).toBe("open");
    const head = repo.branchHead(pull?.headRef as string);
    expect(repo.checkRuns).toEqual([]);
    expect(repo.statuses).toEqual([
      expect.objectContaining({ sha: head, context: checkName, state: "success" }),
    ]);
    expect(step.outputs["check-url"]).toBe(`https://github.com/octo/sweeps/actions/runs/${runId}`);
    expect(step.summary).toContain(`commit status [\`${checkName}\`]`);
    expect(step.summary).toContain("You must authenticate via a GitHub App.");
    expect(parseAnnotations(step.stdout, "warning")).toEqual([]);
  });

  it("statuses refused as well: a warning naming statuses: write, and the step still succeeds", async () => {
    standIn.inject("repos/create-commit-status", {
      status: 403,
      message: "Resource not accessible by personal access token",
    });
    const step = await aggregate(patToken);
    expect(step.code, step.stdout + step.stderr).toBe(0);
    standIn.assertClean();
    expect(step.outputs["pr-url"]).not.toBe("");
    expect(step.outputs["check-url"]).toBe("");
    const warnings = parseAnnotations(step.stdout, "warning").map((w) => w.message);
    expect(warnings).toEqual([expect.stringContaining('grant the token "statuses: write"')]);
    expect(step.summary).toContain(":warning: Verify's verdict: verify was not reported");
    expect(standIn.repo().statuses).toHaveLength(1);
  });

  it("no open pull request (merged, branch deleted): nothing is reported on the base branch", async () => {
    const repo = standIn.repo();
    const pull = repo.pulls.find((p) => p.state === "open");
    repo.mergePull(pull?.number as number);
    repo.refs.delete(`refs/heads/${pull?.headRef}`);
    const before = { checks: repo.checkRuns.length, statuses: repo.statuses.length };
    const step = await aggregate(appToken);
    expect(step.code, step.stdout + step.stderr).toBe(0);
    standIn.assertClean();
    expect(step.outputs["pr-operation"]).toBe("unchanged");
    expect(step.outputs["check-url"]).toBe("");
    expect({ checks: repo.checkRuns.length, statuses: repo.statuses.length }).toEqual(before);
    expect(step.summary).toContain("not reported, since no evidence pull request is open");
  });

  it("GITHUB_TOKEN or an App token on an open pull request: the check run", async () => {
    // New evidence (another run_version) opens a new pull request.
    const step = await runBundle(
      "dist/score.js",
      {
        mode: "aggregate",
        "sweep-id": plan["sweep-id"] as string,
        matrix: plan.matrix as string,
        "run-version": "actions_v9",
        download: "false",
        token: appToken,
        "create-pr": "true",
        base: "main",
      },
      {
        workspace,
        env: {
          GITHUB_API_URL: standIn.apiUrl,
          GITHUB_SERVER_URL: "https://github.com",
          GITHUB_REPOSITORY: "octo/sweeps",
          GITHUB_RUN_ID: String(runId),
          GITHUB_REF_NAME: "main",
          ...results.envFor("b7a4e1f0-0000-4000-8000-000000000005"),
        },
      },
    );
    expect(step.code, step.stdout + step.stderr).toBe(0);
    standIn.assertClean();
    const repo = standIn.repo();
    expect(repo.checkRuns.at(-1)).toMatchObject({
      name: checkName,
      headSha: repo.branchHead("tunix-rt/evidence/actions_v9"),
    });
    expect(step.summary).toContain(`check run [\`${checkName}\`]`);
  });
});
