import { appendFile, readFile, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sourceOf } from "../src/runtime/git.js";
import { runCli, runProcess } from "./helpers/cli.js";
import { exampleRepo } from "./helpers/example-repo.js";

const twoTrials = (text: string) => text.replace("num_samples: 8", "num_samples: 2");
const manifestFile = (dir: string) => path.join(dir, "submission_runs/example_v1/run_manifest.json");
const manifestOf = async (dir: string) => JSON.parse(await readFile(manifestFile(dir), "utf8"));
const recordOf = async (dir: string, trialId: string) =>
  JSON.parse(await readFile(path.join(dir, "runs/example_v1/trials", trialId, "trial.json"), "utf8"));
/** git in `dir` as a test user; its standard output. */
const git = async (dir: string, ...args: string[]) => {
  const r = await runProcess(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
    cwd: dir,
  });
  if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
};

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
      dirty_trials: [],
    });
    const verified = await runCli(["verify", "submission_runs/example_v1"], { cwd: dir });
    expect(verified.stderr).not.toContain("warning");
  });

  it("dirty: the changed paths and a hash of the change, and verify warns", async () => {
    const dir = await exampleRepo({ git: true, sweepYaml: twoTrials });
    await appendFile(path.join(dir, "training/example/README.md"), "\nan edit nobody committed\n");
    expect((await runCli(["sweep"], { cwd: dir })).code).toBe(0);
    const { worktree } = await manifestOf(dir);
    expect(worktree).toMatchObject({
      dirty: true,
      changed: 1,
      files: ["training/example/README.md"],
      dirty_trials: ["t0000", "t0001"],
    });
    expect(worktree.diff_sha256).toMatch(/^[0-9a-f]{64}$/);
    const verified = await runCli(["verify", "submission_runs/example_v1"], { cwd: dir });
    expect(verified.code).toBe(0);
    expect(verified.stderr).toContain(
      "tunix-rt verify: note: warning: run_manifest.json: worktree.dirty: 2 of 2 trials (t0000, t0001) ran from uncommitted changes (1 path, first training/example/README.md; diff sha256 ",
    );
    const kaggle = await runCli(["verify", "submission_runs/example_v1", "--profile", "kaggle"], {
      cwd: dir,
    });
    expect(kaggle.stderr).toContain(
      "commit the changes and run the sweep again with --fresh for a submission",
    );
  });
});

describe("each trial's record keeps the commit and working tree it started from", () => {
  it("a sweep resumed after its trainer's edit was reverted still says dirty, and a manifest claiming clean is refused", async () => {
    const dir = await exampleRepo({ git: true, sweepYaml: twoTrials });
    const trainer = path.join(dir, "training/example/train.mjs");
    const original = await readFile(trainer, "utf8");
    await writeFile(trainer, `${original}\n// an edit nobody committed\n`);
    expect((await runCli(["sweep"], { cwd: dir })).code).toBe(0);
    const head = await git(dir, "rev-parse", "HEAD");
    expect(await recordOf(dir, "t0000")).toMatchObject({
      commit_sha: head,
      worktree: { dirty: true, changed: 1, files: ["training/example/train.mjs"] },
    });

    // The edit is reverted; the sweep resumes, runs nothing, and writes the evidence again.
    await git(dir, "checkout", "--", "training/example/train.mjs");
    const resumed = await runCli(["sweep"], { cwd: dir });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("2 trials, 0 to run");
    const manifest = await manifestOf(dir);
    expect(manifest.commit_sha).toBe(head);
    expect(manifest.commits).toBeUndefined();
    expect(manifest.worktree).toMatchObject({
      dirty: true,
      changed: 1,
      files: ["training/example/train.mjs"],
      dirty_trials: ["t0000", "t0001"],
    });
    const kaggle = await runCli(["verify", "submission_runs/example_v1", "--profile", "kaggle"], {
      cwd: dir,
    });
    expect(kaggle.stderr).toContain(
      "tunix-rt verify: note: warning: run_manifest.json: worktree.dirty: 2 of 2 trials (t0000, t0001) ran from uncommitted changes (1 path, first training/example/train.mjs; diff sha256 ",
    );
    expect(kaggle.stderr).toContain("run the sweep again with --fresh for a submission");

    // Edited to say what the tree looks like now, the manifest disagrees with its trials.
    manifest.worktree = { dirty: false, changed: 0, files: [], diff_sha256: null, dirty_trials: [] };
    await writeFile(manifestFile(dir), `${JSON.stringify(manifest, null, 2)}\n`);
    const tampered = await runCli(["verify", "submission_runs/example_v1"], { cwd: dir });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(
      /^submission_runs\/example_v1\/run_manifest\.json:\d+: worktree\.dirty: got false; trials\.jsonl line 1 \(t0000\) ran from uncommitted changes \(1 path, first training\/example\/train\.mjs; diff sha256 [0-9a-f]{64}\), and 1 more trial: the manifest must say what the trials' records say$/m,
    );
  });

  it("a sweep extended after a commit lists both commits, takes the best trial's as commit_sha, and verify warns", async () => {
    const dir = await exampleRepo({ git: true, sweepYaml: twoTrials });
    expect((await runCli(["sweep"], { cwd: dir })).code).toBe(0);
    const first = await git(dir, "rev-parse", "HEAD");
    await appendFile(path.join(dir, "training/example/README.md"), "\na committed edit\n");
    await git(dir, "commit", "-q", "-m", "edit", "--", "training/example/README.md");
    const second = await git(dir, "rev-parse", "HEAD");

    const more = await runCli(["sweep", "--num-samples", "3"], { cwd: dir });
    expect(more.code).toBe(0);
    expect(more.stderr).toContain("3 trials, 1 to run");
    const manifest = await manifestOf(dir);
    expect(manifest.commits).toEqual([
      { commit_sha: first, trial_ids: ["t0000", "t0001"] },
      { commit_sha: second, trial_ids: ["t0002"] },
    ]);
    expect(manifest.commit_sha).toBe(manifest.trial_id === "t0002" ? second : first);
    expect(manifest.worktree).toMatchObject({ dirty: false, dirty_trials: [] });
    const verified = await runCli(["verify", "submission_runs/example_v1"], { cwd: dir });
    expect(verified.code).toBe(0);
    expect(verified.stderr).toContain(
      `tunix-rt verify: note: warning: run_manifest.json: commits: the trials ran at 2 commits (${first.slice(0, 12)}: t0000, t0001; ${second.slice(0, 12)}: t0002), so their scores come from different code`,
    );
    const kaggle = await runCli(["verify", "submission_runs/example_v1", "--profile", "kaggle"], {
      cwd: dir,
    });
    expect(kaggle.stderr).toContain("run the sweep again from one commit with --fresh for a submission");
  });
});

describe("sourceOf, asked before every trial", () => {
  it("hashes an untracked file again when it changes, and not while it stays the same", async () => {
    const dir = await exampleRepo({ git: true });
    const file = path.join(dir, "checkpoint.bin");
    await writeFile(file, "aaaa");
    const first = await sourceOf(dir);
    expect((await sourceOf(dir))?.worktree.diff_sha256).toBe(first?.worktree.diff_sha256);
    // Same size, other bytes, a later time: another hash.
    await writeFile(file, "bbbb");
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    const changed = await sourceOf(dir);
    expect(changed?.worktree.diff_sha256).not.toBe(first?.worktree.diff_sha256);
    // Back to the first bytes: the first hash (the digest is of the content, not of its time).
    await writeFile(file, "aaaa");
    expect((await sourceOf(dir))?.worktree.diff_sha256).toBe(first?.worktree.diff_sha256);
  });
});
