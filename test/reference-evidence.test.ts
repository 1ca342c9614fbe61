/**
 * The reference evidence committed at submission_runs/example_reference_v1/: one real sweep
 * of the example (training/example/sweep-reference.yaml, which is training/example/sweep.yaml
 * under its own run_version), run from a clean checkout of a commit, with its promoted config
 * beside it at training/configs/example_reference_v1_best.yaml. `npm run sweep` writes
 * example_v1 (ignored), so a quick start never writes over it or dirties the tree.
 *
 * This checks the evidence's integrity, not that it can be made again: `tunix-rt verify` (the
 * real CLI, as a child process) and the files docs/evidence.md lists. Nothing is
 * trained or planned again, so a change to the example trainer, the samplers, the planning or
 * the sweep's scheduling leaves it passing: the records say what ran then.
 *
 * What does call for making the reference again, because verify recomputes it from the
 * records and compares:
 * - grading: the M34 judge and primary_score (every row of eval_rows.jsonl is re-graded, and
 *   every trial's score is recomputed from grades.jsonl);
 * - training/evalsets/example_eval.jsonl (the rows are re-graded against it) and
 *   training/example/sweep-reference.yaml (run_manifest.json records its SHA-256: any byte);
 * - what verify draws again and compares byte for byte (leaderboard.md, charts/*.svg), the
 *   recommendation (its rule, the model's estimate), and the evidence's format (a file or a
 *   field verify comes to require).
 * How, from a clean checkout of the commit to record (`git status --porcelain` prints
 * nothing: a sweep records uncommitted changes, and verify then warns; commit a change to
 * sweep-reference.yaml first):
 *
 *   npm run build
 *   node bin/tunix-rt.js sweep --config training/example/sweep-reference.yaml --fresh --clean-old
 *   git add submission_runs/example_reference_v1 training/configs/example_reference_v1_best.yaml
 *   git commit
 *
 * The evidence then names that commit (run_manifest.json commit_sha). The sweep also writes
 * runs/ and a zip under submission/: both ignored, and not part of the reference.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readJsonl, repoRoot, runCli } from "./helpers/cli.js";

const runVersion = "example_reference_v1";
const folder = `submission_runs/${runVersion}`;
const promotedConfig = `training/configs/${runVersion}_best.yaml`;
const sweepConfig = "training/example/sweep-reference.yaml";
const remake = `node bin/tunix-rt.js sweep --config ${sweepConfig} --fresh --clean-old, from a clean checkout (this file's header)`;

/** docs/evidence.md's Evidence table, but for attestation.sigstore.json (a signature made on GitHub only). */
const evidenceFiles = [
  "run_manifest.json",
  "eval_summary.json",
  "best_params.json",
  "kaggle_output_log.txt",
  "eval_rows.jsonl",
  "grades.jsonl",
  "leaderboard.md",
  "trials.jsonl",
];
/** The charts of a sweep without successive halving or pruning. */
const charts = ["history.svg", "importance.svg", "parallel.svg", "slices.svg"];

// biome-ignore lint/suspicious/noExplicitAny: the evidence's JSON, read as data.
const json = async (name: string): Promise<any> =>
  JSON.parse(await readFile(path.join(repoRoot, folder, name), "utf8"));

function git(args: string[]): { ok: boolean; stdout: string } {
  try {
    return {
      ok: true,
      stdout: execFileSync("git", args, { cwd: repoRoot, encoding: "utf8", stdio: "pipe" }),
    };
  } catch {
    return { ok: false, stdout: "" };
  }
}

/** The commit the evidence names, when this checkout has it (a shallow clone may not). */
const manifestCommit = (() => {
  const file = path.join(repoRoot, folder, "run_manifest.json");
  if (!existsSync(file)) return undefined;
  const sha = JSON.parse(readFileSync(file, "utf8")).commit_sha;
  return typeof sha === "string" && git(["cat-file", "-e", `${sha}^{commit}`]).ok ? sha : undefined;
})();

describe("the reference evidence, submission_runs/example_reference_v1", () => {
  it("verifies: valid, with no problem and no note (no dirty tree, every row re-graded)", async () => {
    const verified = await runCli(["verify", folder, "--json"]);
    const report = JSON.parse(verified.stdout);
    expect(
      report,
      `tunix-rt verify ${folder} --json. If the problems come from an intended change to grading, drawing or the recommendation, make the reference again: ${remake}`,
    ).toEqual({ valid: true, problems: [], notes: [] });
    expect(verified.code).toBe(0);
  });

  it("holds the files docs/evidence.md lists, and nothing else", async () => {
    const found = (await readdir(path.join(repoRoot, folder), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(path.join(repoRoot, folder), path.join(entry.parentPath, entry.name)))
      .map((name) => name.split(path.sep).join("/"))
      .sort();
    expect(found).toEqual([...evidenceFiles, ...charts.map((c) => `charts/${c}`)].sort());
    // The list above is docs/evidence.md's: each file is a row of its Evidence table.
    const page = await readFile(path.join(repoRoot, "docs/evidence.md"), "utf8");
    const section = page.slice(0, page.indexOf("\n## Which code"));
    for (const name of [...evidenceFiles, "charts/*.svg"]) expect(section, name).toContain(`| \`${name}\` |`);
    // The promoted config the manifest names lies beside it, where verify reads it.
    expect(existsSync(path.join(repoRoot, promotedConfig)), promotedConfig).toBe(true);
  });

  it("is the reference sweep's own: its run_version, configs, and one clean commit for every trial", async () => {
    const manifest = await json("run_manifest.json");
    expect(manifest).toMatchObject({
      run_version: runVersion,
      config_path: promotedConfig,
      sweep_config_path: sweepConfig,
      worktree: { dirty: false, dirty_trials: [] },
      workflow_run_url: null,
    });
    expect(manifest.commit_sha).toMatch(/^[0-9a-f]{40}$/);
    expect(manifest.commits).toBeUndefined();
    const config = parse(await readFile(path.join(repoRoot, sweepConfig), "utf8"));
    expect(config.run_version).toBe(runVersion);
    const records = await readJsonl(path.join(repoRoot, folder, "trials.jsonl"));
    expect(records).toHaveLength(config.num_samples);
    for (const record of records) {
      expect(record, record.trial_id).toMatchObject({
        status: "completed",
        commit_sha: manifest.commit_sha,
        worktree: { dirty: false },
      });
    }
    expect((await json("eval_summary.json")).eval_set).toBe(config.evalset);
    expect((await json("best_params.json")).trial_id).toBe(manifest.trial_id);
  });

  it.skipIf(manifestCommit === undefined)(
    "names a commit of this repository that holds the sweep config it records",
    async () => {
      const manifest = await json("run_manifest.json");
      const atCommit = execFileSync("git", ["show", `${manifestCommit}:${sweepConfig}`], { cwd: repoRoot });
      expect(createHash("sha256").update(atCommit).digest("hex")).toBe(manifest.sweep_config_sha256);
    },
  );

  it("is out of the quick start's way: not ignored, and not the run_version `npm run sweep` writes", () => {
    const ignored = (p: string) => git(["check-ignore", "-q", p]).ok;
    for (const p of [
      `${folder}/run_manifest.json`,
      `${folder}/charts/history.svg`,
      promotedConfig,
      sweepConfig,
    ])
      expect(ignored(p), p).toBe(false);
    const script: string = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).scripts
      .sweep;
    const quickStart = /--config (\S+)/.exec(script)?.[1];
    expect(quickStart, script).toBeDefined();
    const quick = parse(readFileSync(path.join(repoRoot, quickStart as string), "utf8")).run_version;
    expect(quick).not.toBe(runVersion);
    // What the quick start writes stays ignored, so it never dirties the tree a reference is made from.
    for (const p of [`submission_runs/${quick}/trials.jsonl`, `training/configs/${quick}_best.yaml`])
      expect(ignored(p), p).toBe(true);
  });
});
