/**
 * Reading JSON text so that problems can point at a line: parse errors with their line,
 * and the line of every key, so a problem at `params.learning_rate` becomes an annotation
 * on the line that holds it.
 */

import { lineText } from "./escape.js";
import { limits } from "./limits.js";
import { parsePythonJson } from "./python.js";

/** The outcome of parsing a JSON document: the value, or a one-line reason and its line. */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; line?: number; reason: string };

/** Parses JSON text (a leading byte-order mark is ignored), turning V8's error into a line and a short reason. */
export function parseJsonText(text: string): ParsedJson {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, ...describeJsonError(message, body) };
  }
}

/**
 * The line (when the message gives a position) and a short reason of a JSON.parse message:
 * V8 says `... in JSON at position 10` (Node 20) or `... (line 2 column 3)` (later versions).
 */
export function describeJsonError(message: string, text: string): { line?: number; reason: string } {
  let line: number | undefined;
  const lineColumn = /\(line (\d+) column \d+\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  if (lineColumn?.[1]) line = Number(lineColumn[1]);
  else if (position?.[1]) line = lineOfOffset(text, Number(position[1]));
  // V8 quotes a snippet of the text, which may span lines of a pretty-printed file: drop it
  // ([\s\S], not `.`), and write any control character left as an escape, so the reason
  // stays on the one line of its problem.
  const reason = message
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .replace(/\s*in JSON at position \d+[\s\S]*$/, "")
    .replace(/,\s*"[\s\S]*" is not valid JSON$/, "")
    .trim();
  if (line === undefined && /end of JSON input/.test(message)) line = lineOfOffset(text, text.length);
  return {
    ...(line === undefined ? {} : { line }),
    reason: escapeControlCharacters(reason) || "not valid JSON",
  };
}

/**
 * Text with its control characters and line separators written as `\uXXXX`: for user text
 * (a JSON key may be "a\nb") inside a problem, which is shown as one line (`lineText`).
 */
export const escapeControlCharacters = lineText;

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

type Frame =
  | { kind: "object"; key: string | undefined; keys: Set<string> }
  | { kind: "array"; index: number; seen: boolean };

/** What a scan of JSON text finds besides the value: where each key is, keys given twice, nesting too deep. */
export interface JsonShape {
  /** The line of every key and array element by dotted path (when asked for), first occurrence. */
  lines: Map<string, number>;
  /** Each key an object gives twice (`JSON.parse` keeps the last; a reader may show the first). */
  duplicates: Array<{ path: string; line: number }>;
  /** Where nesting passed `maxDepth`: the scan stopped there, and the text should not be parsed. */
  tooDeep?: { line: number };
}

/**
 * One linear scan of JSON text (valid or not: it is a scanner, not a validator): the 1-based
 * line of every key and array element by dotted path (`params.learning_rate`,
 * `files.0.sha256`), the keys an object gives twice, and whether objects and arrays nest
 * deeper than `maxDepth`, where it stops, so that neither the parse nor anything walking the
 * value meets a depth the stack cannot take. The depth bound keeps the paths short: the cost
 * is linear in the text.
 */
export function scanJsonText(
  text: string,
  { maxDepth = limits.jsonDepth, withLines = true }: { maxDepth?: number; withLines?: boolean } = {},
): JsonShape {
  const lines = new Map<string, number>();
  const duplicates: JsonShape["duplicates"] = [];
  const stack: Frame[] = [];
  let line = 1;
  let expectKey = false;
  const pathNow = () => stack.map((f) => (f.kind === "object" ? (f.key ?? "") : String(f.index))).join(".");
  const record = () => {
    if (!withLines) return;
    const path = pathNow();
    if (!lines.has(path)) lines.set(path, line);
  };
  // A value starts: inside an array this is the element whose line we want.
  const valueStarts = () => {
    const top = stack[stack.length - 1];
    if (top?.kind === "array" && !top.seen) {
      top.seen = true;
      record();
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      line++;
    } else if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === "object" && expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          key = text.slice(i + 1, end);
        }
        top.key = key;
        if (top.keys.has(key)) duplicates.push({ path: pathNow(), line });
        else top.keys.add(key);
        expectKey = false;
        record();
      } else {
        valueStarts();
      }
      i = end;
    } else if (c === "{" || c === "[") {
      valueStarts();
      if (stack.length >= maxDepth) return { lines, duplicates, tooDeep: { line } };
      stack.push(
        c === "{"
          ? { kind: "object", key: undefined, keys: new Set() }
          : { kind: "array", index: 0, seen: false },
      );
      expectKey = c === "{";
    } else if (c === "}" || c === "]") {
      stack.pop();
      expectKey = false;
    } else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.kind === "object") expectKey = true;
      else if (top?.kind === "array") {
        top.index++;
        top.seen = false;
      }
    } else if (c !== ":" && c !== " " && c !== "\t" && c !== "\r") {
      valueStarts();
    }
  }
  return { lines, duplicates };
}

/** The line of every key and array element of JSON text, by dotted path (`scanJsonText`). */
export function jsonPathLines(text: string): Map<string, number> {
  return scanJsonText(text).lines;
}

/** JSON that parses but is refused: nested too deep, or a key given twice. */
export class JsonShapeError extends Error {}

/**
 * Parses one line of a JSONL file of evidence (Python's constants included, `parsePythonJson`),
 * refusing what evidence must not hold: nesting past the depth bound, a key given twice.
 */
export function parseEvidenceJson(text: string): unknown {
  const shape = scanJsonText(text, { withLines: false });
  if (shape.tooDeep)
    throw new JsonShapeError(`nests objects and arrays deeper than ${limits.jsonDepth} levels`);
  const twice = shape.duplicates[0];
  if (twice) throw new JsonShapeError(duplicateKeyMessage(twice.path));
  return parsePythonJson(text);
}

/** What a key given twice means, for a problem. */
export function duplicateKeyMessage(path: string): string {
  const key = path.split(".").pop() ?? path;
  return `gives the key ${JSON.stringify(key)} twice${path.includes(".") ? ` (at ${path})` : ""}; a reader may take either value, so evidence gives each key once`;
}

/** The line of `path` or, when it is not in the map (a missing key), of its nearest ancestor; undefined for the root. */
export function lineOfPath(lines: ReadonlyMap<string, number>, path: string): number | undefined {
  let at = path;
  while (at !== "") {
    const line = lines.get(at);
    if (line !== undefined) return line;
    const dot = at.lastIndexOf(".");
    at = dot < 0 ? "" : at.slice(0, dot);
  }
  return undefined;
}
