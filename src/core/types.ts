/**
 * A parameter value as a trial receives it: a number, string, boolean or null, or (a choice's
 * value) any JSON list or mapping.
 */
export type ParamValue = number | string | boolean | null | ParamValue[] | { [key: string]: ParamValue };

/** One trial's hyperparameters, keyed by parameter name. */
export type Params = Record<string, ParamValue>;

/** A trial's outcome. `running` appears only in a history written mid-sweep. */
export type TrialStatus = "completed" | "failed" | "timeout" | "pruned" | "running";

/**
 * One line of a history / `trials.jsonl`, and the core of `trial.json` (DESIGN.md,
 * "History / trial records"). Concatenated `trial.json` files are a valid history.
 */
export interface TrialRecord {
  trial_id: string;
  params: Params;
  status: TrialStatus;
  primary_score: number | null;
  /** Fidelity the trial ran at (steps, epochs, ...), when the sweep uses budgets. */
  budget?: number;
  [extra: string]: unknown;
}

/** A trial as planned: what a matrix entry carries. */
export interface PlannedTrial {
  sweep_id: string;
  trial_id: string;
  seed: number;
  params: Params;
  /** Present only for multi-fidelity sweeps: the budget, the rung and the promoted-from trial. */
  budget?: number;
  rung?: number;
  parent?: string;
  /** The wave the trial was planned in (1-based), when the sweep runs in waves. */
  wave?: number;
  /** A re-evaluation run: the original trial whose configuration it runs again, with a new seed. */
  repeat_of?: string;
}

/** One evalset item (`training/evalsets/*.jsonl`). */
export interface EvalItem {
  id: string;
  prompt: string;
  expected_answer: string;
  category?: string;
  difficulty?: string;
}

/** One graded row (`eval_rows.jsonl`). */
export interface EvalRow {
  id: string;
  prediction: string;
  expected_answer: string;
  metrics: { answer_correctness: number };
  score: number;
  [extra: string]: unknown;
}
