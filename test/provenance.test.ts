import { describe, expect, it } from "vitest";
import { verifyEvidence } from "../src/core/evidence/verify.js";
import { defaultTrials, evidenceTexts } from "./helpers/evidence-fixture.js";

const problemsOf = (manifest: Record<string, unknown>, fileHashes?: Record<string, string>) =>
  verifyEvidence({ runVersion: "rt_test_v1", files: evidenceTexts({ manifest }), fileHashes }).map(
    (p) => `${p.path}: ${p.message}`,
  );

describe("verify checks the provenance the manifest records", () => {
  const sha = "a".repeat(64);
  const good = {
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    sweep_config_path: "training/sweep.yaml",
    sweep_config_sha256: sha,
    toolkit: "tunix-rt 0.1.0",
    seed: 42,
    workflow_run_url: "https://github.com/acme/tuning/actions/runs/123456",
    trials: {
      total: defaultTrials().length,
      completed: defaultTrials().filter((t) => t.status === "completed").length,
    },
  };

  it("accepts consistent provenance, and the config when its hash matches", () => {
    expect(problemsOf(good, { "training/sweep.yaml": sha })).toEqual([]);
  });

  it("names each malformed field", () => {
    const problems = problemsOf({
      ...good,
      commit_sha: "main",
      sweep_config_sha256: "abc",
      toolkit: "other 1",
      workflow_run_url: "http://x/y",
      seed: -3,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^commit_sha: got "main"; expected a git commit sha/),
        expect.stringMatching(/^sweep_config_sha256: got "abc"; expected 64 lowercase hex digits/),
        expect.stringMatching(/^toolkit: got "other 1"/),
        expect.stringMatching(/^workflow_run_url: got "http:\/\/x\/y"/),
        expect.stringMatching(/^seed: got -3/),
      ]),
    );
  });

  it("catches a config that changed since the sweep, and trial counts that disagree with trials.jsonl", () => {
    expect(problemsOf(good, { "training/sweep.yaml": "b".repeat(64) })).toEqual([
      expect.stringMatching(/^sweep_config_sha256: .*training\/sweep\.yaml hashes to b{64}/),
    ]);
    expect(problemsOf({ ...good, trials: { total: 99, completed: 1 } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^trials\.total: got 99; trials\.jsonl holds/)]),
    );
  });
});

describe("verify recomputes the code the trials ran from their records", () => {
  const commitA = "a".repeat(40);
  const commitB = "b".repeat(40);
  const clean = { dirty: false, changed: 0, files: [], diff_sha256: null };
  const edited = { dirty: true, changed: 1, files: ["scripts/train.py"], diff_sha256: "d".repeat(64) };
  /** The default trials as run: t0000 from an edited trainer, the rest clean; `commits` by trial. */
  const ranTrials = (commits: Record<string, string> = {}) =>
    defaultTrials().map((t) => ({
      ...t,
      started_at: "2025-12-27T09:00:00Z",
      commit_sha: commits[t.trial_id] ?? commitA,
      worktree: t.trial_id === "t0000" ? edited : clean,
    }));
  const dirtyManifest = {
    commit_sha: commitA,
    worktree: { ...edited, dirty_trials: ["t0000"] },
  };
  const check = (
    trials: ReturnType<typeof ranTrials> | ReturnType<typeof defaultTrials>,
    manifest: Record<string, unknown>,
    profile?: "kaggle",
  ) => {
    const notes: string[] = [];
    const problems = verifyEvidence({
      runVersion: "rt_test_v1",
      files: evidenceTexts({ trials, manifest }),
      ...(profile ? { profile } : {}),
      onNote: (note) => notes.push(note),
    }).map((p) => `${p.file}${p.line ? `:${p.line}` : ""}: ${p.path}: ${p.message}`);
    return { problems, notes };
  };

  it("accepts a manifest that says what the records say, and warns that a trial ran dirty", () => {
    const { problems, notes } = check(ranTrials(), dirtyManifest, "kaggle");
    expect(problems).toEqual([]);
    expect(notes).toContainEqual(
      `warning: run_manifest.json: worktree.dirty: 1 of 4 trials (t0000) ran from uncommitted changes (1 path, first scripts/train.py; diff sha256 ${"d".repeat(64)}): commit_sha alone does not reproduce it; commit the changes and run the sweep again with --fresh for a submission (a plain re-run resumes and keeps these trials)`,
    );
  });

  it("refuses a manifest that claims a clean tree while a trial's record says dirty", () => {
    const expected = `run_manifest.json:13: worktree.dirty: got false; trials.jsonl line 1 (t0000) ran from uncommitted changes (1 path, first scripts/train.py; diff sha256 ${"d".repeat(64)}): the manifest must say what the trials' records say`;
    // As this tunix-rt writes a clean claim, and as an older one wrote it.
    const claims = [{ ...clean, dirty_trials: [] }, clean];
    for (const worktree of claims) {
      expect(check(ranTrials(), { commit_sha: commitA, worktree }).problems).toEqual([expected]);
    }
    // Dropping the claim altogether does not hide it either.
    expect(check(ranTrials(), { commit_sha: commitA }).problems).toEqual([
      expect.stringMatching(
        /^run_manifest\.json: worktree: missing; the trials' records give \{"dirty":true/,
      ),
    ]);
    // Nor does naming the wrong trials.
    expect(
      check(ranTrials(), { commit_sha: commitA, worktree: { ...edited, dirty_trials: ["t0001"] } }).problems,
    ).toEqual([
      expect.stringMatching(/worktree\.dirty_trials: got \["t0001"\]; the trials' records give \["t0000"\]$/),
    ]);
  });

  it("takes commit_sha from the best trial's record and lists several commits; verify warns of a mixed run", () => {
    const mixed = ranTrials({ t0003: commitB });
    const commits = [
      { commit_sha: commitA, trial_ids: ["t0000", "t0001", "t0002"] },
      { commit_sha: commitB, trial_ids: ["t0003"] },
    ];
    const { problems, notes } = check(mixed, { ...dirtyManifest, commits }, "kaggle");
    expect(problems).toEqual([]);
    expect(notes).toContainEqual(
      "warning: run_manifest.json: commits: the trials ran at 2 commits (aaaaaaaaaaaa: t0000, t0001, t0002; bbbbbbbbbbbb: t0003), so their scores come from different code; commit_sha aaaaaaaaaaaa is the best trial's; run the sweep again from one commit with --fresh for a submission",
    );
    expect(check(mixed, dirtyManifest).problems).toEqual([
      "run_manifest.json: commits: missing; the trials in trials.jsonl ran at 2 commits: aaaaaaaaaaaa: t0000, t0001, t0002; bbbbbbbbbbbb: t0003",
    ]);
    // The best trial (t0001) ran at A: a manifest naming the commit checked out later lies.
    expect(check(mixed, { ...dirtyManifest, commits, commit_sha: commitB }).problems).toEqual([
      expect.stringMatching(
        /^run_manifest\.json:\d+: commit_sha: got "b{40}"; expected "a{40}", the commit trials\.jsonl line 2 \(t0001\), the best trial, ran at$/,
      ),
    ]);
  });

  it("verifies older evidence whose records keep no source, with a note, and checks their shape when they do", () => {
    const older = defaultTrials().map((t) => ({ ...t, started_at: "2025-12-27T09:00:00Z" }));
    const { problems, notes } = check(older, { worktree: clean });
    expect(problems).toEqual([]);
    expect(notes).toContainEqual(
      "trials.jsonl: 4 of 4 trials (t0000, t0001, t0002, t0003) keep no commit or working tree (records of an older tunix-rt): run_manifest.json commit_sha and worktree could not be checked against them",
    );
    // A record that keeps one keeps a well-formed one.
    const broken = ranTrials().map((t, i) => (i === 2 ? { ...t, worktree: { dirty: "yes" } } : t));
    expect(check(broken, dirtyManifest).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^trials\.jsonl:3: worktree\.dirty: got "yes"; expected/),
      ]),
    );
  });
});
