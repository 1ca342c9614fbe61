/**
 * The files of an evidence folder that are drawn from the others: `leaderboard.md` and
 * `charts/*.svg`, from trials.jsonl's records and the sweep config (with the sweep id and
 * the count of trials not run that the manifest records). The aggregate writes them from
 * what it writes into trials.jsonl, and verify draws them again and compares byte for byte,
 * so an edited leaderboard or chart fails, named with its first difference.
 */

import type { SweepConfig } from "../config/config.js";
import type { Chart } from "../report/charts.js";
import { reportInputOf } from "../report/input.js";
import {
  type AggregatedTrial,
  buildLeaderboard,
  countTrials,
  type LeaderboardRow,
  recommendedTrial,
  recommendTrials,
  type TrialCounts,
  tableMarkdown,
} from "../report/leaderboard.js";
import { type ReportInput, sweepCharts } from "../report/report.js";
import type { Recommendation } from "../search/recommend.js";

/** What the derived files are drawn from. */
export interface DerivedInputs {
  config: SweepConfig;
  /** The records as trials.jsonl keeps them (by trial id). */
  trials: readonly AggregatedTrial[];
  /** The sweep's id (run_manifest.json tuning_job_id). */
  sweepId: string | null;
  /** Planned trials a spent failure budget kept from starting (run_manifest.json trials.not_run). */
  notRun: number;
  /** The recommendation of these trials under this config, when the caller already has it. */
  recommendation?: Recommendation;
}

/** The derived files and what they were drawn from. */
export interface DerivedEvidence {
  recommendation: Recommendation;
  leaderboard: LeaderboardRow[];
  counts: TrialCounts;
  best: AggregatedTrial | undefined;
  leaderboardMd: string;
  report: ReportInput;
  /** The charts of the evidence (none without a best trial). */
  charts: Chart[];
}

/** Draws the derived files from their inputs. */
export function deriveEvidence({
  config,
  trials,
  sweepId,
  notRun,
  ...given
}: DerivedInputs): DerivedEvidence {
  const recommendation = given.recommendation ?? recommendTrials(config, trials);
  const leaderboard = buildLeaderboard(trials, recommendation);
  const counts = countTrials(trials, config.max_failed_trials, notRun);
  const best = recommendedTrial(trials, recommendation);
  // One table feeds both pages: leaderboard.md is the report's leaderboard as Markdown.
  const report = reportInputOf(config, trials, sweepId, recommendation, notRun);
  const leaderboardMd = tableMarkdown(report.leaderboard as NonNullable<ReportInput["leaderboard"]>);
  return {
    recommendation,
    leaderboard,
    counts,
    best,
    leaderboardMd,
    report,
    charts: best ? sweepCharts(report) : [],
  };
}

/**
 * Where two texts first differ, for a message: the line and column (1-based), and both lines
 * clipped around the first differing character. Undefined when they are the same.
 */
export function firstTextDifference(
  got: string,
  expected: string,
): { line: number; column: number; got: string; expected: string } | undefined {
  if (got === expected) return undefined;
  const a = got.split("\n");
  const b = expected.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const x = a[i] ?? "(end of file)";
  const y = b[i] ?? "(end of file)";
  let c = 0;
  while (c < x.length && c < y.length && x[c] === y[c]) c++;
  const clip = (s: string) => {
    const from = Math.max(0, c - 30);
    return `${from > 0 ? "…" : ""}${s.slice(from, from + 80)}${s.length > from + 80 ? "…" : ""}`;
  };
  return { line: i + 1, column: c + 1, got: clip(x), expected: clip(y) };
}
