/**
 * What each kind of token can do with verify's verdict, against the REST stand-in, which
 * answers as GitHub does for the token it is given: a personal access token (`ghp_`,
 * `github_pat_`) cannot create check runs (403 "You must authenticate via a GitHub App.") and
 * its commits through the Git database API are not signed; GITHUB_TOKEN and App tokens
 * (`ghs_`) can, and theirs are. And the verdict is reported only on the head of an open
 * evidence pull request, never on the base branch.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Problem } from "../../src/core/errors.js";
import { evidenceBranch } from "../../src/core/evidence/changes.js";
import { type ReportCheckOptions, reportCheck } from "../../src/github/evidence-check.js";
import { type PublishEvidenceOptions, publishEvidence } from "../../src/github/evidence-pr.js";
import { createOctokit, type GitHubClient } from "../../src/github/octokit.js";
import { evidenceFiles, type Harness, startHarness } from "./helpers.js";

/** A fine-grained personal access token's shape (never a real one). */
const patToken =
  "github_pat_11AAAAAAA0123456789abc_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";

let h: Harness;
let pat: GitHubClient;
let head: string;
beforeEach(async () => {
  h = await startHarness();
  pat = createOctokit({ token: patToken, baseUrl: h.standIn.apiUrl, retryAfterBaseMs: 1 });
  head = h.standIn.repo().commitFiles("tunix-rt/evidence/m34_v1", { "x.json": "{}" }, "evidence");
});
afterEach(async () => {
  await h.standIn.close();
});

const problems: Problem[] = [
  { file: "submission_runs/m34_v1/run_manifest.json", path: "model_id", message: "missing" },
];

function checkOptions(overrides: Partial<ReportCheckOptions> = {}): ReportCheckOptions {
  return {
    owner: "octo",
    repo: "sweeps",
    headSha: head,
    name: "tunix-rt / verify-evidence",
    valid: false,
    summary: "## 1 problem",
    problems,
    detailsUrl: "https://github.com/octo/sweeps/actions/runs/7",
    ...overrides,
  };
}

function publishOptions(overrides: Partial<PublishEvidenceOptions> = {}): PublishEvidenceOptions {
  return {
    owner: "octo",
    repo: "sweeps",
    base: "main",
    runVersion: "m34_v1",
    files: evidenceFiles({ runVersion: "m34_v1" }),
    title: "tunix-rt evidence m34_v1",
    body: "leaderboard",
    commitMessage: "tunix-rt: evidence for m34_v1",
    ...overrides,
  };
}

describe("reportCheck with a personal access token", () => {
  it("check runs are refused (only Apps create them): verify goes to a commit status, and the result says why", async () => {
    const result = await reportCheck(pat, checkOptions());
    const repo = h.standIn.repo();
    expect(repo.checkRuns).toEqual([]);
    expect(repo.statuses).toHaveLength(1);
    expect(repo.statuses[0]).toMatchObject({
      sha: head,
      state: "failure",
      context: "tunix-rt / verify-evidence",
    });
    expect(result.kind).toBe("commit-status");
    expect(result.url).toBe("https://github.com/octo/sweeps/actions/runs/7");
    expect(result.note).toMatch(
      /^check runs were refused \(GitHub answered 403: You must authenticate via a GitHub App\.\)/,
    );
    expect(result.note).toContain('commit status "tunix-rt / verify-evidence"');
    expect(result.note).not.toMatch(/\n/);
    h.standIn.assertClean();
  });

  it("statuses refused too (no statuses: write): nothing is reported, no error, and the note names the permission", async () => {
    h.standIn.inject("repos/create-commit-status", {
      status: 403,
      message: "Resource not accessible by personal access token",
    });
    const result = await reportCheck(pat, checkOptions());
    expect(result).toMatchObject({ kind: "none", id: null, url: null });
    expect(result.note).toMatch(/verify was not reported/);
    expect(result.note).toContain('"statuses: write"');
    expect(result.note).toContain("Commit statuses");
    expect(result.note).not.toMatch(/\n/);
    expect(h.standIn.repo().statuses).toEqual([]);
    h.standIn.assertClean();
  });

  it("a 404 on the status (a fine-grained token without access to commit statuses) is the same: reported as none", async () => {
    h.standIn.inject("repos/create-commit-status", { status: 404 });
    const result = await reportCheck(pat, checkOptions());
    expect(result.kind).toBe("none");
    expect(result.note).toContain('"statuses: write"');
    h.standIn.assertClean();
  });

  it("an error that is no permission problem still fails (a commit GitHub does not know)", async () => {
    await expect(reportCheck(pat, checkOptions({ headSha: "0".repeat(40) }))).rejects.toThrow(/422/);
  });
});

describe("reportCheck with GITHUB_TOKEN or an App token", () => {
  it("creates the check run, with no note", async () => {
    const result = await reportCheck(h.octokit, checkOptions());
    expect(result.kind).toBe("check-run");
    expect(result.note).toBeUndefined();
    expect(h.standIn.repo().checkRuns).toHaveLength(1);
    h.standIn.assertClean();
  });
});

describe("the evidence commit, by token", () => {
  it("GITHUB_TOKEN / App: GitHub signs it; a personal access token: not signed", async () => {
    const byApp = await publishEvidence(h.octokit, publishOptions());
    expect(h.standIn.repo().commit(byApp.headSha).verified).toBe(true);
    const byPat = await publishEvidence(
      pat,
      publishOptions({
        runVersion: "m35_v1",
        files: evidenceFiles({ runVersion: "m35_v1" }),
      }),
    );
    expect(h.standIn.repo().commit(byPat.headSha).verified).toBe(false);
    h.standIn.assertClean();
  });
});

describe("publishEvidence says whether a pull request is open at headSha", () => {
  it("open after creating or updating it", async () => {
    const result = await publishEvidence(
      h.octokit,
      publishOptions({ runVersion: "m36_v1", files: evidenceFiles({ runVersion: "m36_v1" }) }),
    );
    expect(result.operation).toBe("created");
    expect(result.open).toBe(true);
    const again = await publishEvidence(
      h.octokit,
      publishOptions({ runVersion: "m36_v1", files: evidenceFiles({ runVersion: "m36_v1" }) }),
    );
    expect(again).toMatchObject({ operation: "unchanged", open: true });
  });

  it("not open when the base already holds the evidence (merged, branch deleted): headSha is the base's head", async () => {
    const files = evidenceFiles({ runVersion: "m37_v1" });
    const first = await publishEvidence(h.octokit, publishOptions({ runVersion: "m37_v1", files }));
    const repo = h.standIn.repo();
    repo.mergePull(first.number as number);
    repo.refs.delete(`refs/heads/${evidenceBranch("m37_v1")}`);
    const again = await publishEvidence(h.octokit, publishOptions({ runVersion: "m37_v1", files }));
    expect(again).toMatchObject({ operation: "unchanged", committed: false, open: false });
    expect(again.headSha).toBe(repo.branchHead("main"));
  });

  it("not open when the merged branch still exists and holds nothing new", async () => {
    const files = evidenceFiles({ runVersion: "m38_v1" });
    const first = await publishEvidence(h.octokit, publishOptions({ runVersion: "m38_v1", files }));
    h.standIn.repo().mergePull(first.number as number);
    const again = await publishEvidence(h.octokit, publishOptions({ runVersion: "m38_v1", files }));
    expect(again).toMatchObject({ operation: "unchanged", open: false, number: first.number });
    h.standIn.assertClean();
  });
});
