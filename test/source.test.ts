import { describe, expect, it } from "vitest";
import { manifestSource, sweepSource } from "../src/core/evidence/source.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const clean = { dirty: false, changed: 0, files: [], diff_sha256: null };
const tree = (files: string[], hash: string) => ({
  dirty: true,
  changed: files.length,
  files,
  diff_sha256: hash.repeat(64),
});
const ran = (trial_id: string, commit_sha: string | null, worktree: unknown) => ({
  trial_id,
  started_at: "2026-01-01T00:00:00Z",
  commit_sha,
  worktree,
});
const fallback = { commit: "c".repeat(40), worktree: clean };

describe("what the manifest says of the code, from the trials' records", () => {
  it("one change: its paths and hash, and which trials ran from it; commit_sha the best trial's", () => {
    const source = sweepSource(
      [
        ran("t0001", A, tree(["train.py"], "1")),
        ran("t0000", A, clean),
        ran("t0002", A, tree(["train.py"], "1")),
      ],
      "t0000",
    );
    expect(manifestSource(source, fallback)).toEqual({
      commit: A,
      worktree: { ...tree(["train.py"], "1"), dirty_trials: ["t0001", "t0002"] },
    });
  });

  it("several changes: their paths together and no single hash; several commits are listed", () => {
    const source = sweepSource(
      [ran("t0000", A, tree(["a.py", "b.py"], "1")), ran("t0001", B, tree(["b.py", "c.py"], "2"))],
      "t0001",
    );
    expect(manifestSource(source, fallback)).toEqual({
      commit: B,
      commits: [
        { commit_sha: A, trial_ids: ["t0000"] },
        { commit_sha: B, trial_ids: ["t0001"] },
      ],
      worktree: {
        dirty: true,
        changed: 3,
        files: ["a.py", "b.py", "c.py"],
        diff_sha256: null,
        dirty_trials: ["t0000", "t0001"],
      },
    });
  });

  it("a stand-in that never started counts for nothing; a record without a source is unknown", () => {
    const standIn = { trial_id: "t0002", status: "failed" };
    const older = { trial_id: "t0001", started_at: "2025-01-01T00:00:00Z" };
    const source = sweepSource([ran("t0000", A, clean), older, standIn], "t0001");
    expect(source.unknown).toEqual(["t0001"]);
    // The best trial keeps no commit: the commit when the sweep started stands in for it.
    expect(manifestSource(source, fallback)).toEqual({
      commit: fallback.commit,
      worktree: { ...clean, dirty_trials: [], unknown_trials: ["t0001"] },
    });
    // No record keeps a source: the state when the sweep started, and which trials are unknown.
    expect(manifestSource(sweepSource([older, standIn], "t0001"), fallback)).toEqual({
      commit: fallback.commit,
      worktree: { ...clean, unknown_trials: ["t0001"] },
    });
  });

  it("outside git: no commit and no working tree", () => {
    const source = sweepSource([ran("t0000", null, null)], "t0000");
    expect(manifestSource(source, fallback)).toEqual({ commit: null, worktree: null });
  });
});
