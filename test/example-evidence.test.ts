import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateConfig } from "../src/core/config/config.js";
import { planTrials } from "../src/core/search/plan.js";
import type { TrialRecord } from "../src/core/types.js";
import { readZipFile } from "../src/runtime/zip-read.js";
import { repoRoot, runCli } from "./helpers/cli.js";

const referenceDir = path.join(repoRoot, "training/example/reference");

/** The one reference zip `npm run sweep` made, committed beside the example. */
async function referenceZip(): Promise<string> {
  const zips = (await readdir(referenceDir)).filter((f) => f.endsWith(".zip"));
  expect(zips).toHaveLength(1);
  return path.join(referenceDir, zips[0] as string);
}

// The committed reference is what `npm run sweep` makes today. The sweep plans each trial
// when a worker frees up, so the order of events shapes it; each trial's record names the
// trials whose records its sampler saw (proposed_from), the others were running. Replaying
// every proposal from trials.jsonl with the current code must give the recorded trials: when
// the samplers or the plan change, this fails until the reference is made anew.
describe("the example's reference submission", () => {
  it("verifies, and every trial is what the current code proposes from the records it saw", async () => {
    const zip = await referenceZip();
    const verified = await runCli(["verify", zip]);
    expect(verified.stdout).toBe("");
    expect(verified.code).toBe(0);

    const members = await readZipFile(zip);
    const text = (name: string) => {
      const member = members.find((m) => m.name === name);
      expect(member, name).toBeDefined();
      return member?.data.toString("utf8") ?? "";
    };
    const checked = validateConfig(parse(text("training/example/sweep.yaml")), "sweep.yaml");
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    const manifest = JSON.parse(text("submission_runs/example_v1/run_manifest.json"));
    // Made from a committed tree: the commit alone reproduces it.
    expect(manifest.worktree).toMatchObject({ dirty: false });
    const records = text("submission_runs/example_v1/trials.jsonl")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as TrialRecord & { seed: number; proposed_from: string[] });
    expect(records).toHaveLength(checked.value.num_samples);
    const byId = new Map(records.map((r) => [r.trial_id, r]));
    let fromModel = 0;
    records.forEach((record, k) => {
      const history = records.slice(0, k).map((earlier) =>
        record.proposed_from.includes(earlier.trial_id)
          ? (byId.get(earlier.trial_id) as TrialRecord)
          : {
              trial_id: earlier.trial_id,
              params: earlier.params,
              status: "running" as const,
              primary_score: null,
            },
      );
      const plan = planTrials({
        config: checked.value,
        sweepId: manifest.tuning_job_id,
        seed: manifest.seed,
        history,
        count: 1,
      });
      expect(plan.trials[0]).toMatchObject({
        trial_id: record.trial_id,
        seed: record.seed,
        params: record.params,
      });
      if (plan.proposed?.phase === "model") fromModel++;
    });
    // The default sampler learned: the later trials came from its model, not from its warm-up.
    expect(fromModel).toBeGreaterThan(0);
    // Made by today's sweep, not an older one: it holds the charts and the recommendation.
    const best = JSON.parse(text("submission_runs/example_v1/best_params.json"));
    expect(best.recommendation).toMatchObject({ rule: checked.value.recommend, trial_id: best.trial_id });
    // And each trial says the code it ran from: the committed tree of the manifest.
    for (const record of records as Array<
      TrialRecord & { commit_sha?: string; worktree?: { dirty: boolean } }
    >) {
      expect(record.commit_sha, record.trial_id).toBe(manifest.commit_sha);
      expect(record.worktree?.dirty, record.trial_id).toBe(false);
    }
    for (const chart of ["history", "importance", "parallel", "slices"]) {
      text(`submission_runs/example_v1/charts/${chart}.svg`);
    }
  });

  it("leaves the tracked files of a fresh clone alone: the example's outputs are ignored", () => {
    const ignored = (p: string) => {
      try {
        execFileSync("git", ["check-ignore", "-q", p], { cwd: repoRoot });
        return true;
      } catch {
        return false;
      }
    };
    for (const output of [
      "runs/example_v1/sweep.json",
      "submission_runs/example_v1/trials.jsonl",
      "training/configs/example_v1_best.yaml",
      "submission/tunix_rt_example_v1_2026-01-01_abc1234.zip",
      // `npm pack`, as the README's "Use the CLI in your project" runs it.
      `tunix-rt-${JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version}.tgz`,
    ])
      expect(ignored(output), output).toBe(true);
    // No build output is tracked: no package tarball, nothing a build writes.
    const tracked = execFileSync("git", ["ls-files"], { cwd: repoRoot, encoding: "utf8" }).split("\n");
    expect(tracked.filter((f) => /\.tgz$|^lib\//.test(f))).toEqual([]);
    // And no tracked file is listed in .gitignore.
    expect(
      execFileSync("git", ["ls-files", "-ci", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" }),
    ).toBe("");
  });
});
