/**
 * One check name for verify's verdict on evidence, so a branch protection rule (or ruleset)
 * can require ONE check: evidence.yml posts its verdict as a commit status of that name on the
 * pull request's head commit, and the aggregate step names its own check run (or commit
 * status) by the score action's `check-name` input. They must be the same string, and the
 * evidence job's own check (named after the job) must not be it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { scoreDefaults } from "../../src/actions/score/inputs.js";
import { repoRoot } from "../actions/helpers.js";

const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  name?: string;
  strategy?: unknown;
  steps?: Step[];
}

const evidence = parse(read(".github/workflows/evidence.yml")) as { jobs: Record<string, Job> };

/** evidence.yml's verify job and the step that posts its verdict as a commit status. */
function verdict(): { job: Job & { id: string }; step: Step } {
  const verifying = Object.entries(evidence.jobs).filter(([, job]) =>
    (job.steps ?? []).some((step) => step.uses?.endsWith("/actions/verify-evidence")),
  );
  expect(verifying, "evidence.yml has one job that runs verify-evidence").toHaveLength(1);
  const [id, job] = verifying[0] as [string, Job];
  const posting = (job.steps ?? []).filter((step) => /\/statuses\//.test(step.run ?? ""));
  expect(posting, "one step posts the commit status").toHaveLength(1);
  return { job: { ...job, id }, step: posting[0] as Step };
}

/**
 * Runs the verdict step's script as the runner would, with a `gh` on PATH that records its
 * arguments: what it posts for the verify step's outcome and outputs.
 */
function posted(verify: { outcome: string; verdict?: string; description?: string }): string[] {
  const { step } = verdict();
  const dir = mkdtempSync(path.join(tmpdir(), "tunix-rt-verdict-"));
  const log = path.join(dir, "gh.log");
  writeFileSync(path.join(dir, "gh"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${log}"\n`, { mode: 0o755 });
  const env = {
    ...step.env,
    GH_TOKEN: "token",
    REPOSITORY: "octo/sweeps",
    HEAD_SHA: "c".repeat(40),
    OUTCOME: verify.outcome,
    VERDICT: verify.verdict ?? "",
    DESCRIPTION: verify.description ?? "",
    RUN_URL: "https://github.com/octo/sweeps/actions/runs/1",
  };
  const ran = spawnSync("bash", ["-e", "-c", step.run ?? ""], {
    env: { PATH: `${dir}:${process.env.PATH}`, ...env },
    encoding: "utf8",
  });
  expect(ran.status, ran.stderr).toBe(0);
  return readFileSync(log, "utf8").trim().split("\n");
}

describe("the evidence check has one name", () => {
  const name = verdict().step.env?.CHECK_NAME as string;

  it("is tunix-rt / verify-evidence, posted on the pull request's head commit whatever happened before; the job's own check is named otherwise", () => {
    expect(name).toBe("tunix-rt / verify-evidence");
    const { job, step } = verdict();
    // A matrix would add its values to the job's check name: "name (a, b)".
    expect(job.strategy, "the verify job has no matrix").toBeUndefined();
    expect(job.name ?? job.id).not.toBe(name);
    // biome-ignore-start lint/suspicious/noTemplateCurlyInString: workflow expressions
    expect(step.env?.HEAD_SHA).toBe("${{ github.event.pull_request.head.sha }}");
    // A verify step that crashed or hung past its timeout still gets a failure posted.
    expect(step.if).toBe("${{ always() }}");
    // biome-ignore-end lint/suspicious/noTemplateCurlyInString: workflow expressions
    const args = posted({ outcome: "success", verdict: "valid", description: "the evidence verifies" });
    expect(args.slice(0, 3)).toEqual(["api", "--method", "POST"]);
    expect(args).toContain(`repos/octo/sweeps/statuses/${"c".repeat(40)}`);
    expect(args).toContain(`context=${name}`);
    expect(args).toContain("description=the evidence verifies");
  });

  it("posts success only when verify ran to its end and found valid evidence or none", () => {
    const state = (outcome: string, verdictOut?: string) =>
      posted({ outcome, ...(verdictOut ? { verdict: verdictOut } : {}) }).find((a) => a.startsWith("state="));
    expect(state("success", "valid")).toBe("state=success");
    expect(state("success", "no-evidence")).toBe("state=success");
    expect(state("failure", "invalid")).toBe("state=failure");
    // Crashed, timed out or cancelled: no verdict, so failure, never pending.
    expect(state("failure")).toBe("state=failure");
    expect(state("cancelled")).toBe("state=failure");
    expect(state("success")).toBe("state=failure");
    const crashed = posted({ outcome: "failure" }).find((a) => a.startsWith("description="));
    expect(crashed).toBe("description=the evidence check did not finish: see the run");
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
