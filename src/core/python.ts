/**
 * The few pieces of Python's behaviour that the M34 semantics depend on, written out so that
 * a score or a verdict computed here is the one the Python project computed: `str.strip()`,
 * `float(str)` and `json.loads` (which reads `NaN` and `Infinity`).
 * Reference: https://docs.python.org/3/library/functions.html#float and
 * https://docs.python.org/3/library/json.html#json.loads (the `parse_constant` paragraph).
 */

/**
 * Characters Python's `str.isspace()` is true for (bidirectional class WS, B or S, or category
 * Zs), which `str.strip()` removes. Unlike JavaScript's `trim()`, this includes U+001C..U+001F
 * and U+0085 and excludes U+FEFF (the byte order mark).
 */
const PY_STRIP = new Set(
  [
    "\t",
    "\n",
    "\v",
    "\f",
    "\r",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x1f",
    " ",
    "\x85",
    "\xa0",
    "\u1680",
    "\u2000",
    "\u2001",
    "\u2002",
    "\u2003",
    "\u2004",
    "\u2005",
    "\u2006",
    "\u2007",
    "\u2008",
    "\u2009",
    "\u200a",
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
  ].map((c) => c.charCodeAt(0)),
);

/**
 * What `float()` strips around a string: CPython first turns non-ASCII whitespace into spaces,
 * then strips ASCII whitespace only, so U+001C..U+001F (ASCII but not C `isspace`) are kept
 * and make the string invalid, while U+0085, U+00A0, U+2000... are stripped.
 */
const FLOAT_STRIP = new Set([...PY_STRIP].filter((code) => code < 0x1c || code > 0x1f));

function stripSet(text: string, set: ReadonlySet<number>): string {
  let start = 0;
  let end = text.length;
  while (start < end && set.has(text.charCodeAt(start))) start++;
  while (end > start && set.has(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Python's `str.strip()` with no argument: removes Unicode whitespace (as `isspace()` sees it) at both ends. */
export function pyStrip(text: string): string {
  return stripSet(text, PY_STRIP);
}

/**
 * Python's float literal grammar after stripping, with ASCII digits (non-ASCII decimal digits
 * are mapped to ASCII first, as CPython does). Underscores are allowed only between digits:
 * `1_000` and `1e1_0` read, `_1`, `1_`, `1__0`, `1_.5` do not.
 */
const DECIMAL = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
/** `inf`, `infinity` and `nan`, any case, with an optional sign (`-nan` reads as NaN). */
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
const NON_ASCII = /[\u0080-\uffff]/;
const UNICODE_DIGIT = /\p{Nd}/u;
const UNICODE_DIGITS = /\p{Nd}/gu;

/**
 * The value of a Unicode decimal digit (category Nd). Unicode guarantees that Nd characters
 * come in contiguous runs of ten, zero to nine, so the value is the distance from the start of
 * the run modulo ten (some runs, like the mathematical digits, are several tens back to back).
 */
function unicodeDigitValue(digit: string): string {
  const code = digit.codePointAt(0) ?? 0;
  let start = code;
  while (start > 0 && UNICODE_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return String((code - start) % 10);
}

/**
 * Reads a string the way Python's `float(str)` does, or returns undefined where Python raises
 * ValueError. Surrounding whitespace, a sign, `_` between digits, `1.` and `.5`, exponents,
 * non-ASCII decimal digits (`١٢` is 12) and `inf`/`infinity`/`nan` in any case are accepted;
 * `""`, `"0x10"`, `"1,5"`, `"1 2"` and `"Infinity!"` are not. JavaScript's `Number()` is only
 * used on text this grammar has already accepted, since on its own it reads `""` as 0 and
 * `"0x10"` as 16.
 */
export function pyFloat(text: string): number | undefined {
  let body = stripSet(text, FLOAT_STRIP);
  if (NON_ASCII.test(body)) body = body.replace(UNICODE_DIGITS, unicodeDigitValue);
  if (DECIMAL.test(body)) return Number(body.includes("_") ? body.replaceAll("_", "") : body);
  const special = SPECIAL.exec(body);
  if (!special) return undefined;
  if (special[2]?.toLowerCase() === "nan") return Number.NaN;
  return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** The three constants Python's `json.loads` reads besides standard JSON (and `json.dumps` writes). */
const PY_CONSTANTS: ReadonlyArray<readonly [string, number]> = [
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["NaN", Number.NaN],
];

/**
 * Parses one JSON text as Python's `json.loads` would: standard JSON plus the bare constants
 * `NaN`, `Infinity` and `-Infinity`, which Python's `json.dumps` writes for non-finite floats
 * (so a Python trainer's `eval_rows.jsonl` can hold them). Throws SyntaxError, with
 * `JSON.parse`'s message for the original text, where Python would raise too.
 *
 * Fast path: plain `JSON.parse`. Only text that fails it and mentions one of the constants is
 * rewritten: each constant outside a string becomes a unique marker string, which a reviver
 * turns back into the number.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!text.includes("NaN") && !text.includes("Infinity")) throw error;
    const rewritten = rewriteConstants(text);
    if (rewritten === undefined) throw error;
    try {
      return JSON.parse(rewritten, (_key, value: unknown) =>
        typeof value === "string" && value.startsWith(MARKER) ? markerValue(value) : value,
      );
    } catch {
      throw error;
    }
  }
}

/** A prefix no JSON text can produce by accident in a string: the NUL marks it, the nonce makes it ours. */
const MARKER = `\u0000tunix-rt-py-constant-${Math.random().toString(36).slice(2)}:`;

function markerValue(marker: string): unknown {
  const index = Number(marker.slice(MARKER.length));
  return PY_CONSTANTS[index]?.[1] ?? marker;
}

/** Replaces the Python constants outside strings with marker strings; undefined when there is none. */
function rewriteConstants(text: string): string | undefined {
  let out = "";
  let copied = 0;
  let found = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character (\" does not end the string)
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    for (const [index, [name]] of PY_CONSTANTS.entries()) {
      if (text.startsWith(name, i)) {
        out += `${text.slice(copied, i)}${JSON.stringify(MARKER + index)}`;
        i += name.length - 1;
        copied = i + 1;
        found = true;
        break;
      }
    }
  }
  return found ? out + text.slice(copied) : undefined;
}
