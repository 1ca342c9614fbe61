/**
 * Every trial's score, recomputable from the evidence: `grades.jsonl` keeps, for each scored
 * trial, the counted value of each of its graded rows (`rowValue`, in the order of its
 * eval_rows.jsonl) and the SHA-256 of its eval_rows.jsonl and predictions.jsonl, whose full
 * copies stay in the trial's folder (its artifact on GitHub). The best trial's rows are in
 * the evidence in full; the others' would be kilobytes of reasoning per row, so only what
 * recomputes their primary_score is kept: a character per row when every value is 0 or 1
 * (`1`, `0`, `-` for a row that counts nothing), else a list of numbers and nulls. verify
 * recomputes each trial's primary_score, rows and counted from its line, so the
 * recommendation's whole input is checked, and the best trial's line must be its rows'.
 */
import { ScoreAccumulator, type ScoreResult } from "./score.js";

/** The file, beside trials.jsonl in an evidence folder. */
export const gradesFileName = "grades.jsonl";

/** One line of grades.jsonl. */
export interface TrialGrades {
  trial_id: string;
  /** Rows graded, and how many counted (as the trial's record says). */
  rows: number;
  counted: number;
  /** Each row's counted value: a `1`/`0`/`-` string, or numbers and nulls. */
  grades: string | Array<number | null>;
  /** SHA-256 of the trial's eval_rows.jsonl, as its folder (artifact) holds it. */
  eval_rows_sha256: string;
  /** SHA-256 of its predictions.jsonl, or null when the trainer graded itself. */
  predictions_sha256: string | null;
}

/** The compact form of row values: a string when every value is 0, 1 or none. */
export function encodeGrades(values: readonly (number | undefined)[]): string | Array<number | null> {
  if (values.every((v) => v === undefined || v === 0 || v === 1))
    return values.map((v) => (v === undefined ? "-" : String(v))).join("");
  return values.map((v) => (v === undefined ? null : v));
}

/** Row values back from their compact form; undefined when it is neither form. */
export function decodeGrades(grades: unknown): Array<number | undefined> | undefined {
  if (typeof grades === "string") {
    if (!/^[01-]*$/.test(grades)) return undefined;
    return [...grades].map((c) => (c === "-" ? undefined : Number(c)));
  }
  if (!Array.isArray(grades)) return undefined;
  const values: Array<number | undefined> = [];
  for (const g of grades) {
    if (g === null) values.push(undefined);
    else if (typeof g === "number" && g >= 0 && g <= 1) values.push(g);
    else return undefined;
  }
  return values;
}

/** primary_score, rows and counted of row values, as the rows themselves give them. */
export function scoreOfValues(values: readonly (number | undefined)[]): ScoreResult {
  const accumulator = new ScoreAccumulator();
  for (const v of values) accumulator.addValue(v);
  return accumulator.result;
}
