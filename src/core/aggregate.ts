import { stringify } from "yaml";
import type { SweepConfig } from "./config.js";
import { markdownText } from "./escape.js";
import { compareTrialIds, isScored, rankTrials } from "./evidence/best-trial.js";
import { maxOf } from "./limits.js";
import {
  type ConfigEstimate,
  defaultRecommendSettings,
  type Recommendation,
  recommend,
} from "./recommend.js";
import { primaryScoreRange } from "./score.js";
import type { CommitTrials, SweepWorktree, WorktreeState } from "./source.js";
import { paramText, searchSpaceOf } from "./space.js";
import { completedNote } from "./trial-record.js";
import type { Params, ParamValue, TrialRecord, TrialStatus } from "./types.js";

/** A trial record as aggregate reads it from `trial.json` (the fields it relies on). */
export interface AggregatedTrial extends TrialRecord {
  sweep_id?: string;
  duration_s?: number | null;
  error?: string | null;
  /** A completed trial's note (what grading met that did not fail it). */
  note?: string;
  command?: string[];
  finished_at?: string | null;
  started_at?: string | null;
  runner?: string;
  seed?: number;
}

/** One row of the leaderboard. */
export interface LeaderboardRow {
  /** 1-based among trials with a score; null for trials without one. */
  rank: number | null;
  trial_id: string;
  params: Params;
  primary_score: number | null;
  status: TrialStatus;
  duration_s: number | null;
  budget?: number;
  /** Successive-halving rung (0 = the lowest budget), when the sweep has one. */
  rung?: number;
  /** The re-evaluated trial this one runs again. */
  repeat_of?: string;
  /** Its configuration as the recommendation saw it: the rule's estimate and its runs' statistics. */
  config?: Pick<ConfigEstimate, "estimate" | "mean" | "spread" | "count">;
  error: string | null;
  /** A completed trial: what grading met that did not fail it (`completedNote`). */
  note?: string;
  /** The config's tracked_metric as the trial recorded it: its last value in metrics.jsonl. */
  tracked?: { name: string; value: number | null };
}

/**
 * The recommendation of a sweep's trials under its config's rule (`recommend`, seeded with
 * the config's seed), as aggregate makes it and verify recomputes it from trials.jsonl.
 */
export function recommendTrials(
  config: Pick<SweepConfig, "search_space" | "recommend" | "seed">,
  trials: readonly TrialRecord[],
): Recommendation {
  return recommend(searchSpaceOf(config.search_space), trials, {
    rule: config.recommend,
    seed: config.seed,
    range: primaryScoreRange,
  });
}

/**
 * The trial that stands for the recommended configuration in the evidence (its rows, its
 * log): its original run when scored, else its first scored run.
 */
export function recommendedTrial<T extends TrialRecord>(
  trials: readonly T[],
  recommendation: Recommendation,
): T | undefined {
  const id = recommendation.best?.trial_ids[0];
  return id === undefined ? undefined : trials.find((t) => t.trial_id === id);
}

/**
 * The leaderboard. With a recommendation: its configurations best first (rank 1 is the
 * recommended one), each configuration's runs together under one rank (the original, then
 * its repeats); then the other scored trials (lower budgets of a multi-fidelity sweep) by
 * `compareTrials`. Without one: the scored trials by `compareTrials`. Then the rest by trial
 * id, without a rank.
 */
/** A record's tracked_metric, when it holds a well-formed one (records are evidence). */
function trackedOf(t: AggregatedTrial): Pick<LeaderboardRow, "tracked"> {
  const m = (t as { tracked_metric?: unknown }).tracked_metric;
  if (m === null || typeof m !== "object") return {};
  const { name, value } = m as { name?: unknown; value?: unknown };
  if (typeof name !== "string") return {};
  return { tracked: { name, value: typeof value === "number" && Number.isFinite(value) ? value : null } };
}

export function buildLeaderboard(
  trials: readonly AggregatedTrial[],
  recommendation?: Recommendation,
): LeaderboardRow[] {
  const rest = trials.filter((t) => !isScored(t)).sort((a, b) => compareTrialIds(a.trial_id, b.trial_id));
  const row = (t: AggregatedTrial, rank: number | null, config?: ConfigEstimate): LeaderboardRow => {
    const note = completedNote(t);
    return {
      rank,
      trial_id: t.trial_id,
      params: t.params,
      primary_score: t.primary_score,
      status: t.status,
      duration_s: typeof t.duration_s === "number" ? t.duration_s : null,
      ...(t.budget === undefined ? {} : { budget: t.budget }),
      ...(typeof t.rung === "number" ? { rung: t.rung } : {}),
      ...(typeof t.repeat_of === "string" ? { repeat_of: t.repeat_of } : {}),
      ...(config
        ? {
            config: {
              estimate: config.estimate,
              mean: config.mean,
              spread: config.spread,
              count: config.count,
            },
          }
        : {}),
      error: t.status !== "completed" && typeof t.error === "string" ? t.error : null,
      ...(note === undefined ? {} : { note }),
      ...trackedOf(t),
    };
  };
  const byId = new Map(trials.map((t) => [t.trial_id, t] as const));
  const rows: LeaderboardRow[] = [];
  const placed = new Set<string>();
  recommendation?.configs.forEach((config, i) => {
    for (const id of config.trial_ids) {
      const t = byId.get(id);
      if (!t || placed.has(id)) continue;
      placed.add(id);
      rows.push(row(t, i + 1, config));
    }
  });
  let rank = recommendation?.configs.length ?? 0;
  for (const t of rankTrials(trials)) if (!placed.has(t.trial_id)) rows.push(row(t, ++rank));
  return [...rows, ...rest.map((t) => row(t, null))];
}

/** Counts of trials by outcome, and whether the failure budget was exceeded. */
export interface TrialCounts {
  total: number;
  completed: number;
  failed: number;
  timeout: number;
  pruned: number;
  running: number;
  /** Trials of the sweep that never started (its failure budget was spent first); not in `total`. */
  not_run: number;
  /** failed + timeout: what `max_failed_trials` limits. */
  failures: number;
  max_failed_trials: number | null;
  failure_budget_exceeded: boolean;
}

/** Counts trials and checks them against `max_failed_trials` (null: no limit). */
export function countTrials(
  trials: readonly AggregatedTrial[],
  maxFailed: number | null,
  notRun = 0,
): TrialCounts {
  const by = (s: TrialStatus) => trials.filter((t) => t.status === s).length;
  const failed = by("failed");
  const timeout = by("timeout");
  const failures = failed + timeout;
  return {
    total: trials.length,
    completed: by("completed"),
    failed,
    timeout,
    pruned: by("pruned"),
    running: by("running"),
    not_run: notRun,
    failures,
    max_failed_trials: maxFailed,
    failure_budget_exceeded: maxFailed !== null && failures > maxFailed,
  };
}

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

const formatScore = (s: number | null) => (s === null ? "–" : s.toFixed(4));

/** How the best configuration was chosen, for the leaderboard's summary line (plain text). */
function chosenBy(recommendation: Recommendation | undefined): string {
  const best = recommendation?.best;
  if (!recommendation || !best) return "";
  if (recommendation.rule === "repeats_mean")
    return `, chosen by the mean of its ${best.count} runs (${formatScore(best.mean)} ± ${formatScore(best.spread)}; the ${best.count > 1 ? "runs are" : "run is"} ${best.trial_ids.join(", ")})`;
  if (recommendation.rule === "model")
    return `, chosen by the model's estimate of its true score (${formatScore(best.estimate)}; observed ${formatScore(best.observed)})`;
  return "";
}

/**
 * The leaderboard as a table, in plain text: what `leaderboard.md` (Markdown) and report.html
 * (HTML) both show, each escaping it for where it goes, so the two pages agree.
 */
export interface LeaderboardTable {
  title: string;
  /** The counts and the best trial: `8 trials: 6 completed, ... . Best: t0007, chosen by ...`. */
  summary: string;
  /** The failure budget's line, when it was exceeded. */
  budget?: string;
  /** How the ranks are ordered, when an estimate column does not run in order down the table. */
  order?: string;
  /** How an exact tie at the top was broken. */
  tie?: string;
  columns: string[];
  rows: Array<{ best: boolean; cells: string[] }>;
  /** How many more trials trials.jsonl has than the table shows. */
  more: number;
  /** Each failed or timed-out trial and why, in rank order. */
  failures: Array<{ trial_id: string; status: string; reason: string }>;
  /** Each completed trial's note (a score over part of the evalset). */
  notes: Array<{ trial_id: string; note: string }>;
}

/** What the leaderboard is drawn from besides its rows. */
export interface LeaderboardOptions {
  title: string;
  counts: TrialCounts;
  bestId: string | null;
  recommendation?: Recommendation;
  limit?: number;
}

/** The leaderboard's table (see `LeaderboardTable`). */
/** A parameter's cell: a list or mapping (a choice's value) as JSON, anything else as it is. */
const paramCell = (v: ParamValue | undefined): string => (v === undefined ? "" : paramText(v));

export function leaderboardTable(
  rows: readonly LeaderboardRow[],
  { title, counts, bestId, recommendation, limit = 50 }: LeaderboardOptions,
): LeaderboardTable {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.params)))];
  const withBudget = rows.some((r) => r.budget !== undefined);
  const withRung = rows.some((r) => r.rung !== undefined);
  const withEstimate = recommendation !== undefined && recommendation.rule === "model";
  const withRuns = rows.some((r) => (r.config?.count ?? 1) > 1);
  // The trainer's own metric (tracked_metric), recorded beside primary_score, never ranked by.
  const tracked = rows.find((r) => r.tracked)?.tracked?.name;
  const columns = [
    "rank",
    "trial",
    ...names,
    ...(withRung ? ["rung"] : []),
    ...(withBudget ? ["budget"] : []),
    "primary_score",
    ...(withEstimate ? ["estimate"] : []),
    ...(withRuns ? ["mean ± sd (runs)"] : []),
    ...(tracked === undefined ? [] : [tracked]),
    "status",
    "duration",
  ];
  const summary =
    `${counts.total} trials: ${counts.completed} completed, ${counts.failed} failed, ${counts.timeout} timed out` +
    (counts.pruned ? `, ${counts.pruned} pruned` : "") +
    (counts.not_run ? `, ${counts.not_run} not run` : "") +
    `. Best: ${bestId === null ? "none (no completed trial with a score)" : bestId}${chosenBy(recommendation)}.`;
  const budget = counts.failure_budget_exceeded
    ? `Failure budget exceeded: ${counts.failures} failed trials, max_failed_trials is ${counts.max_failed_trials}${counts.not_run ? `; ${counts.not_run} trials were not run` : ""}.`
    : undefined;
  const order = rankOrder(recommendation);
  const tie = recommendation?.notes.find((n) => n.startsWith("tie: "));
  const shown = rows.slice(0, limit).map((r) => ({
    best: r.trial_id === bestId,
    cells: [
      r.rank === null ? "–" : String(r.rank),
      r.trial_id,
      ...names.map((n) => paramCell(r.params[n])),
      ...(withRung ? [r.rung === undefined ? "" : String(r.rung)] : []),
      ...(withBudget ? [r.budget === undefined ? "" : String(r.budget)] : []),
      formatScore(r.primary_score),
      ...(withEstimate ? [r.config ? formatScore(r.config.estimate) : "–"] : []),
      ...(withRuns
        ? [
            r.config && r.config.count > 1
              ? `${formatScore(r.config.mean)} ± ${formatScore(r.config.spread)} (${r.config.count})`
              : r.config
                ? `${formatScore(r.config.mean)} (1)`
                : "–",
          ]
        : []),
      ...(tracked === undefined
        ? []
        : [r.tracked?.value === null || r.tracked === undefined ? "–" : String(r.tracked.value)]),
      r.note === undefined ? r.status : `${r.status} (note)`,
      r.duration_s === null ? "–" : `${r.duration_s.toFixed(1)}s`,
    ],
  }));
  return {
    title,
    summary,
    ...(budget ? { budget } : {}),
    ...(order ? { order } : {}),
    ...(tie ? { tie: `Tie${tie.slice("tie".length)}.` } : {}),
    columns,
    rows: shown,
    more: Math.max(0, rows.length - limit),
    failures: rows
      .filter((r) => r.status === "failed" || r.status === "timeout")
      .slice(0, limit)
      .map((r) => ({ trial_id: r.trial_id, status: r.status, reason: r.error ?? "no reason recorded" })),
    notes: rows
      .slice(0, limit)
      .filter((r) => r.note !== undefined)
      .map((r) => ({ trial_id: r.trial_id, note: r.note ?? "" })),
  };
}

/**
 * Why the ranks run as they do, when a column of estimates need not run in order down the
 * table: the model recommends from a shortlist of the best observed configurations, ranked
 * first; re-evaluated configurations come before the others.
 */
function rankOrder(recommendation: Recommendation | undefined): string | undefined {
  if (!recommendation) return undefined;
  const configs = recommendation.configs;
  if (recommendation.rule === "model") {
    const k = Math.min(defaultRecommendSettings.candidates, configs.length);
    if (configs.length <= k) return undefined;
    return `Ranks 1–${k} are the model's shortlist, the ${k} best observed configurations, by its estimate of their true score (it recommends only from them); the other configurations follow, also by its estimate, so the estimate column starts again below rank ${k}.`;
  }
  if (recommendation.rule === "repeats_mean") {
    const most = maxOf(
      configs.map((c) => c.count),
      0,
    );
    const k = configs.filter((c) => c.count === most).length;
    if (configs.length <= k) return undefined;
    return `${k === 1 ? `Rank 1 is the configuration run ${most} times` : `Ranks 1–${k} are the configurations run ${most} times, by the mean of their runs`}; the other configurations follow, by their score.`;
  }
  return undefined;
}

/** The sweep's title, as leaderboard.md and the report head it. */
export function sweepTitle(runVersion: string, sweepId: string | null): string {
  return `tunix-rt sweep ${runVersion}${sweepId ? ` (${sweepId})` : ""}`;
}

/** The leaderboard as Markdown (evidence's `leaderboard.md`, job summaries, PR bodies). */
export function leaderboardMarkdown(rows: readonly LeaderboardRow[], options: LeaderboardOptions): string {
  return tableMarkdown(leaderboardTable(rows, options));
}

/** A leaderboard table as Markdown. */
export function tableMarkdown(table: LeaderboardTable): string {
  const lines = [`## ${markdownText(table.title)}`, "", markdownText(table.summary)];
  if (table.budget) lines.push("", `**${markdownText(table.budget)}**`);
  if (table.tie) lines.push("", markdownText(table.tie));
  if (table.order) lines.push("", markdownText(table.order));
  lines.push(
    "",
    `| ${table.columns.map(markdownText).join(" | ")} |`,
    `|${table.columns.map(() => "---").join("|")}|`,
  );
  for (const row of table.rows) {
    const cells = row.cells.map(markdownText);
    if (row.best) cells[1] = `**${cells[1]}**`;
    lines.push(`| ${cells.join(" | ")} |`);
  }
  if (table.more) lines.push("", `(${table.more} more trials in trials.jsonl)`);
  if (table.failures.length) {
    lines.push("", "### Failed trials", "");
    for (const f of table.failures)
      lines.push(`- ${markdownText(f.trial_id)} (${f.status}): ${markdownText(f.reason)}`);
  }
  // A completed trial's score may stand on part of the evalset: its note says so beside it.
  if (table.notes.length) {
    lines.push("", "### Notes on completed trials", "");
    for (const n of table.notes) lines.push(`- ${markdownText(n.trial_id)}: ${markdownText(n.note)}`);
  }
  return `${lines.join("\n")}\n`;
}
