/**
 * Grading predictions against an evalset (DESIGN.md, "Grading"): the M34 exact-match judge,
 * and the faults that fail a trial. Pure: lines come in already read and parsed.
 */
import { type Problem, quote } from "../errors.js";
import { pyStrip } from "../python.js";
import type { EvalItem, EvalRow } from "../types.js";
import type { ParsedLine } from "./evalset.js";

/**
 * The first complete `<answer>…</answer>` pair: the first closing tag with the nearest opening
 * tag before it, tags matched in any case. So `<reasoning>use <answer> tags</reasoning>
 * <answer>42</answer>` gives "42" (a stray opening tag in the reasoning does not swallow the
 * real answer). No tag attributes or spaces inside the tags.
 */
const ANSWER = /<answer>((?:(?!<answer>)[\s\S])*?)<\/answer>/i;

/**
 * The answer in a prediction: the text inside its first complete `<answer>…</answer>` pair
 * (see ANSWER), else the whole prediction (also when a tag is left unclosed).
 */
export function extractAnswer(prediction: string): string {
  const match = ANSWER.exec(prediction);
  return match ? (match[1] ?? "") : prediction;
}

/** Python's `s.strip().lower()`, the M34 judge's normal form. */
function normalize(text: string): string {
  return pyStrip(text).toLowerCase();
}

/**
 * The M34 judge: 1 when the prediction's answer equals the expected answer after
 * `strip().lower()` on both (Python's strip: Unicode whitespace; lower: full Unicode case
 * mapping, as `toLowerCase`), else 0.
 */
export function judge(prediction: string, expected: string): 0 | 1 {
  return normalize(extractAnswer(prediction)) === normalize(expected) ? 1 : 0;
}

/** One graded eval row (an EvalRow with the judge's 0/1 and 0/100). */
function gradedRow(item: EvalItem, prediction: string, correct: 0 | 1): EvalRow {
  return {
    id: item.id,
    prediction,
    expected_answer: item.expected_answer,
    metrics: { answer_correctness: correct },
    score: correct * 100,
  };
}

/** The outcome of grading one predictions file. */
export interface GradeResult {
  /** One row per evalset item, in evalset order; an item without a prediction is graded 0. */
  rows: EvalRow[];
  /** Evalset ids that had no prediction (graded 0, and counted in primary_score). */
  missing: string[];
  /** Prediction ids not in the evalset, in first-seen order: reported, otherwise ignored. */
  extra: string[];
  /**
   * Faults that fail the trial, one per bad line (a malformed line; each repeat of an id),
   * at most MAX_FAULTS of them; `summary` counts them all.
   */
  faults: Problem[];
  /**
   * One line per kind of fault, for a failed trial's reason: `12 malformed lines in
   * predictions.jsonl (first at line 3: …)`, `duplicated id "eval-004" in predictions.jsonl at
   * lines 4 and 9`, `12 of 12 prediction ids in predictions.jsonl match no item of …` (see
   * `unmatchedIds`). Empty when the predictions are sound.
   */
  summary: string[];
}

/** Faults kept line by line; beyond this only the counts in `summary` grow. */
export const MAX_FAULTS = 100;

/** Duplicated ids named one by one in the summary; the rest are counted. */
const MAX_NAMED_DUPLICATES = 3;

/**
 * Why predictions cannot be graded against this evalset, when their ids do not fit it: none
 * at all, or at least half of their (distinct) ids naming no evalset item. Graded, such a
 * file gives a primary_score that says little of the model: the trainer answered another
 * evalset, or wrote its ids in another form ("1" for "eval-001"), and half the score is
 * already gone to items graded 0 for want of a prediction. A few unknown ids beside known
 * ones are only reported (`predictionsNote`). Undefined when the ids fit.
 */
export function unmatchedIds({
  matched,
  extra,
  items,
  file,
  evalset,
}: {
  /** How many distinct prediction ids are evalset ids. */
  matched: number;
  /** The distinct prediction ids that are not, in first-seen order. */
  extra: readonly string[];
  items: readonly EvalItem[];
  /** How the predictions file and the evalset are named in the message. */
  file: string;
  evalset: string;
}): string | undefined {
  const total = matched + extra.length;
  if (total === 0) {
    const count = items.length === 1 ? "1 item" : `${items.length} items`;
    return `${file} holds no prediction; expected one {"id", "prediction"} per item of ${evalset} (${count})`;
  }
  if (extra.length * 2 < total) return undefined;
  return (
    `${extra.length} of ${total} prediction ids in ${file} match no item of ${evalset} ` +
    `(first: ${quote(extra[0])}; its ids look like ${quote(items[0]?.id)}): ` +
    "predictions for another evalset, or ids in another form?"
  );
}

/**
 * The note a completed trial carries when its predictions did not fit the evalset without
 * failing it: evalset items without a prediction (graded 0) and prediction ids not in the
 * evalset (ignored), counted, with the first of each, e.g. `1 of 20 evalset items had no
 * prediction, graded 0: "q7"; 1 prediction id not in the evalset, ignored: "Q7"`. Short
 * enough for a progress line; undefined when every item had its prediction and every id
 * matched.
 */
export function predictionsNote({
  missing,
  extra,
  items,
}: {
  /** Evalset ids without a prediction (`GradeResult.missing`). */
  missing: readonly string[];
  /** Prediction ids not in the evalset (`GradeResult.extra`). */
  extra: readonly string[];
  /** How many items the evalset has. */
  items: number;
}): string | undefined {
  const first = (ids: readonly string[]) => `${ids.length === 1 ? "" : "first "}${quote(ids[0])}`;
  const parts: string[] = [];
  if (missing.length > 0) {
    const what = items === 1 ? "evalset item" : "evalset items";
    parts.push(`${missing.length} of ${items} ${what} had no prediction, graded 0: ${first(missing)}`);
  }
  if (extra.length > 0) {
    const what = extra.length === 1 ? "prediction id" : "prediction ids";
    parts.push(`${extra.length} ${what} not in the evalset, ignored: ${first(extra)}`);
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/**
 * Grades predictions line by line, so a reader can stream a file into it.
 *
 * A line is sound when it is a JSON object whose `id` is a string (a whole number is accepted
 * and read as its decimal text, so `7` matches the evalset id "7") and whose `prediction` is
 * a string; other keys are ignored. Anything else is a malformed line. An id seen on an
 * earlier line is a duplicate; the first prediction is the one graded, but either fault
 * fails the trial, so the rows are then for information only.
 */
export class PredictionGrader {
  readonly #items: readonly EvalItem[];
  readonly #file: string;
  readonly #evalset: string;
  readonly #wanted: Set<string>;
  readonly #predictions = new Map<string, string>();
  /** Every line an id was seen on, in order. */
  readonly #lines = new Map<string, number[]>();
  readonly #extra: string[] = [];
  readonly #faults: Problem[] = [];
  #malformed = 0;
  #firstMalformed: Problem | undefined;

  /**
   * `items` is the validated evalset; `file` the name faults are reported under, `evalset`
   * the name the evalset has in them.
   */
  constructor(items: readonly EvalItem[], file = "predictions.jsonl", evalset = "the evalset") {
    this.#items = items;
    this.#file = file;
    this.#evalset = evalset;
    this.#wanted = new Set(items.map((item) => item.id));
  }

  /** Reads one line of the predictions file. */
  add(entry: ParsedLine): void {
    const checked = readPrediction(entry);
    if ("message" in checked) {
      const problem: Problem = { file: this.#file, line: entry.line, ...checked };
      this.#malformed++;
      this.#firstMalformed ??= problem;
      this.#fault(problem);
      return;
    }
    const { id, prediction } = checked;
    const seen = this.#lines.get(id);
    if (seen) {
      const message = `duplicated id ${quote(id)} (first at line ${seen[0]})`;
      this.#fault({ file: this.#file, line: entry.line, path: "id", message });
      seen.push(entry.line);
      return;
    }
    this.#lines.set(id, [entry.line]);
    if (this.#wanted.has(id)) this.#predictions.set(id, prediction);
    else this.#extra.push(id);
  }

  /** Grades every evalset item and reports what was missing, extra or faulty. */
  finish(): GradeResult {
    const rows: EvalRow[] = [];
    const missing: string[] = [];
    for (const item of this.#items) {
      const prediction = this.#predictions.get(item.id);
      if (prediction === undefined) {
        // No prediction: graded 0 whatever the expected answer (even an empty one).
        missing.push(item.id);
        rows.push(gradedRow(item, "", 0));
      } else {
        rows.push(gradedRow(item, prediction, judge(prediction, item.expected_answer)));
      }
    }
    return { rows, missing, extra: [...this.#extra], faults: [...this.#faults], summary: this.#summary() };
  }

  #fault(problem: Problem): void {
    if (this.#faults.length < MAX_FAULTS) this.#faults.push(problem);
  }

  #summary(): string[] {
    const lines: string[] = [];
    const first = this.#firstMalformed;
    if (first) {
      const what = first.path ? `${first.path}: ${first.message}` : first.message;
      const count = this.#malformed === 1 ? "1 malformed line" : `${this.#malformed} malformed lines`;
      const where = this.#malformed === 1 ? `line ${first.line}` : `first at line ${first.line}`;
      lines.push(`${count} in ${this.#file} (${where}: ${what})`);
    }
    const duplicates = [...this.#lines].filter(([, at]) => at.length > 1);
    for (const [id, at] of duplicates.slice(0, MAX_NAMED_DUPLICATES)) {
      lines.push(`duplicated id ${quote(id)} in ${this.#file} at lines ${listLines(at)}`);
    }
    const more = duplicates.length - MAX_NAMED_DUPLICATES;
    if (more > 0) lines.push(`and ${more} more duplicated id${more === 1 ? "" : "s"} in ${this.#file}`);
    // A file whose every line is malformed holds no prediction: that is said above already.
    if (this.#malformed === 0 || this.#lines.size > 0) {
      const unmatched = unmatchedIds({
        matched: this.#predictions.size,
        extra: this.#extra,
        items: this.#items,
        file: this.#file,
        evalset: this.#evalset,
      });
      if (unmatched) lines.push(unmatched);
    }
    return lines;
  }
}

/** A sound predictions line's id and prediction, or what is wrong with it (path and message). */
function readPrediction(
  entry: ParsedLine,
): { id: string; prediction: string } | { path: string; message: string } {
  if (!entry.ok) return { path: "", message: `not valid JSON (${entry.error})` };
  const value = entry.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { path: "", message: `got ${quote(value)}; expected an object {"id", "prediction"}` };
  }
  const fields = value as Record<string, unknown>;
  const rawId = Object.hasOwn(fields, "id") ? fields.id : undefined;
  const id = typeof rawId === "string" ? rawId : Number.isSafeInteger(rawId) ? String(rawId) : undefined;
  if (id === undefined) {
    return { path: "id", message: `${got(rawId)}; expected a string (or a whole number)` };
  }
  const prediction = Object.hasOwn(fields, "prediction") ? fields.prediction : undefined;
  if (typeof prediction !== "string") {
    return { path: "prediction", message: `${got(prediction)}; expected a string` };
  }
  return { id, prediction };
}

/** "missing" or "got <value>", for a field's message. */
function got(value: unknown): string {
  return value === undefined ? "missing" : `got ${quote(value)}`;
}

/** "4 and 9", "4, 9 and 12"; long lists end in "… (n lines)". */
function listLines(lines: readonly number[]): string {
  const shown = lines.slice(0, 5).map(String);
  if (lines.length > 5) return `${shown.join(", ")}, … (${lines.length} lines)`;
  const last = shown.pop();
  return shown.length === 0 ? String(last) : `${shown.join(", ")} and ${last}`;
}

/** Grades a whole predictions file given as parsed lines (see PredictionGrader). */
export function gradePredictions(
  items: readonly EvalItem[],
  lines: Iterable<ParsedLine>,
  file = "predictions.jsonl",
  evalset = "the evalset",
): GradeResult {
  const grader = new PredictionGrader(items, file, evalset);
  for (const entry of lines) grader.add(entry);
  return grader.finish();
}
