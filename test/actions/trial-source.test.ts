/**
 * On GitHub every trial is a job of its own and the evidence is written by another job: what
 * the manifest says of the code must come from the trial jobs' records, not from the
 * aggregate job's checkout. The committed bundles, run as the runner runs them, in a git
 * workspace.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitCommitAll } from "../helpers/example-repo.js";
import { makeWorkspace, runBundle, runProcess } from "./helpers.js";

let workspace: string;

beforeAll(async () => {
  workspace = await makeWorkspace("tunix-rt-source-");
  await gitCommitAll(workspace);
});

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe("the trial jobs' records say what code the evidence came from", () => {
  it("a trial job that ran from an edited trainer makes the evidence dirty, though the aggregate job's checkout is clean", async () => {
    const planned = await runBundle(
      "dist/sweep.js",
      { mode: "plan", "num-samples": "2", config: "" },
      { workspace },
    );
    expect(planned.code, planned.stdout + planned.stderr).toBe(0);
    const matrix = JSON.parse(planned.outputs.matrix as string) as { include: Array<{ trial_id: string }> };
    const trainer = path.join(workspace, "training/example/train.mjs");
    const original = await readFile(trainer, "utf8");
    for (const entry of matrix.include) {
      // The first trial's runner had an edit nobody committed; the second's did not.
      await writeFile(
        trainer,
        entry.trial_id === "t0000" ? `${original}\n// edited on one runner\n` : original,
      );
      const step = await runBundle(
        "dist/sweep.js",
        { mode: "trial", trial: JSON.stringify(entry), upload: "false" },
        { workspace },
      );
      expect(step.code, step.stdout + step.stderr).toBe(0);
    }

    const aggregated = await runBundle(
      "dist/score.js",
      {
        mode: "aggregate",
        "sweep-id": planned.outputs["sweep-id"] as string,
        matrix: planned.outputs.matrix as string,
        "run-version": planned.outputs["run-version"] as string,
        download: "false",
        "create-pr": "false",
        token: "",
      },
      { workspace },
    );
    expect(aggregated.code, aggregated.stdout + aggregated.stderr).toBe(0);
    expect(aggregated.outputs.valid).toBe("true");
    const head = (await runProcess(["git", "rev-parse", "HEAD"], { cwd: workspace })).stdout.trim();
    const manifest = JSON.parse(
      await readFile(path.join(workspace, "submission_runs/actions_v1/run_manifest.json"), "utf8"),
    );
    expect(manifest.commit_sha).toBe(head);
    expect(manifest.worktree).toMatchObject({
      dirty: true,
      changed: 1,
      files: ["training/example/train.mjs"],
      dirty_trials: ["t0000"],
    });
    const trials = (await readFile(path.join(workspace, "submission_runs/actions_v1/trials.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(trials.map((t) => [t.trial_id, t.commit_sha, t.worktree.dirty])).toEqual([
      ["t0000", head, true],
      ["t0001", head, false],
    ]);
  });
});
