/**
 * verify-evidence as evidence.yml runs it: the workflow's own checkout (the base commit) at the
 * workspace root, the pull request's head checked out as data into a folder of its own, and
 * `working-directory` naming that folder. Paths, the repository files the evidence names (the
 * evalset, the promoted config) and the annotations are then the pull request's, and nothing
 * outside its checkout is read. The committed bundle runs as the runner runs it.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unpackReference } from "../helpers/example-repo.js";
import { runBundle } from "./helpers.js";

const verify = "dist/verify-evidence.js";
let workspace: string;

beforeAll(async () => {
  // The base checkout holds no evalset and no promoted config: only pr/ does.
  workspace = await mkdtemp(path.join(tmpdir(), "tunix-rt-pr-checkout-"));
  await unpackReference(path.join(workspace, "pr"));
  const broken = path.join(workspace, "pr/submission_runs/broken_v1");
  await mkdir(broken, { recursive: true });
  await writeFile(path.join(broken, "eval_rows.jsonl"), '{"id": "a"}\n{oops\n');
  const runner = path.join(workspace, "runner-files");
  await mkdir(runner, { recursive: true });
  await writeFile(path.join(runner, "run_manifest.json"), '{"secret": "RUNNER-ONLY"}\n');
  await symlink(runner, path.join(workspace, "pr/submission_runs/linked_v1"));
});

afterAll(async () => {
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe("verify-evidence with working-directory: the pull request's checkout", () => {
  it("paths and the files the evidence names are read in the checkout", async () => {
    const step = await runBundle(
      verify,
      { path: "submission_runs/example_v1", "working-directory": "pr" },
      { workspace },
    );
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.outputs).toMatchObject({ valid: "true", problems: "0", verdict: "valid" });
    // The evalset was there to re-grade against (no note that it was not).
    expect(step.stdout).not.toContain("not re-graded");
    expect(step.summary).toContain("Evidence is valid: `submission_runs/example_v1`");
  });

  it("annotations name the files as the pull request has them (no checkout folder in front)", async () => {
    const step = await runBundle(
      verify,
      { path: "submission_runs/broken_v1", "working-directory": "pr" },
      { workspace },
    );
    expect(step.code).toBe(1);
    const files = step.errors.map((e) => e.properties.file).filter(Boolean);
    expect(files).toContain("submission_runs/broken_v1/eval_rows.jsonl");
    expect(files.every((f) => !f?.startsWith("pr/"))).toBe(true);
  });

  it("an evidence folder that links out of the checkout is refused, its files unread", async () => {
    const step = await runBundle(
      verify,
      { path: "submission_runs/linked_v1", "working-directory": "pr" },
      { workspace },
    );
    expect(step.code).toBe(1);
    expect(step.errors[0]?.properties.file).toBe("submission_runs/linked_v1");
    expect(step.errors[0]?.message).toMatch(
      /^is a symbolic link leading out of the repository \(.*\); not read$/,
    );
    expect(step.stdout + step.summary).not.toContain("RUNNER-ONLY");
  });

  it("a path that leaves the checkout is refused", async () => {
    const step = await runBundle(
      verify,
      { path: "../runner-files", "working-directory": "pr" },
      { workspace },
    );
    expect(step.code).toBe(1);
    expect(step.errors[0]?.message).toBe("is outside the working directory pr");
    expect(step.errors[0]?.properties.file).toBe("../runner-files");
    expect(step.stdout + step.summary).not.toContain("RUNNER-ONLY");
  });

  it("a working-directory that is no folder: one line naming the input", async () => {
    const step = await runBundle(
      verify,
      { path: "submission_runs/example_v1", "working-directory": "nope" },
      { workspace },
    );
    expect(step.code).toBe(1);
    expect(step.errors.at(-1)?.message).toBe(
      'with.working-directory: "nope" is not a folder (no such file or directory); expected the checkout to verify in, relative to the workspace',
    );
  });
});
