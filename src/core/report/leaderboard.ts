/**
 * The leaderboard of a sweep's trial records: the rows in rank order, the counts by outcome,
 * the recommended trial, and the table that leaderboard.md (Markdown) and report.html (HTML)
 * both show. Drawn from the records alone, so that verify can draw it again.
 */
import { compareTrialIds, isScored, rankTrials } from "../best-trial.js";
import type { SweepConfig } from "../config/config.js";
import { paramText, searchSpaceOf } from "../config/space.js";
import { markdownText } from "../escape.js";
import { primaryScoreRange } from "../grading/score.js";
import { maxOf } from "../limits.js";
import {
  type ConfigEstimate,
  defaultRecommendSettings,
  type Recommendation,
  recommend,
} from "../search/recommend.js";
import { completedNote } from "../search/trial-record.js";
import type { Params, ParamValue, TrialRecord, TrialStatus } from "../types.js";

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
