/**
 * primary_score, the M34 semantics exactly (DESIGN.md, "primary_score"): the mean of one
 * counted value per eval row, answer_correctness first, the 0-100 `score` as a fallback.
 */
import { isObject } from "../json.js";
import { pyFloat } from "../python.js";

/**
 * Coerces a value like Python's `float()`: numbers as they are (NaN and infinities included:
 * the range check rejects them later), booleans as 1 and 0, strings as Python reads them
 * (see `pyFloat`). Anything else (null, objects, arrays, text that is not a number) gives
 * undefined, where Python raises TypeError or ValueError.
 */
export function coerceFloat(value: unknown): number | undefined {
  switch (typeof value) {
    case "number":
      return value;
    case "boolean":
      return value ? 1 : 0;
    case "string":
      return pyFloat(value);
    case "bigint":
      // Not produced by JSON.parse; Python's float(int) rounds to the nearest double, as Number() does.
      return Number(value);
    default:
      return undefined;
  }
}

/** `dict.get(key)`: an own property only, so nothing inherited from Object.prototype counts. */
function get(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * The counted value of one eval row, or undefined when the row counts nothing. Each clause of
 * DESIGN.md's definition is marked where it is applied.
 */
export function rowValue(row: unknown): number | undefined {
  // A line that is not an object has neither field (Python's `row.get` would not even run):
  // it is a row that counts nothing.
  if (!isObject(row)) return undefined;
  let value: number | undefined;
  const metrics = get(row, "metrics");
  // "if row.metrics is an object (not an array)"
  if (isObject(metrics)) {
    const correctness = get(metrics, "answer_correctness");
    // "and metrics.answer_correctness is present and not null"
    if (correctness !== undefined && correctness !== null) {
      // "coerce it like Python's float() ... anything else makes it missing"
      value = coerceFloat(correctness);
    }
  }
  // "Only when that gives nothing, fall back to row.score coerced the same way": an
  // answer_correctness that coerced to a number (even out of range, even NaN) blocks this.
  if (value === undefined) {
    const score = get(row, "score");
    const raw = score === null ? undefined : coerceFloat(score);
    // "divided by 100 when it is above 1.0": 1.0 itself stays 1.0, NaN is not above 1.0 and
    // stays NaN, +Infinity becomes +Infinity; the range check below drops both.
    if (raw !== undefined) value = raw > 1 ? raw / 100 : raw;
  }
  // "A value counts only if 0 <= v <= 1": NaN fails both comparisons; an out-of-range
  // answer_correctness is dropped here, having never fallen back to score.
  return value !== undefined && value >= 0 && value <= 1 ? value : undefined;
}

/** primary_score over some rows, with how many rows there were and how many counted. */
export interface ScoreResult {
  /** The plain mean of the counted values; null when none counted. */
  primary_score: number | null;
  /** Rows seen (every value given to `add`). */
  rows: number;
  /** Rows whose value counted. */
  counted: number;
}

/**
 * Accumulates primary_score one row at a time, so a file of any length can be scored while it
 * streams. The sum is the compensated (Neumaier) summation that CPython's `sum()` uses for
 * floats since 3.12, step for step, so the mean equals Python 3.12+'s
 * `sum(values) / len(values)` bit for bit, and is within rounding of the exact mean (older
 * Pythons sum naively; over a million values in [0, 1] the two differ by far less than 1e-12).
 */
export class ScoreAccumulator {
  #rows = 0;
  #counted = 0;
  #sum = 0;
  #compensation = 0;

  /** Adds one row (any JSON value; a non-object counts nothing). */
  add(row: unknown): void {
    this.addValue(rowValue(row));
  }

  /** Adds one row by its counted value (`rowValue`), undefined for a row that counts nothing. */
  addValue(value: number | undefined): void {
    this.#rows++;
    if (value !== undefined) this.#addValue(value);
  }

  #addValue(value: number): void {
    this.#counted++;
    const sum = this.#sum;
    const next = sum + value;
    // Neumaier: keep the low-order bits that `sum + value` lost, from whichever operand is smaller.
    if (Math.abs(sum) >= Math.abs(value)) this.#compensation += sum - next + value;
    else this.#compensation += value - next + sum;
    this.#sum = next;
  }

  /** The score so far: `{primary_score, rows, counted}`. */
  get result(): ScoreResult {
    if (this.#counted === 0) return { primary_score: null, rows: this.#rows, counted: 0 };
    const c = this.#compensation;
    // As CPython: add the compensation only when it is finite and not zero.
    const total = c !== 0 && Number.isFinite(c) ? this.#sum + c : this.#sum;
    return { primary_score: total / this.#counted, rows: this.#rows, counted: this.#counted };
  }
}

/** primary_score of some rows (DESIGN.md semantics): the mean of the counted values, or null. */
export function primaryScore(rows: Iterable<unknown>): number | null {
  const accumulator = new ScoreAccumulator();
  for (const row of rows) accumulator.add(row);
  return accumulator.result.primary_score;
}

/** primary_score is a share of correct answers: an estimate outside [0, 1] would mean nothing. */
export const primaryScoreRange = [0, 1] as const;
