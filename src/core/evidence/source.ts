// The code a sweep's trials ran: each trial's record keeps the commit and the working tree it
// started from, and what run_manifest.json says of the sweep (commit_sha, commits, worktree)
// is derived from those records by one rule, here, which aggregate writes and verify
// recomputes. A state taken once per sweep could lie: a sweep resumed after the trainer's
// edit was reverted (or committed) would describe the tree of the resume, not of the trials
// whose scores the evidence carries. Pure.

import { z } from "zod";
import { compareTrialIds } from "../best-trial.js";

/**
 * How a working tree differed from its commit (a trial record's and run_manifest.json's
 * `worktree`): commit_sha alone reproduces a run only when it is clean.
 */
export interface WorktreeState {
  dirty: boolean;
  /** How many paths differ (the tool's own outputs left out). */
  changed: number;
  /** The first 20 of them. */
  files: string[];
  /** SHA-256 over the change (the diff against HEAD and the untracked files); null when clean. */
  diff_sha256: string | null;
}

/** At most this many paths are listed in a `files`. */
export const maxListedFiles = 20;

/** A full or abbreviated git commit sha. */
const commitSha = z
  .string()
  .regex(/^[0-9a-f]{7,64}$/, { error: "expected a git commit sha (7 to 64 hex digits)" });

/** A `WorktreeState`, as a trial record keeps it (more keys allowed, for later versions). */
export const WorktreeStateSchema = z.looseObject({
  dirty: z.boolean(),
  changed: z.number().int().min(0),
  files: z.array(z.string()),
  diff_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, { error: "expected 64 lowercase hex digits (SHA-256)" })
    .nullable(),
});

/**
 * The source fields of a trial record: `commit_sha` (null: the trial ran outside git) and
 * `worktree` (null: outside git, or before the first commit). Both absent: a record written
 * before tunix-rt kept them, its source unknown.
 */
export const TrialSourceFields = {
  commit_sha: commitSha.nullable().optional(),
  worktree: WorktreeStateSchema.nullable().optional(),
};

/** The commit and working tree a trial started from, as its record keeps them. */
export interface TrialSource {
  /** The full sha of the commit checked out, or null outside git. */
  commit_sha: string | null;
  worktree: WorktreeState | null;
}

/** What deriving a sweep's source needs of a trial record. */
export interface SourcedTrial {
  trial_id: string;
  commit_sha?: unknown;
  worktree?: unknown;
  started_at?: unknown;
}

/** run_manifest.json `worktree`, for a sweep whose trials recorded their source. */
export interface SweepWorktree extends WorktreeState {
  /** The trials that started from uncommitted changes. */
  dirty_trials: string[];
  /** Trials whose records keep no source (written by an older tunix-rt): not counted above. */
  unknown_trials?: string[];
}

/** One commit the trials ran at (run_manifest.json `commits`). */
export interface CommitTrials {
  commit_sha: string;
  trial_ids: string[];
}

/** What the trial records say of the code a sweep ran. */
export interface SweepSource {
  /**
   * run_manifest.json commit_sha: the commit the best trial ran at, the one whose command,
   * log and rows the evidence carries (null: it ran outside git); undefined when its record
   * keeps no source.
   */
  commit: string | null | undefined;
  /** Every commit a trial ran at, in order of their first trial: more than one is a mixed run. */
  commits: CommitTrials[];
  /**
   * run_manifest.json worktree (null: no trial ran in git); undefined when no record keeps
   * its source.
   */
  worktree: SweepWorktree | null | undefined;
  /** Trials that ran but whose records keep no source. */
  unknown: string[];
  /** The records that keep one, by trial id, in trial order. */
  recorded: ReadonlyMap<string, TrialSource>;
}

/**
 * A trial record's source: the fields when it keeps them (and they are well formed),
 * `"unknown"` when a trial that started keeps none (or malformed ones), `"never-started"`
 * for a record without `started_at` and without a source (the stand-in for a planned trial
 * that left no record, or a hand-written history line): it ran no code.
 */
export function trialSourceOf(record: SourcedTrial): TrialSource | "unknown" | "never-started" {
  const hasSource = record.commit_sha !== undefined || record.worktree !== undefined;
  if (!hasSource) return record.started_at === undefined ? "never-started" : "unknown";
  const commit = TrialSourceFields.commit_sha.safeParse(record.commit_sha);
  const worktree = TrialSourceFields.worktree.safeParse(record.worktree);
  if (!commit.success || !worktree.success) return "unknown";
  const tree = worktree.data;
  return {
    commit_sha: commit.data ?? null,
    worktree: tree
      ? { dirty: tree.dirty, changed: tree.changed, files: tree.files, diff_sha256: tree.diff_sha256 }
      : null,
  };
}

/**
 * The sweep's source from its trials' records (`SweepSource`). When the dirty trials ran
 * from one change, `changed`, `files` and `diff_sha256` are that change's; from several,
 * `files` is their listed paths together (the first 20), `changed` the number of distinct
 * paths (at least the most any one trial changed) and `diff_sha256` null.
 */
export function sweepSource(trials: readonly SourcedTrial[], bestTrialId: string | null): SweepSource {
  const ordered = [...trials].sort((a, b) => compareTrialIds(a.trial_id, b.trial_id));
  const recorded = new Map<string, TrialSource>();
  const unknown: string[] = [];
  for (const trial of ordered) {
    const source = trialSourceOf(trial);
    if (source === "unknown") unknown.push(trial.trial_id);
    else if (source !== "never-started") recorded.set(trial.trial_id, source);
  }
  const commits: CommitTrials[] = [];
  for (const [id, source] of recorded) {
    if (source.commit_sha === null) continue;
    const entry = commits.find((c) => c.commit_sha === source.commit_sha);
    if (entry) entry.trial_ids.push(id);
    else commits.push({ commit_sha: source.commit_sha, trial_ids: [id] });
  }
  const best = bestTrialId === null ? undefined : recorded.get(bestTrialId);
  return {
    commit: best?.commit_sha,
    commits,
    worktree: recorded.size === 0 ? undefined : sweepWorktree(recorded, unknown),
    unknown,
    recorded,
  };
}

function sweepWorktree(recorded: ReadonlyMap<string, TrialSource>, unknown: string[]): SweepWorktree | null {
  const inGit = [...recorded].filter((entry): entry is [string, TrialSource & { worktree: WorktreeState }] =>
    Boolean(entry[1].worktree),
  );
  if (inGit.length === 0) return null;
  const dirty = inGit.filter(([, s]) => s.worktree.dirty);
  const unknownTrials = unknown.length ? { unknown_trials: unknown } : {};
  if (dirty.length === 0)
    return { dirty: false, changed: 0, files: [], diff_sha256: null, dirty_trials: [], ...unknownTrials };
  const trees = dirty.map(([, s]) => s.worktree);
  const diffs = new Set(trees.map((t) => t.diff_sha256));
  const first = trees[0] as WorktreeState;
  const dirtyTrials = dirty.map(([id]) => id);
  if (diffs.size === 1)
    return {
      dirty: true,
      changed: first.changed,
      files: first.files,
      diff_sha256: first.diff_sha256,
      dirty_trials: dirtyTrials,
      ...unknownTrials,
    };
  const files = [...new Set(trees.flatMap((t) => t.files))];
  return {
    dirty: true,
    changed: Math.max(files.length, ...trees.map((t) => t.changed)),
    files: files.slice(0, maxListedFiles),
    diff_sha256: null,
    dirty_trials: dirtyTrials,
    ...unknownTrials,
  };
}

/** What run_manifest.json records of the code its trials ran. */
export interface ManifestSource {
  /** commit_sha (null: "unknown"). */
  commit: string | null;
  /** `commits`, only when the trials ran at more than one. */
  commits?: CommitTrials[];
  worktree: SweepWorktree | WorktreeState | null;
}

/**
 * What run_manifest.json records of the sweep's source: what the trials' records say; a
 * part no record keeps (records of an older tunix-rt) is `fallback`, the state when the
 * sweep started or the evidence was written, its worktree then listing those trials as
 * `unknown_trials`.
 */
export function manifestSource(
  source: SweepSource,
  fallback: { commit: string | null; worktree: WorktreeState | null },
): ManifestSource {
  const worktree =
    source.worktree !== undefined
      ? source.worktree
      : fallback.worktree && source.unknown.length
        ? { ...fallback.worktree, unknown_trials: source.unknown }
        : fallback.worktree;
  return {
    commit: source.commit === undefined ? fallback.commit : source.commit,
    ...(source.commits.length > 1 ? { commits: source.commits } : {}),
    worktree,
  };
}

/** Trial ids for a message: the first few, then how many more. */
export function listTrialIds(ids: readonly string[], max = 5): string {
  return ids.length <= max ? ids.join(", ") : `${ids.slice(0, max).join(", ")} and ${ids.length - max} more`;
}

/** The abbreviation of a commit sha that messages show. */
export const shortSha = (sha: string) => sha.slice(0, 12);
