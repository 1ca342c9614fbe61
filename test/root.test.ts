import { mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repositoryRoot } from "../src/runtime/root.js";
import { runCli, tempDir } from "./helpers/cli.js";
import { exampleRepo } from "./helpers/example-repo.js";

const twoTrials = (text: string) => text.replace("num_samples: 8", "num_samples: 2");

describe("paths resolve from the repository root, not the current folder", () => {
  it("finds the git top level, else GITHUB_WORKSPACE around the folder, else the folder", async () => {
    const repo = await exampleRepo({ git: true });
    await mkdir(path.join(repo, "a/b"), { recursive: true });
    expect(await repositoryRoot(path.join(repo, "a/b"), {})).toBe(repo);
    const plain = await tempDir();
    await mkdir(path.join(plain, "sub"));
    expect(await repositoryRoot(path.join(plain, "sub"), {})).toBe(path.join(plain, "sub"));
    expect(await repositoryRoot(path.join(plain, "sub"), { GITHUB_WORKSPACE: plain })).toBe(plain);
    expect(await repositoryRoot(plain, { GITHUB_WORKSPACE: path.join(plain, "sub") })).toBe(plain);
  });

  it("validate without --config reads the repository's training/sweep.yaml, from a subfolder too", async () => {
    const repo = await exampleRepo({
      git: true,
      sweepYaml: (t) => t.replace("run_version: example_v1", "run_version: mine_v1"),
    });
    await mkdir(path.join(repo, "notebooks"));
    const r = await runCli(["validate"], { cwd: path.join(repo, "notebooks") });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("training/sweep.yaml: config valid");
    expect(r.stdout).toContain("trainer: ");
    expect(r.stdout).toContain("evalset: 120 items");
  });

  it("without training/sweep.yaml (and no example) says what it looked for", async () => {
    const repo = await tempDir();
    await mkdir(path.join(repo, "training"));
    for (const command of ["validate", "sweep"]) {
      const r = await runCli([command], { cwd: repo });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(
          `^tunix-rt ${command}: no --config given, and training/sweep\\.yaml does not exist in the repository root .*; pass --config F`,
        ),
      );
    }
  });

  it("a sweep started in a subfolder runs the trainer at the root and writes runs/, evidence and the zip there", async () => {
    const repo = await exampleRepo({ git: true, sweepYaml: twoTrials });
    const sub = path.join(repo, "notebooks");
    await mkdir(sub);
    const r = await runCli(["sweep", "--parallel", "2"], { cwd: sub });
    expect(r.stderr).not.toMatch(/internal error|cannot read/);
    expect(r.code).toBe(0);
    expect(await readdir(path.join(repo, "runs/example_v1/trials"))).toEqual(["t0000", "t0001"]);
    expect((await stat(path.join(repo, "submission_runs/example_v1/run_manifest.json"))).isFile()).toBe(true);
    expect((await readdir(path.join(repo, "submission"))).length).toBe(1);
    expect(await readdir(sub)).toEqual([]);
    // Paths printed are relative to where the user is.
    expect(r.stdout).toContain("evidence: ../submission_runs/example_v1 (verified)");
    // A --config given on the command line is relative to the folder the user is in.
    const again = await runCli(["validate", "--config", "../training/sweep.yaml"], { cwd: sub });
    expect(again.code).toBe(0);
  });
});
