/**
 * What a sweep report draws, from the sweep config and the trial records alone (as
 * trials.jsonl keeps them): the trials, the recommendation and parameter importance. The
 * aggregate and verify both start here, so a chart in the evidence can be drawn again.
 */

import type { SweepConfig } from "../config/config.js";
import { searchSpaceOf } from "../config/space.js";
import type { Recommendation } from "../search/recommend.js";
import type { TrialRecord } from "../types.js";
import type { ChartTrial, ImportanceView } from "./charts.js";
import { type ParameterImportance, parameterImportance } from "./importance.js";
import {
  type AggregatedTrial,
  buildLeaderboard,
  countTrials,
  leaderboardTable,
  recommendedTrial,
  recommendTrials,
  sweepTitle,
} from "./leaderboard.js";
import type { ReportInput } from "./report.js";

/** The report of a sweep: its inputs (with importance) from the config and the trial records. */
export function reportInputOf(
  config: Pick<
    SweepConfig,
    | "run_version"
    | "search_space"
    | "base_model_id"
    | "dataset_key"
    | "sampler"
    | "seed"
    | "recommend"
    | "max_failed_trials"
    | "pruning"
  >,
  trials: readonly ChartTrial[],
  sweepId: string | null,
  // Trial records, as trials.jsonl holds them (ChartTrial names the fields the charts draw).
  recommendation: Recommendation = recommendTrials(config, trials as unknown as TrialRecord[]),
  notRun = 0,
): ReportInput {
  const records = trials as unknown as AggregatedTrial[];
  return {
    runVersion: config.run_version,
    sweepId,
    space: config.search_space,
    facts: { model: config.base_model_id, dataset: config.dataset_key, sampler: config.sampler },
    trials,
    pruning: config.pruning,
    importance: importanceView(parameterImportance(searchSpaceOf(config.search_space), trials)),
    ...recommendedOf(recommendation),
    // The leaderboard's own table: report.html shows what leaderboard.md shows.
    leaderboard: leaderboardTable(buildLeaderboard(records, recommendation), {
      title: sweepTitle(config.run_version, sweepId),
      counts: countTrials(records, config.max_failed_trials, notRun),
      bestId: recommendedTrial(records, recommendation)?.trial_id ?? null,
      recommendation,
    }),
  };
}

/** The recommended configuration's trial and how it was chosen, for the report. */
function recommendedOf(recommendation: Recommendation): Pick<ReportInput, "recommended"> {
  const best = recommendation.best;
  if (!best) return {};
  return {
    recommended: {
      trial_id: best.trial_ids[0] as string,
      rule: recommendation.rule,
      estimate: best.estimate,
      mean: best.mean,
      count: best.count,
    },
  };
}

/** Importance as the report shows it: the notes, and how much is left to interactions. */
function importanceView(result: ParameterImportance): ImportanceView {
  if (result.params.length === 0) return { method: result.method, params: [], note: result.notes.join("; ") };
  const notes = [
    `${result.samples} scored trials, ${result.trees} trees`,
    ...result.notes,
    `main effects explain ${(100 * result.mainEffects).toFixed(0)}% of the variance, interactions the rest`,
  ];
  return { method: result.method, params: result.params, note: notes.join("; ") };
}
