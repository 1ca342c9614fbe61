import { appendFile, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { exampleRepo } from "./helpers/example-repo.js";

const twoTrials = (text: string) => text.replace("num_samples: 8", "num_samples: 2");
const manifestOf = async (dir: string) =>
  JSON.parse(await readFile(path.join(dir, "submission_runs/example_v1/run_manifest.json"), "utf8"));

describe("run_manifest.json records whether the working tree was dirty", () => {
  it("clean: a committed tree, and the sweep's own outputs from an earlier run do not count", async () => {
    const dir = await exampleRepo({ git: true, sweepYaml: twoTrials });
    expect((await runCli(["sweep"], { cwd: dir })).code).toBe(0);
    // Evidence, promoted config, runs/ and the zip of the first run now lie in the tree, uncommitted.
    const again = await runCli(["sweep", "--fresh"], { cwd: dir });
    expect(again.code).toBe(0);
    expect((await manifestOf(dir)).worktree).toEqual({
      dirty: false,
      changed: 0,
      files: [],
      diff_sha256: null,
    });
    const verified = await runCli(["verify", "submission_runs/example_v1"], { cwd: dir });
    expect(verified.stderr).not.toContain("warning");
  });

  it("dirty: the changed paths and a hash of the change, and verify warns", async () => {
    const dir = await exampleRepo({ git: true, sweepYaml: twoTrials });
    await appendFile(path.join(dir, "training/example/README.md"), "\nan edit nobody committed\n");
    expect((await runCli(["sweep"], { cwd: dir })).code).toBe(0);
    const { worktree } = await manifestOf(dir);
    expect(worktree).toMatchObject({ dirty: true, changed: 1, files: ["training/example/README.md"] });
    expect(worktree.diff_sha256).toMatch(/^[0-9a-f]{64}$/);
    const verified = await runCli(["verify", "submission_runs/example_v1"], { cwd: dir });
    expect(verified.code).toBe(0);
    expect(verified.stderr).toContain(
      "tunix-rt verify: note: warning: run_manifest.json: worktree.dirty: the sweep ran from uncommitted changes (1 path, first training/example/README.md; diff sha256 ",
    );
    const kaggle = await runCli(["verify", "submission_runs/example_v1", "--profile", "kaggle"], {
      cwd: dir,
    });
    expect(kaggle.stderr).toContain("commit the changes and run the sweep again for a submission");
  });
});
