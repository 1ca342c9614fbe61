/**
 * The code the evidence came from. Each trial's record keeps the commit and the working tree
 * it started from; run_manifest.json commit_sha, commits and worktree are recomputed from
 * them (`sweepSource`, the rule aggregate wrote them by) and must agree, so a manifest cannot
 * call clean what a trial ran dirty. Records of an older tunix-rt keep none: the manifest's
 * own claim is then all there is, and a note says so. A dirty or mixed-commit run is a
 * warning.
 */
import { quote } from "../../errors.js";
import { isObject, sameJson } from "../../json.js";
import type { RunManifest } from "../schemas.js";
import {
  type CommitTrials,
  listTrialIds,
  type SweepSource,
  type SweepWorktree,
  shortSha,
  sweepSource,
  type WorktreeState,
} from "../source.js";
import type { VerifyContext } from "./context.js";

type Manifest = RunManifest & Record<string, unknown>;

/** run_manifest.json's account of the code against the trials' records, and the warnings and notes on it. */
export function checkSource(ctx: VerifyContext): void {
  const manifest = ctx.manifest as Manifest | undefined;
  if (!manifest) return;
  const source = ctx.unusable.has("trials.jsonl") ? undefined : sweepSource(ctx.trials, manifest.trial_id);
  if (source) compareSource(ctx, manifest, source);
  const claimed = manifest.worktree;
  if (source?.unknown.length && claimed !== undefined) {
    const total = source.unknown.length + source.recorded.size;
    ctx.notes.push(
      `trials.jsonl: ${source.unknown.length} of ${total} trials (${listTrialIds(source.unknown)}) keep no commit or working tree (records of an older tunix-rt): run_manifest.json commit_sha and worktree could not be checked against ${source.unknown.length === total ? "them" : "those"}`,
    );
  }
  warnSource(ctx, manifest, source);
}

/** run_manifest.json commit_sha, commits and worktree against what the trials' records give. */
function compareSource(ctx: VerifyContext, manifest: Manifest, source: SweepSource): void {
  const file = "run_manifest.json";
  const trialAt = (id: string) => `trials.jsonl line ${ctx.trialIds.get(id)} (${id})`;
  const expected = source.worktree;
  const claimed = manifest.worktree;
  if (expected !== undefined) {
    if (claimed === undefined) {
      ctx.add({
        file,
        path: "worktree",
        message: `missing; the trials' records give ${quote(expected)}`,
      });
    } else if (expected === null || !isObject(claimed)) {
      if (!sameJson(claimed, expected))
        ctx.add({
          file,
          path: "worktree",
          message: `got ${quote(claimed)}; ${expected === null ? "every trial in trials.jsonl ran outside git (worktree null)" : `the trials' records give ${quote(expected)}`}`,
        });
    } else {
      const keys = ["dirty", "changed", "files", "diff_sha256", "dirty_trials", "unknown_trials"] as const;
      const key = keys.find((k) => !sameJson(claimed[k], (expected as SweepWorktree)[k]));
      if (key) {
        const firstDirty = expected.dirty_trials[0];
        const tree = firstDirty === undefined ? undefined : source.recorded.get(firstDirty)?.worktree;
        const message =
          key === "dirty" && firstDirty !== undefined && tree
            ? `got ${quote(claimed.dirty)}; ${trialAt(firstDirty)} ran from uncommitted changes (${describeChange(tree)})${expected.dirty_trials.length > 1 ? `, and ${expected.dirty_trials.length - 1} more trial${expected.dirty_trials.length === 2 ? "" : "s"}` : ""}: the manifest must say what the trials' records say`
            : key === "dirty"
              ? `got ${quote(claimed.dirty)}; every trial in trials.jsonl ran from a clean working tree`
              : `got ${quote(claimed[key])}; the trials' records give ${quote(expected[key])}`;
        ctx.add({ file, path: `worktree.${key}`, message });
      }
    }
  }
  if (source.commit !== undefined && typeof manifest.trial_id === "string") {
    const commit = source.commit ?? "unknown";
    if (manifest.commit_sha !== commit)
      ctx.add({
        file,
        path: "commit_sha",
        message: `got ${quote(manifest.commit_sha)}; expected ${quote(commit)}, the commit ${trialAt(manifest.trial_id)}, the best trial, ran at${source.commit === null ? " (none: it ran outside git)" : ""}`,
      });
  }
  if (source.recorded.size > 0) {
    const commits = source.commits.length > 1 ? source.commits : undefined;
    if (!sameJson(manifest.commits, commits))
      ctx.add({
        file,
        path: "commits",
        message: commits
          ? `${manifest.commits === undefined ? "missing" : `got ${quote(manifest.commits)}`}; the trials in trials.jsonl ran at ${commits.length} commits: ${describeCommits(commits)}`
          : `got ${quote(manifest.commits)}; the trials in trials.jsonl ran at ${source.commits.length === 1 ? "one commit" : "no commit"}, and commits is written only for several`,
      });
  }
}

/** Warnings for a run whose trials ran from uncommitted changes or at several commits. */
function warnSource(ctx: VerifyContext, manifest: Manifest, source: SweepSource | undefined): void {
  const kaggle = ctx.options.profile === "kaggle";
  if (source?.worktree !== undefined) {
    const tree = source.worktree;
    if (tree?.dirty) {
      const ids = tree.dirty_trials;
      const started = source.recorded.size + source.unknown.length;
      ctx.notes.push(
        `warning: run_manifest.json: worktree.dirty: ${ids.length} of ${started} trials (${listTrialIds(ids)}) ran from uncommitted changes (${describeChange(tree)}): commit_sha alone does not reproduce ${ids.length === 1 ? "it" : "them"}${kaggle ? `; commit the changes and run the sweep again with --fresh for a submission (a plain re-run resumes and keeps these trials)` : ""}`,
      );
    }
  } else {
    // Evidence of an older tunix-rt: the state the sweep started from, as the manifest says.
    const worktree = manifest.worktree;
    if (isObject(worktree) && worktree.dirty === true) {
      const first =
        Array.isArray(worktree.files) && typeof worktree.files[0] === "string"
          ? `, first ${worktree.files[0]}`
          : "";
      ctx.notes.push(
        `warning: run_manifest.json: worktree.dirty: the sweep ran from uncommitted changes (${String(worktree.changed)} path${worktree.changed === 1 ? "" : "s"}${first}; diff sha256 ${String(worktree.diff_sha256)}): commit_sha alone does not reproduce it${kaggle ? "; commit the changes and run the sweep again with --fresh for a submission" : ""}`,
      );
    }
  }
  if (source && source.commits.length > 1) {
    ctx.notes.push(
      `warning: run_manifest.json: commits: the trials ran at ${source.commits.length} commits (${describeCommits(source.commits)}), so their scores come from different code${source.commit ? `; commit_sha ${shortSha(source.commit)} is the best trial's` : ""}${kaggle ? "; run the sweep again from one commit with --fresh for a submission" : ""}`,
    );
  }
}

/** A working tree's change for a message: how many paths, the first, and its hash. */
function describeChange(tree: WorktreeState): string {
  const first = tree.files[0] === undefined ? "" : `, first ${tree.files[0]}`;
  const hash = tree.diff_sha256 === null ? "several different changes" : `diff sha256 ${tree.diff_sha256}`;
  return `${tree.changed} path${tree.changed === 1 ? "" : "s"}${first}; ${hash}`;
}

/** The commits trials ran at, for a message: each abbreviated, with its trials. */
function describeCommits(commits: readonly CommitTrials[]): string {
  return commits.map((c) => `${shortSha(c.commit_sha)}: ${listTrialIds(c.trial_ids)}`).join("; ");
}
