/**
 * Evalset validation (DESIGN.md, "Grading"): one `{"id", "prompt", "expected_answer",
 * "category"?, "difficulty"?}` object per line. Pure: it takes lines already read and parsed
 * (src/runtime/evalset.ts streams the file into it).
 */
import { type Problem, quote } from "../errors.js";
import type { EvalItem } from "../types.js";

/**
 * One line of a JSONL file as a reader hands it over: its 1-based number and the parsed value,
 * or why it did not parse. The same shape as `JsonlLine` in src/runtime/files.ts, restated
 * here so that core does not depend on runtime.
 */
export type ParsedLine =
  | { line: number; ok: true; value: unknown }
  | { line: number; ok: false; error: string };

/** The outcome of validating an evalset: every item, or every problem found. */
export type EvalsetResult = { ok: true; items: EvalItem[] } | { ok: false; problems: Problem[] };

const ITEM_SHAPE = 'an object {"id", "prompt", "expected_answer"}';

/**
 * Validates an evalset line by line, so a reader can stream a file into it.
 *
 * Rules: `id` a non-empty string, unique; `prompt` a string; `expected_answer` a string, or a
 * finite number, which is read as its JavaScript text (`42` is "42"; note `42.0` in the file
 * is also "42", so write expected answers as strings when the form matters); `category` and
 * `difficulty`, when present and not null, strings. Other keys are allowed and not kept.
 * Blank lines are the reader's business (readJsonl skips them). An evalset with no item is a
 * problem: nothing could be graded.
 */
export class EvalsetParser {
  readonly #file: string;
  readonly #items: EvalItem[] = [];
  readonly #problems: Problem[] = [];
  readonly #firstLine = new Map<string, number>();

  /** `file` is the name problems are reported under. */
  constructor(file: string) {
    this.#file = file;
  }

  /** Validates one line. */
  add(entry: ParsedLine): void {
    const { line } = entry;
    const problem = (path: string, message: string) =>
      this.#problems.push({ file: this.#file, line, path, message });
    if (!entry.ok) {
      problem("", `not valid JSON (${entry.error})`);
      return;
    }
    const row = entry.value;
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      problem("", `got ${quote(row)}; expected ${ITEM_SHAPE}`);
      return;
    }
    const fields = row as Record<string, unknown>;
    const before = this.#problems.length;
    const id = own(fields, "id");
    if (typeof id !== "string" || id === "") {
      problem("id", `${got(id)}; expected a non-empty string`);
    } else {
      const first = this.#firstLine.get(id);
      if (first !== undefined) problem("id", `duplicated id ${quote(id)} (first at line ${first})`);
      else this.#firstLine.set(id, line);
    }
    const prompt = own(fields, "prompt");
    if (typeof prompt !== "string") problem("prompt", `${got(prompt)}; expected a string`);
    const expected = own(fields, "expected_answer");
    const expectedText =
      typeof expected === "string"
        ? expected
        : typeof expected === "number" && Number.isFinite(expected)
          ? String(expected)
          : undefined;
    if (expectedText === undefined) problem("expected_answer", `${got(expected)}; expected a string`);
    const optional: Partial<Pick<EvalItem, "category" | "difficulty">> = {};
    for (const key of ["category", "difficulty"] as const) {
      const value = own(fields, key);
      if (value === undefined || value === null) continue;
      if (typeof value === "string") optional[key] = value;
      else problem(key, `got ${quote(value)}; expected a string (or no ${key})`);
    }
    if (this.#problems.length > before) return;
    this.#items.push({
      id: id as string,
      prompt: prompt as string,
      expected_answer: expectedText as string,
      ...optional,
    });
  }

  /** The items in file order, or every problem (an empty evalset is one). */
  finish(): EvalsetResult {
    if (this.#problems.length > 0) return { ok: false, problems: [...this.#problems] };
    if (this.#items.length === 0) {
      return {
        ok: false,
        problems: [{ file: this.#file, path: "", message: `no items; expected ${ITEM_SHAPE} per line` }],
      };
    }
    return { ok: true, items: [...this.#items] };
  }
}

/** Validates a whole evalset given as parsed lines (see EvalsetParser for the rules). */
export function parseEvalset(lines: Iterable<ParsedLine>, file: string): EvalsetResult {
  const parser = new EvalsetParser(file);
  for (const entry of lines) parser.add(entry);
  return parser.finish();
}

function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** "missing" or "got <value>", for a field's message. */
function got(value: unknown): string {
  return value === undefined ? "missing" : `got ${quote(value)}`;
}
