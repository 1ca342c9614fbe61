/**
 * evidence.yml verifies a pull request's evidence with the BASE commit's verifier: triggered
 * by pull_request_target (the workflow file is the base branch's), the base commit checked
 * out at the workspace root for ./actions/verify-evidence, the pull request's head checked
 * out as data only into a folder of its own, read-only permissions, no secrets, a
 * GitHub-hosted runner, and nothing from the pull request's checkout run. The rules live in
 * ./pr-target.ts; each is shown to fail on a workflow that breaks it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../actions/helpers.js";
import { auditPullRequestTarget, prCheckouts } from "./pr-target.js";

const text = readFileSync(path.join(repoRoot, ".github/workflows/evidence.yml"), "utf8");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
const workflow = parse(text) as {
  on: Record<string, unknown>;
  permissions: unknown;
  jobs: Record<string, { permissions: unknown; "runs-on": unknown; steps: Step[] }>;
};
const [jobId, job] = Object.entries(workflow.jobs)[0] as [string, (typeof workflow.jobs)[string]];
const checkouts = job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));

describe("evidence.yml", () => {
  it("is triggered by pull_request_target only, on the evidence and config paths", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request_target"]);
    expect(workflow.on.pull_request_target).toEqual({
      paths: ["submission_runs/**", "training/configs/**", "training/**/*.yaml"],
    });
  });

  it("has one job that reads contents and writes commit statuses only, on a GitHub-hosted runner, without secrets", () => {
    expect(Object.keys(workflow.jobs)).toEqual([jobId]);
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toEqual({ contents: "read", statuses: "write" });
    expect(job["runs-on"]).toBe("ubuntu-latest");
    expect(text).not.toMatch(/\bsecrets\./);
  });

  it("checks out the base commit at the workspace root, then the pull request's head as data into its own folder", () => {
    expect(checkouts).toHaveLength(2);
    const [base, head] = checkouts as [Step, Step];
    expect(base.with).toEqual({ ref: `\${{ github.sha }}`, "persist-credentials": false });
    expect(head.with).toMatchObject({
      repository: `\${{ github.event.pull_request.head.repo.full_name }}`,
      ref: `\${{ github.event.pull_request.head.sha }}`,
      "persist-credentials": false,
    });
    expect(head.with?.path).toBe("pr");
    expect(prCheckouts(workflow)).toEqual([{ job: jobId, path: "pr" }]);
  });

  it("runs the base checkout's verify-evidence, with the pull request's folder as its working directory", () => {
    const verify = job.steps.filter((s) => s.uses?.endsWith("/verify-evidence"));
    expect(verify).toHaveLength(1);
    expect(verify[0]?.uses).toBe("./actions/verify-evidence");
    expect(verify[0]?.with?.["working-directory"]).toBe("pr");
    expect(job.steps.filter((s) => s.uses?.startsWith("./")).map((s) => s.uses)).toEqual([
      "./actions/verify-evidence",
    ]);
  });

  it("runs nothing from the pull request's checkout (the audit of pr-target.ts finds nothing)", () => {
    expect(auditPullRequestTarget(text)).toEqual([]);
  });

  it("says in its header why pull_request_target is safe, citing GitHub's guidance", () => {
    const header = text.slice(0, text.indexOf("\nname:"));
    expect(header).toContain("Preventing pwn requests");
    expect(header).toContain(
      "https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/",
    );
    expect(header).toMatch(/nothing\s+#?\s*from pr\/ runs/);
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
      (t) =>
        t.replace(
          "          working-directory: pr",
          `          working-directory: pr\n        env:\n          T: \${{ secrets.X }}`,
        ),
      /secrets/,
    ],
    [
      "credentials kept in the head checkout",
      (t) => t.replace(/(path: pr\n\s+)persist-credentials: false/, "$1persist-credentials: true"),
      /persist-credentials: false/,
    ],
    ["the head checked out at the root", (t) => t.replace("          path: pr\n", ""), /path of its own/],
    [
      "the base checkout at the branch, not the commit",
      (t) => t.replace(`ref: \${{ github.sha }}`, `ref: \${{ github.head_ref }}`),
      /base checkout's ref/,
    ],
    [
      "the pull request's action",
      (t) => t.replace("uses: ./actions/verify-evidence", "uses: ./pr/actions/verify-evidence"),
      /runs code from the pull request's checkout/,
    ],
    [
      "npm in its folder",
      (t) => t.replace('          changed=""', '          npm ci --prefix pr\n          changed=""'),
      /runs a program/,
    ],
    [
      "a script of its own",
      (t) => t.replace('          changed=""', '          ./pr/scripts/check.sh\n          changed=""'),
      /names the pull request's checkout/,
    ],
    [
      "a file named by a variable",
      (t) =>
        t.replace(
          '            all="$all submission_runs/$name"',
          '            "$dir/run.sh"\n            all="$all submission_runs/$name"',
        ),
      /named by a variable/,
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
