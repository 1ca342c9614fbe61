import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "./helpers/cli.js";

// The committed example evidence is what `npm run sweep` makes today: planning the example
// config with the evidence's sweep id gives the very trials it records. When the samplers or
// the plan change, this fails until the evidence (and the README's excerpt) is made anew.
describe("the committed example evidence", () => {
  it("holds the trials the current code plans for its sweep id", async () => {
    const manifest = JSON.parse(
      await readFile(path.join(repoRoot, "submission_runs/example_v1/run_manifest.json"), "utf8"),
    );
    const recorded = (await readFile(path.join(repoRoot, "submission_runs/example_v1/trials.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const r = await runCli([
      "plan",
      "--config",
      "training/example/sweep.yaml",
      "--sweep-id",
      manifest.tuning_job_id,
    ]);
    expect(r.code).toBe(0);
    const planned = JSON.parse(r.stdout).trials;
    const pick = (t: { trial_id: string; seed: number; params: unknown }) => ({
      trial_id: t.trial_id,
      seed: t.seed,
      params: t.params,
    });
    expect(recorded.map(pick)).toEqual(planned.map(pick));
  });
});
