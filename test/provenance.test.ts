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
      expect.stringMatching(/^sweep_config_sha256: .*training\/sweep\.yaml now hashes to b{64}/),
    ]);
    expect(problemsOf({ ...good, trials: { total: 99, completed: 1 } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^trials\.total: got 99; trials\.jsonl holds/)]),
    );
  });
});
