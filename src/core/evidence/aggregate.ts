/**
 * What aggregate writes besides the leaderboard: the evidence documents of the best trial
 * (run_manifest.json, eval_summary.json, best_params.json), trials.jsonl's lines, the
 * recommendation block, and the promoted config.
 */
import { stringify } from "yaml";
import type { SweepConfig } from "../config/config.js";
import type { AggregatedTrial, TrialCounts } from "../report/leaderboard.js";
import type { ConfigEstimate, Recommendation } from "../search/recommend.js";
import type { TrialRecord } from "../types.js";
import type { CommitTrials, SweepWorktree, WorktreeState } from "./source.js";

/**
 * Why a sweep stops before it runs more trials, when its trials so far all failed: with no
 * max_failed_trials, `early_stop_failures` failures and no completed trial (a trainer that
 * fails every trial would fail the rest too). Undefined while the sweep should go on.
 */
export function earlyStop(
  config: Pick<SweepConfig, "max_failed_trials" | "early_stop_failures">,
  records: Iterable<Pick<TrialRecord, "trial_id" | "status"> & { error?: unknown }>,
): string | undefined {
  const limit = config.max_failed_trials === null ? config.early_stop_failures : 0;
  if (limit <= 0) return undefined;
  const failed: Array<{ trial_id: string; error?: unknown }> = [];
  for (const r of records) {
    // A pruned trial's trainer ran and reported: the trainer works.
    if (r.status === "completed" || r.status === "pruned") return undefined;
    if (r.status === "failed" || r.status === "timeout") failed.push(r);
  }
  if (failed.length < limit) return undefined;
  const first = failed[0];
  const why = first && typeof first.error === "string" ? `; ${first.trial_id}: ${first.error}` : "";
  return `the first ${failed.length} trials all failed and none completed${why}`;
}

/** Where the evidence came from: everything the manifest records besides the trials. */
export interface Provenance {
  runVersion: string;
  /** The sweep config as given, relative to the repository root. */
  configPath: string;
  configSha256: string;
  /** The promoted config, relative to the repository root. */
  bestConfigPath: string;
  /** run_manifest.json commit_sha: the best trial's commit (`manifestSource`). */
  commit: string | null;
  /** Every commit the trials ran at, when more than one (`manifestSource`). */
  commits?: CommitTrials[];
  /** ISO 8601 time the evidence was written. */
  timestamp: string;
  toolkit: string;
  runner: string;
  /** The workflow run's URL on GitHub, or null. */
  workflowRunUrl: string | null;
  /** Name of the best trial's run (an artifact name on GitHub, the trial folder locally). */
  bestRunId: string | null;
  sampler: string | null;
  seed: number;
  /**
   * The working trees the trials ran from, against their commits (`manifestSource`); null
   * outside git.
   */
  worktree: SweepWorktree | WorktreeState | null;
}

/** A string for reading, not running: argv joined with POSIX shell quoting where needed. */
export function shellQuote(argv: readonly string[]): string {
  return argv
    .map((a) => (a !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

/** The three JSON evidence documents of DESIGN.md, for the best trial. */
export function evidenceDocuments(
  config: SweepConfig,
  best: AggregatedTrial,
  counts: TrialCounts,
  p: Provenance,
  recommendation?: Recommendation,
): {
  run_manifest: Record<string, unknown>;
  eval_summary: Record<string, unknown>;
  best_params: Record<string, unknown>;
} {
  const sweepId = typeof best.sweep_id === "string" ? best.sweep_id : null;
  const run_manifest = {
    run_version: p.runVersion,
    model_id: config.base_model_id,
    dataset: config.dataset_key,
    config_path: p.bestConfigPath,
    command: shellQuote(best.command ?? config.trainer?.command ?? []),
    commit_sha: p.commit ?? "unknown",
    ...(p.commits && p.commits.length > 1 ? { commits: p.commits } : {}),
    worktree: p.worktree,
    timestamp: p.timestamp,
    tuning_job_id: sweepId,
    trial_id: best.trial_id,
    sweep_config_path: p.configPath,
    sweep_config_sha256: p.configSha256,
    toolkit: p.toolkit,
    sampler: p.sampler,
    seed: p.seed,
    runner: best.runner ?? p.runner,
    aggregated_by: p.runner,
    workflow_run_url: p.workflowRunUrl,
    trials: counts,
  };
  const eval_summary = {
    run_version: p.runVersion,
    eval_set: config.evalset ?? "eval_rows.jsonl (graded by the trainer)",
    metrics: {
      answer_correctness: best.primary_score,
      rows: typeof best.rows === "number" ? best.rows : null,
      counted: typeof best.counted === "number" ? best.counted : null,
    },
    primary_score: best.primary_score,
    evaluated_at: typeof best.finished_at === "string" ? best.finished_at : p.timestamp,
    trial_id: best.trial_id,
  };
  const best_params = {
    source: "tunix-rt sweep",
    tuning_job_id: sweepId,
    trial_id: best.trial_id,
    best_run_id: p.bestRunId,
    params: best.params,
    primary_score: best.primary_score,
    ...(best.budget === undefined ? {} : { budget: best.budget }),
    ...(recommendation?.best ? { recommendation: recommendationRecord(recommendation) } : {}),
    sweep_config: config,
  };
  return { run_manifest, eval_summary, best_params };
}

/**
 * How the best configuration was chosen, for best_params.json: the rule that chose, the
 * configuration's estimate beside the observation, its runs' statistics and the notes.
 * `verify` recomputes it from trials.jsonl and the sweep config.
 */
export function recommendationRecord(recommendation: Recommendation): Record<string, unknown> {
  const best = recommendation.best as ConfigEstimate;
  return {
    rule: recommendation.rule,
    trial_id: best.trial_id,
    estimate: best.estimate,
    observed: best.observed,
    mean: best.mean,
    spread: best.spread,
    count: best.count,
    trial_ids: best.trial_ids,
    notes: recommendation.notes,
  };
}

/** A trial record as `trials.jsonl` keeps it: the history fields first, then the rest. */
export function trialLine(t: AggregatedTrial): Record<string, unknown> {
  const { trial_id, params, status, primary_score, budget, ...rest } = t;
  return { trial_id, params, status, primary_score, ...(budget === undefined ? {} : { budget }), ...rest };
}

/**
 * Where a run_version's promoted config goes by default: one file per run_version, so the
 * evidence of one run never travels with another run's params.
 */
export function promotedConfigPath(runVersion: string): string {
  return `training/configs/${runVersion}_best.yaml`;
}

/** The promoted config (`promotedConfigPath`): the best trial's params with a provenance block. */
export function bestConfigYaml(
  config: SweepConfig,
  best: AggregatedTrial,
  p: Provenance,
  recommendation?: Recommendation,
): string {
  const chosen = recommendation?.best;
  const doc = {
    run_version: p.runVersion,
    base_model_id: config.base_model_id,
    dataset_key: config.dataset_key,
    params: best.params,
    ...(best.budget === undefined ? {} : { budget: best.budget }),
    provenance: {
      tool: p.toolkit,
      sweep_config: p.configPath,
      sweep_id: best.sweep_id ?? null,
      trial_id: best.trial_id,
      primary_score: best.primary_score,
      ...(chosen && recommendation
        ? { recommended_by: recommendation.rule, estimate: chosen.estimate, runs: chosen.count }
        : {}),
      metric: `${config.metric_name} (max)`,
      commit: p.commit,
      date: p.timestamp,
      workflow_run_url: p.workflowRunUrl,
    },
  };
  return `# Promoted by tunix-rt: the best trial of a sweep. Regenerated by \`tunix-rt aggregate\`;\n# edit the sweep config instead.\n${stringify(doc, { lineWidth: 0 })}`;
}
