// Trial records made from planned trials: the one constructor every record starts from (a
// running trial's trial.json, a trial graded from the user's own steps, the stand-in for a
// planned trial that left no record), and the one rule for which of two records of a trial
// counts. Pure.

import type { TrialRecord, TrialStatus } from "../types.js";
import { type PlannedRungTrial, rungFields } from "./fidelity.js";

/** A record made from a planned trial: the history fields, the plan's fields, the sweep and seed. */
export type PlannedRecord = TrialRecord & { sweep_id: string; seed: number };

/**
 * The record of a planned trial before it has an outcome: its id, params, `status`, no
 * score, its budget, rung, parent, repeat_of and wave (as planned), its sweep and its seed,
 * in that order (the order of trial.json and trials.jsonl).
 */
export function plannedRecord(trial: PlannedRungTrial, status: TrialStatus = "running"): PlannedRecord {
  return {
    trial_id: trial.trial_id,
    params: trial.params,
    status,
    primary_score: null,
    ...(trial.budget === undefined ? {} : { budget: trial.budget }),
    ...rungFields(trial),
    sweep_id: trial.sweep_id,
    seed: trial.seed,
  };
}

/**
 * The stand-in for a planned trial without a record: "running" while it runs, "failed" when
 * it left none (its runner died, its artifact is missing), with the reason when known.
 */
export function standInRecord(
  trial: PlannedRungTrial,
  status: "running" | "failed",
  error?: string,
): PlannedRecord & { error?: string } {
  return { ...plannedRecord(trial, status), ...(error === undefined ? {} : { error }) };
}

/** Which record of a trial counts: completed over pruned over timeout over failed over running. */
const statusRank: Readonly<Record<string, number>> = {
  completed: 0,
  pruned: 1,
  timeout: 2,
  failed: 3,
  running: 4,
};

/**
 * Whether record `a` of a trial should be kept over record `b` of the same trial: the better
 * status (a completed one over any other), then the one that finished (or started) later, a
 * re-run's attempt over the earlier one.
 */
export function preferRecord(a: TrialRecord, b: TrialRecord): boolean {
  const rank = (r: TrialRecord) => statusRank[r.status] ?? 9;
  if (rank(a) !== rank(b)) return rank(a) < rank(b);
  const when = (r: TrialRecord) => String(r.finished_at ?? r.started_at ?? "");
  return when(a) > when(b);
}

/**
 * The note of a completed trial (`note`: what grading met that did not fail it), or
 * undefined. Records written before `note` existed kept it in `error`, which for a completed
 * trial can be nothing else.
 */
export function completedNote(record: {
  status: string;
  note?: unknown;
  error?: unknown;
}): string | undefined {
  if (record.status !== "completed") return undefined;
  if (typeof record.note === "string" && record.note !== "") return record.note;
  return typeof record.error === "string" && record.error !== "" ? record.error : undefined;
}

/**
 * What a trial's outcome line says after its score: `: <why it failed>`, or ` (<note>)` for a
 * completed trial graded over part of its evalset (a score over part of it must not read like
 * one over all of it), or nothing.
 */
export function outcomeSuffix(record: { status: string; note?: unknown; error?: unknown }): string {
  // A pruned trial's note says at which step and against what it was stopped.
  if (record.status === "pruned" && typeof record.note === "string") return `: ${record.note}`;
  if (record.status !== "completed") return typeof record.error === "string" ? `: ${record.error}` : "";
  const note = completedNote(record);
  return note ? ` (${note})` : "";
}
