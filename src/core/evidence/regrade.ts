/**
 * Re-grading eval_rows.jsonl against the evalset the evidence names: each row's prediction
 * through the M34 judge, against the evalset's expected answer, so a row whose prediction is
 * wrong but marked 1 (or right but marked 0, or made to count nothing) is found, and so are
 * rows for ids the evalset lacks and evalset items without a row (a trainer could drop its
 * wrong answers to raise the score).
 *
 * Pure and streaming: rows come one at a time and only an id -> expected-answer map of the
 * evalset (which is small) and the ids seen so far are kept.
 */
import { type Problem, quote } from "../errors.js";
import { extractAnswer, judge } from "../grading/grade.js";
import { coerceFloat, rowValue } from "../grading/score.js";
import type { EvalItem } from "../types.js";

/** Disagreements listed one by one; beyond this they are counted in one last problem. */
export const maxRegradeProblems = 100;

const file = "eval_rows.jsonl";

/**
 * Checks the rows of eval_rows.jsonl against an evalset. Call `row` for each row that is a
 * JSON object, in file order, then `finish` once.
 */
export class RowRegrader {
  readonly #expected = new Map<string, string>();
  readonly #items: readonly EvalItem[];
  readonly #evalset: string;
  readonly #covered = new Set<string>();
  readonly #problems: Problem[] = [];
  #unlisted = 0;
  #withoutPrediction = 0;
  #firstWithoutPrediction = 0;

  readonly #requirePredictions: boolean;

  /**
   * `items` is the validated evalset; `evalset` how problems name it (its repository path).
   * `requirePredictions` (the trusted rule): a row without a prediction to re-grade is a
   * problem, not a note, since its claimed grade cannot be checked.
   */
  constructor(items: readonly EvalItem[], evalset: string, { requirePredictions = false } = {}) {
    this.#items = items;
    this.#evalset = evalset;
    this.#requirePredictions = requirePredictions;
    for (const item of items) this.#expected.set(item.id, item.expected_answer);
  }

  /** Checks one row: its id, its expected_answer, and its counted value against the re-graded prediction. */
  row(line: number, row: Readonly<Record<string, unknown>>): void {
    const rawId = Object.hasOwn(row, "id") ? row.id : undefined;
    // As the grader reads prediction ids: a string, or a whole number as its decimal text.
    const id = typeof rawId === "string" ? rawId : Number.isSafeInteger(rawId) ? String(rawId) : undefined;
    if (id === undefined) {
      this.#add(
        line,
        "id",
        `${rawId === undefined ? "missing" : `got ${quote(rawId)}`}; expected the id of an item of ${this.#evalset}, so the row can be re-graded`,
      );
      return;
    }
    const expected = this.#expected.get(id);
    if (expected === undefined) {
      this.#add(line, "id", `got ${quote(rawId)}; ${this.#evalset} has no item with this id`);
      return;
    }
    this.#covered.add(id);
    // A number is read as its text, as the evalset reader reads one.
    const given = Object.hasOwn(row, "expected_answer") ? row.expected_answer : expected;
    if (given !== expected && !(typeof given === "number" && String(given) === expected)) {
      this.#add(
        line,
        "expected_answer",
        `got ${quote(given)}; ${this.#evalset} has ${quote(expected)} for ${quote(id)}`,
      );
    }
    const prediction = Object.hasOwn(row, "prediction") ? row.prediction : undefined;
    if (typeof prediction !== "string") {
      // A trainer that grades itself may leave the prediction out: nothing to re-grade.
      this.#withoutPrediction++;
      this.#firstWithoutPrediction ||= line;
      return;
    }
    const regraded = judge(prediction, expected);
    const counted = rowValue(row);
    if (counted === regraded) return;
    const { path, value } = claimedField(row);
    const answer = quote(extractAnswer(prediction));
    const verdict = regraded === 1 ? "is" : "is not";
    const claim =
      counted === undefined
        ? `${value === undefined ? "missing" : `got ${quote(value)}`}, which counts nothing`
        : `got ${quote(value)}`;
    this.#add(
      line,
      path,
      `${claim}; the prediction's answer ${answer} ${verdict} the expected answer ${quote(expected)} of ${this.#evalset} (re-graded: ${regraded})`,
    );
  }

  /** The problems found, evalset items without a row among them, and a note on rows that could not be re-graded. */
  finish({ complete }: { complete: boolean }): { problems: Problem[]; notes: string[] } {
    const problems = [...this.#problems];
    if (this.#unlisted > 0) {
      problems.push({
        file,
        path: "",
        message: `and ${this.#unlisted} more row${this.#unlisted === 1 ? "" : "s"} that disagree with ${this.#evalset} (not listed)`,
      });
    }
    // Only when every row could be read: an unreadable row might be the item's.
    if (complete) {
      const without = this.#items.filter((item) => !this.#covered.has(item.id));
      if (without.length > 0) {
        problems.push({
          file,
          path: "",
          message: `has no row for ${without.length} of the ${this.#items.length} items of ${this.#evalset} (first: ${quote(without[0]?.id)}); expected one row per item, as a dropped row changes primary_score`,
        });
      }
    }
    const notes: string[] = [];
    if (this.#withoutPrediction > 0) {
      const one = this.#withoutPrediction === 1;
      const rows = one ? "1 row" : `${this.#withoutPrediction} rows`;
      const what = `${rows} of eval_rows.jsonl ${one ? "has" : "have"} no prediction text (first at line ${this.#firstWithoutPrediction}); ${one ? "its" : "their"} answer_correctness could not be re-graded against ${this.#evalset}`;
      if (this.#requirePredictions)
        problems.push({
          file,
          line: this.#firstWithoutPrediction,
          path: "prediction",
          message: `${what}, and under the trusted rule every row is re-graded: each needs its prediction`,
        });
      else notes.push(what);
    }
    return { problems, notes };
  }

  #add(line: number, path: string, message: string): void {
    if (this.#problems.length < maxRegradeProblems) this.#problems.push({ file, line, path, message });
    else this.#unlisted++;
  }
}

/**
 * The field a row's counted value comes from, by the M34 rules (see `rowValue`): its
 * metrics.answer_correctness when that is present, not null and a number to Python's
 * float(); else its score; and the value as the row has it.
 */
function claimedField(row: Readonly<Record<string, unknown>>): { path: string; value: unknown } {
  const metrics = Object.hasOwn(row, "metrics") ? row.metrics : undefined;
  if (typeof metrics === "object" && metrics !== null && !Array.isArray(metrics)) {
    const fields = metrics as Record<string, unknown>;
    const correctness = Object.hasOwn(fields, "answer_correctness") ? fields.answer_correctness : undefined;
    if (correctness !== undefined && correctness !== null && coerceFloat(correctness) !== undefined)
      return { path: "metrics.answer_correctness", value: correctness };
    if (!Object.hasOwn(row, "score") || row.score === null || coerceFloat(row.score) === undefined)
      return { path: "metrics.answer_correctness", value: correctness };
  }
  if (Object.hasOwn(row, "score")) return { path: "score", value: row.score };
  return { path: "metrics.answer_correctness", value: undefined };
}
