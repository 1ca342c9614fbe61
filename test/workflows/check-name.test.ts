/**
 * One check name for verify's verdict on evidence, so a branch protection rule (or ruleset)
 * can require ONE check: the check run GitHub creates for evidence.yml's job is named after
 * the job (its `name:`, else its id; the workflow's name is not part of it, the pull request
 * page only groups checks under it), and the aggregate step names its own check run (or
 * commit status) by the score action's `check-name` input. They must be the same string.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { scoreDefaults } from "../../src/actions/score/inputs.js";
import { repoRoot } from "../actions/helpers.js";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

interface Job {
  name?: string;
  strategy?: unknown;
  steps?: Array<{ uses?: string; with?: Record<string, unknown> }>;
}

/** The check run name GitHub gives the evidence workflow's verify job. */
function evidenceCheckName(): string {
  const workflow = parse(read(".github/workflows/evidence.yml")) as { jobs: Record<string, Job> };
  const verifying = Object.entries(workflow.jobs).filter(([, job]) =>
    (job.steps ?? []).some((step) => step.uses?.endsWith("/actions/verify-evidence")),
  );
  expect(verifying, "evidence.yml has one job that runs verify-evidence").toHaveLength(1);
  const [id, job] = verifying[0] as [string, Job];
  // A matrix would add its values to the name: "name (a, b)".
  expect(job.strategy, "the verify job has no matrix").toBeUndefined();
  expect(job.name ?? id, "the job's name is a plain string, no expression").not.toContain("${{");
  return job.name ?? id;
}

describe("the evidence check has one name", () => {
  const name = evidenceCheckName();

  it("is tunix-rt / verify-evidence", () => {
    expect(name).toBe("tunix-rt / verify-evidence");
  });

  it("the score action's check-name defaults to it: in the code, actions/score and the umbrella action", () => {
    expect(scoreDefaults["check-name"]).toBe(name);
    for (const file of ["actions/score/action.yml", "action.yml"]) {
      const action = parse(read(file)) as { inputs: Record<string, { default?: unknown }> };
      expect(action.inputs["check-name"]?.default, file).toBe(name);
    }
  });

  it("no workflow passes another check-name", () => {
    for (const file of readdirSync(path.join(repoRoot, ".github/workflows"))) {
      const workflow = parse(read(`.github/workflows/${file}`)) as { jobs: Record<string, Job> };
      for (const job of Object.values(workflow.jobs))
        for (const step of job.steps ?? [])
          if (step.with && "check-name" in step.with) expect(step.with["check-name"], file).toBe(name);
    }
  });
});
