/**
 * evidence.yml verifies what a pull request brings with the BASE commit's verifier and
 * truth: triggered by pull_request_target on every pull request (no filter), the base commit
 * (the pull request's base.sha) checked out at the workspace root for ./actions/verify-evidence,
 * the head never checked out (the action reads its commit as data), read-only permissions
 * but commit statuses, no secrets, a GitHub-hosted runner. The rules live in ./pr-target.ts;
 * each is shown to fail on a workflow that breaks it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../actions/helpers.js";
import { auditPullRequestTarget } from "./pr-target.js";

const text = readFileSync(path.join(repoRoot, ".github/workflows/evidence.yml"), "utf8");

interface Step {
  uses?: string;
  run?: string;
  if?: string;
  "timeout-minutes"?: number;
  with?: Record<string, unknown>;
}
const workflow = parse(text) as {
  on: Record<string, unknown>;
  permissions: unknown;
  jobs: Record<
    string,
    { permissions: unknown; "runs-on": unknown; steps: Step[]; "timeout-minutes": number }
  >;
};
const [, job] = Object.entries(workflow.jobs)[0] as [string, (typeof workflow.jobs)[string]];
const checkouts = job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions, not templates.
describe("evidence.yml", () => {
  it("is triggered by pull_request_target only, on every pull request (no paths filter)", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request_target"]);
    expect(workflow.on.pull_request_target).toBeNull();
  });

  it("has one job that reads contents and writes commit statuses only, on a GitHub-hosted runner, without secrets", () => {
    expect(Object.keys(workflow.jobs)).toHaveLength(1);
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toEqual({ contents: "read", statuses: "write" });
    expect(job["runs-on"]).toBe("ubuntu-latest");
    expect(text).not.toMatch(/\bsecrets\./);
  });

  it("checks out the pull request's base commit, and never its head", () => {
    expect(checkouts).toHaveLength(1);
    expect(checkouts[0]?.with).toEqual({
      ref: "${{ github.event.pull_request.base.sha }}",
      "persist-credentials": false,
    });
    expect(text).not.toMatch(/\$\{\{\s*github\.sha\s*\}\}/);
  });

  it("runs the base checkout's verify-evidence on the pull request, within a timeout of its own", () => {
    const verify = job.steps.filter((s) => s.uses?.endsWith("/verify-evidence"));
    expect(verify).toHaveLength(1);
    expect(verify[0]?.uses).toBe("./actions/verify-evidence");
    expect(verify[0]?.with).toEqual({
      "pull-request": "${{ github.event.pull_request.number }}",
      "base-sha": "${{ github.event.pull_request.base.sha }}",
      "head-sha": "${{ github.event.pull_request.head.sha }}",
      // The sweep workflow of this repository signs its evidence: the check requires it.
      "require-attestation": true,
      "signer-workflow": ".github/workflows/sweep.yml",
    });
    // A hang fails the step before the job's own timeout, so the status step still posts.
    expect(verify[0]?.["timeout-minutes"]).toBeLessThan(job["timeout-minutes"]);
    expect(job.steps.filter((s) => s.uses?.startsWith("./")).map((s) => s.uses)).toEqual([
      "./actions/verify-evidence",
    ]);
  });

  it("runs nothing from the pull request (the audit of pr-target.ts finds nothing)", () => {
    expect(auditPullRequestTarget(text)).toEqual([]);
  });

  it("says in its text why it is built so, citing GitHub's guidance", () => {
    expect(text).toContain("Preventing pwn requests");
    expect(text).toContain(
      "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/",
    );
    expect(text).toMatch(/No paths: filter/);
    expect(text).toMatch(/never checked out/);
  });
});

describe("the pull_request_target rules fail workflows that break them", () => {
  const broken: Array<[string, (t: string) => string, RegExp]> = [
    [
      "also on pull_request",
      (t) => t.replace("on:\n  pull_request_target:", "on:\n  pull_request:\n  pull_request_target:"),
      /on: pull_request too/,
    ],
    [
      "a paths filter (a required check would stay pending)",
      (t) =>
        t.replace(
          "on:\n  pull_request_target:\n",
          "on:\n  pull_request_target:\n    paths: [submission_runs/**]\n",
        ),
      /pull_request_target\.paths: a required check whose workflow is skipped stays pending/,
    ],
    [
      "write permissions",
      (t) =>
        t.replace(
          "    permissions:\n      contents: read",
          "    permissions:\n      contents: read\n      checks: write",
        ),
      /permissions: must be read-only, but for statuses: write/,
    ],
    [
      "a self-hosted runner",
      (t) => t.replace("runs-on: ubuntu-latest", "runs-on: [self-hosted, gpu]"),
      /GitHub-hosted runner/,
    ],
    [
      "a secret",
      (t) => t.replace("          GH_TOKEN: ${{ github.token }}", "          GH_TOKEN: ${{ secrets.PAT }}"),
      /secrets/,
    ],
    [
      "the base checkout at github.sha (the default branch's tip)",
      (t) => t.replace("ref: ${{ github.event.pull_request.base.sha }}", "ref: ${{ github.sha }}"),
      /base checkout's ref/,
    ],
    [
      "a checkout of the pull request's head",
      (t) =>
        t.replace(
          "      - name: Verify the evidence",
          "      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n          path: pr\n          persist-credentials: false\n      - name: Verify the evidence",
        ),
      /checks out the pull request's head/,
    ],
    [
      "npm in a run step",
      (t) => t.replace("          state=failure\n", "          npm ci\n          state=failure\n"),
      /runs a program/,
    ],
  ];
  for (const [what, edit, finding] of broken) {
    it(what, () => {
      const edited = edit(text);
      expect(edited, "the edit applies").not.toBe(text);
      expect(auditPullRequestTarget(edited).join("\n")).toMatch(finding);
    });
  }

  it("a workflow not on pull_request_target gives no finding", () => {
    expect(auditPullRequestTarget("on: push\njobs: {}\n")).toEqual([]);
  });
});
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions
