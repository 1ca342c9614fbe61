/**
 * release.yml works with immutable releases: it starts from a tag push or by hand (never
 * `release: published`, after which an immutable release takes no asset), runs the package
 * action with the tag and whether to publish, and its step that reads the event is run here
 * for real with bash, for each way it can start and for bad input.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot, runProcess } from "../actions/helpers.js";

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<
    string,
    { tags?: string[]; inputs?: Record<string, { required?: boolean; type?: string; default?: unknown }> }
  >;
  permissions: unknown;
  concurrency: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, { permissions: Record<string, string>; "runs-on": string; steps: Step[] }>;
}

const workflow = parse(
  readFileSync(path.join(repoRoot, ".github/workflows/release.yml"), "utf8"),
) as Workflow;
const job = Object.values(workflow.jobs)[0] as Workflow["jobs"][string];
const resolve = job.steps.find((s) => s.id === "release") as Step;

describe("release.yml", () => {
  it("starts on a tag evidence/* or by hand, never on release: published", () => {
    expect(Object.keys(workflow.on).sort()).toEqual(["push", "workflow_dispatch"]);
    expect(workflow.on.push).toEqual({ tags: ["evidence/*"] });
    const inputs = workflow.on.workflow_dispatch?.inputs ?? {};
    expect(inputs["run-version"]).toMatchObject({ required: true, type: "string" });
    expect(inputs.tag).toMatchObject({ required: false, type: "string" });
    expect(inputs.publish).toMatchObject({ type: "boolean", default: true });
  });

  it("reads only at the top; the one job writes contents, nothing else, on a GitHub-hosted runner", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(Object.keys(workflow.jobs)).toHaveLength(1);
    expect(job.permissions).toEqual({ contents: "write" });
    expect(job["runs-on"]).toBe("ubuntu-latest");
  });

  it("one run per tag at a time, none cancelled", () => {
    expect(workflow.concurrency["cancel-in-progress"]).toBe(false);
    expect(workflow.concurrency.group).toContain("github.ref_name");
    expect(workflow.concurrency.group).toContain("format('evidence/{0}', inputs.run-version)");
  });

  it("runs the package action with the tag and whether to publish, from the step that checks them", () => {
    const pkg = job.steps.find((s) => s.uses === "./actions/package") as Step;
    expect(pkg.with).toEqual({
      "run-dir": `\${{ steps.release.outputs.run-dir }}`,
      "release-tag": `\${{ steps.release.outputs.tag }}`,
      "release-publish": `\${{ steps.release.outputs.publish }}`,
    });
    expect(job.steps.indexOf(resolve)).toBeLessThan(job.steps.indexOf(pkg));
  });
});

describe("release.yml's step that reads the event, run with bash as the runner runs it", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tunix-rt-release-step-"));
    await writeFile(path.join(dir, "step.sh"), resolve.run as string);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  /** Runs the step with the env the runner would give it for an event. */
  async function step(event: Record<string, string>) {
    const output = path.join(dir, `output-${++n}`);
    await writeFile(output, "");
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, GITHUB_OUTPUT: output };
    for (const name of Object.keys(resolve.env ?? {})) env[name] = event[name] ?? "";
    // The runner's default shell for run: on Linux is `bash -e {0}`.
    const ran = await runProcess(["bash", "-e", path.join(dir, "step.sh")], { cwd: dir, env });
    const outputs = Object.fromEntries(
      (await readFile(output, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    return { code: ran.code, stdout: ran.stdout, outputs };
  }

  it("a pushed tag evidence/<run_version>: that folder, that tag, published", async () => {
    const ran = await step({ EVENT: "push", REF_NAME: "evidence/m34_v1" });
    expect(ran.code, ran.stdout).toBe(0);
    expect(ran.outputs).toEqual({
      "run-dir": "submission_runs/m34_v1",
      tag: "evidence/m34_v1",
      publish: "true",
    });
  });

  it("by hand: the run-version input, the tag evidence/<run_version> unless given, publish as asked", async () => {
    const plain = await step({ EVENT: "workflow_dispatch", RUN_VERSION: "m34_v1", PUBLISH: "true" });
    expect(plain.outputs).toEqual({
      "run-dir": "submission_runs/m34_v1",
      tag: "evidence/m34_v1",
      publish: "true",
    });
    const draft = await step({
      EVENT: "workflow_dispatch",
      RUN_VERSION: "m34_v1",
      TAG: "evidence/m34_v1-2",
      PUBLISH: "false",
    });
    expect(draft.outputs).toEqual({
      "run-dir": "submission_runs/m34_v1",
      tag: "evidence/m34_v1-2",
      publish: "false",
    });
  });

  it("refuses, with one line saying what to do, a run_version or tag that could leave the folder or break the output", async () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ EVENT: "workflow_dispatch", RUN_VERSION: "../etc", PUBLISH: "true" }, /no valid run_version/],
      [
        { EVENT: "workflow_dispatch", RUN_VERSION: "m34_v1\nother=1", PUBLISH: "true" },
        /no valid run_version/,
      ],
      [{ EVENT: "workflow_dispatch", RUN_VERSION: "", PUBLISH: "true" }, /no valid run_version/],
      [
        { EVENT: "workflow_dispatch", RUN_VERSION: "m34_v1", TAG: "evidence/x\nrun-dir=/", PUBLISH: "true" },
        /no valid tag name/,
      ],
      [
        { EVENT: "workflow_dispatch", RUN_VERSION: "m34_v1", TAG: "evidence/a..b", PUBLISH: "true" },
        /no valid tag/,
      ],
      [
        { EVENT: "workflow_dispatch", RUN_VERSION: "m34_v1", PUBLISH: "yes" },
        /publish input must be true or false/,
      ],
      [{ EVENT: "push", REF_NAME: "v1.0.0" }, /push a tag evidence\/<run_version>/],
    ];
    for (const [event, said] of bad) {
      const ran = await step(event);
      expect(ran.code, JSON.stringify(event)).toBe(1);
      expect(ran.outputs, JSON.stringify(event)).toEqual({});
      const errors = ran.stdout.split("\n").filter((l) => l.startsWith("::error::"));
      expect(errors, JSON.stringify(event)).toHaveLength(1);
      expect(errors[0], JSON.stringify(event)).toMatch(said);
    }
  });
});
