/**
 * The workflows build and test on the Node version the actions run on: every action.yml says
 * `runs.using: node<N>`, and every actions/setup-node step of the workflows (check-dist.yml,
 * which rebuilds dist/, above all) sets node-version N.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../actions/helpers.js";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");
const actionFiles = [
  "action.yml",
  ...readdirSync(path.join(repoRoot, "actions")).map((name) => `actions/${name}/action.yml`),
];

/** The Node major version of every action's runtime (`node24` -> "24"). */
function actionNodeVersions(): Set<string> {
  return new Set(
    actionFiles.map((file) => {
      const using = (parse(read(file)) as { runs: { using: string } }).runs.using;
      const match = /^node(\d+)$/.exec(using);
      if (!match) throw new Error(`${file}: runs.using is ${using}; expected node<N>`);
      return match[1] as string;
    }),
  );
}

/** Every setup-node step of a workflow, as `jobs.<id>.steps[i]` and its node-version. */
function setupNodeSteps(file: string): Array<{ where: string; version: string }> {
  const workflow = parse(read(`.github/workflows/${file}`)) as {
    jobs: Record<string, { steps?: Array<{ uses?: string; with?: Record<string, unknown> }> }>;
  };
  const found: Array<{ where: string; version: string }> = [];
  for (const [id, job] of Object.entries(workflow.jobs)) {
    (job.steps ?? []).forEach((step, i) => {
      if (step.uses?.startsWith("actions/setup-node@"))
        found.push({ where: `${file} jobs.${id}.steps[${i}]`, version: String(step.with?.["node-version"]) });
    });
  }
  return found;
}

describe("one Node version: the actions' runtime", () => {
  const versions = actionNodeVersions();

  it("every action runs on the same Node", () => {
    expect([...versions]).toEqual(["24"]);
  });

  it("check-dist.yml rebuilds dist/ on it", () => {
    const steps = setupNodeSteps("check-dist.yml");
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) expect(step.version, step.where).toBe([...versions][0]);
  });

  it("so does every other workflow that sets up Node", () => {
    const files = readdirSync(path.join(repoRoot, ".github/workflows")).filter((f) => /\.ya?ml$/.test(f));
    for (const file of files)
      for (const step of setupNodeSteps(file)) expect(step.version, step.where).toBe([...versions][0]);
  });
});
