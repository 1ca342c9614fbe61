/**
 * The JSONL evidence files line by line: how text splits into lines (`jsonlEntries`, as the
 * streaming reader reads a file), and the rules every line of eval_rows.jsonl and
 * trials.jsonl meets before its own file's: parsed, and within the file's cap.
 */
import { messageOf } from "../../errors.js";
import {
  describeJsonError,
  escapeControlCharacters,
  JsonShapeError,
  parseEvidenceJson,
} from "../../json-text.js";
import { bytesText, limits } from "../../limits.js";
import type { VerifyContext } from "./context.js";

/** One line of a JSONL file, as a streaming reader yields it. */
export type JsonlEntry =
  | { line: number; ok: true; value: unknown }
  /** `refused`: no syntax error, but refused all the same (too long, too deep, a key twice). */
  | { line: number; ok: false; error: string; refused?: boolean };

/** The two JSONL files of the evidence proper (grades.jsonl has rules of its own). */
export type JsonlFileName = "eval_rows.jsonl" | "trials.jsonl";

/**
 * Counts a JSONL file as seen, and whether its line parsed. A line that did not is reported
 * and makes its file unusable for the cross-file rules: it could hold any value (a row whose
 * score a recomputation would miss, a record that could be the best trial), so a mismatch
 * found without it would not be the fault.
 */
export function readable(
  ctx: VerifyContext,
  file: JsonlFileName,
  entry: JsonlEntry,
): entry is Extract<JsonlEntry, { ok: true }> {
  ctx.seen.add(file);
  if (entry.ok) return true;
  ctx.unusable.add(file);
  ctx.add({
    file,
    line: entry.line,
    path: "",
    message: entry.refused
      ? escapeControlCharacters(entry.error)
      : `not valid JSON: ${describeJsonError(entry.error, "").reason}`,
  });
  return false;
}

/**
 * Whether the `count`th line of a JSONL file is past its cap: the first past it is one
 * problem (the file is then unusable for the cross-file rules), the rest are not read.
 */
export function beyondCap(
  ctx: VerifyContext,
  file: JsonlFileName,
  count: number,
  cap: number,
  what: string,
): boolean {
  if (count <= cap) return false;
  if (count === cap + 1) {
    ctx.seen.add(file);
    ctx.unusable.add(file);
    ctx.add({ file, path: "", message: `holds more than ${cap} ${what}; not read further` });
  }
  return true;
}

/**
 * Splits JSONL text into parsed lines as the streaming reader (`readJsonl`) reads a file, so
 * a zip and a folder get the same verdict: blank lines skipped, a byte-order mark dropped
 * from the first line only, Python's NaN and Infinity read.
 */
export function* jsonlEntries(text: string): Generator<JsonlEntry> {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]?.replace(/\r$/, "") ?? "";
    if (i === 0 && raw.startsWith("\uFEFF")) raw = raw.slice(1);
    if (raw.length > limits.lineBytes) {
      yield {
        line: i + 1,
        ok: false,
        refused: true,
        error: `is longer than ${bytesText(limits.lineBytes)}; not read`,
      };
      continue;
    }
    if (raw.trim() === "") continue;
    let entry: JsonlEntry;
    try {
      entry = { line: i + 1, ok: true, value: parseEvidenceJson(raw) };
    } catch (error) {
      entry = {
        line: i + 1,
        ok: false,
        error: messageOf(error),
        ...(error instanceof JsonShapeError ? { refused: true } : {}),
      };
    }
    yield entry;
  }
}
