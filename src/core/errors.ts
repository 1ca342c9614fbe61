import { lineText } from "./escape.js";

/** Exit codes of every `tunix-rt` command (DESIGN.md, "Exit codes"). */
export const ExitCode = {
  /** Success (verify: valid). */
  ok: 0,
  /** The work ran and the answer is "no": invalid evidence, a failed trial, no completed trial. */
  no: 1,
  /** Usage or input error: bad flag, unreadable or invalid input, output not writable, a package gate. */
  input: 2,
  /** The sweep's failure budget (`max_failed_trials`) was exceeded. */
  failureBudget: 3,
  /** Another sweep holds the lock on this run_version. */
  locked: 4,
  /** Interrupted by SIGINT/SIGTERM after saving every finished record. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One problem found in a file: rendered as `file[:line]: path: message`. */
export interface Problem {
  file: string;
  line?: number;
  /** Dotted JSON path inside the file or line (`search_space.learning_rate.min`), or "" for the whole. */
  path: string;
  message: string;
}

/**
 * Renders a problem as the one-line form used everywhere: `file[:line]: path: message`.
 * Every part may come from hostile input (a zip member's name, a JSON key), so each is
 * `lineText`: one line, no control character.
 */
export function formatProblem(p: Problem): string {
  const file = lineText(p.file);
  const where = p.line === undefined ? file : `${file}:${p.line}`;
  return p.path
    ? `${where}: ${lineText(p.path)}: ${lineText(p.message)}`
    : `${where}: ${lineText(p.message)}`;
}

/** An error whose message is meant for the user as is, with the exit code it maps to. */
export class TunixError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.input,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flag, unreadable or invalid input, unwritable output (exit 2). */
export class InputError extends TunixError {
  constructor(message: string) {
    super(message, ExitCode.input);
  }

  /** One error for a list of problems: the first problem, and how many more there are. */
  static fromProblems(problems: readonly Problem[]): InputError {
    const first = problems[0];
    if (!first) return new InputError("invalid input");
    const more =
      problems.length > 1
        ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})`
        : "";
    const error = new InputError(formatProblem(first) + more);
    error.problems = problems;
    return error;
  }

  /** Every problem, when the error stands for several. */
  problems: readonly Problem[] = [];
}

/** A file that cannot be read (exit 2): `<file>: cannot read: <reason>`, both kept apart. */
export class ReadError extends InputError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: cannot read: ${reason}`);
  }
}

/** A file that is not UTF-8 text: named with the line and byte offset where it stops being so. */
export class NotUtf8Error extends ReadError {
  constructor(file: string, line: number, reason: string) {
    super(file, `line ${line}: ${reason}`);
    this.message = `${file}:${line}: ${reason}`;
  }
}

/** A command-line usage error (exit 2); the CLI adds a pointer to `--help`. */
export class UsageError extends TunixError {
  constructor(message: string) {
    super(message, ExitCode.input);
  }
}

/** The message of anything thrown, `Error` or not. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Quotes a user's value for an error message: strings in JSON quotes, long values cut. */
export function quote(value: unknown): string {
  let text: string | undefined;
  try {
    // Big integers (YAML reads long whole numbers that way) print as the numbers they are.
    text =
      value === undefined
        ? "undefined"
        : JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    try {
      text = String(value);
    } catch {
      // An object without a prototype has no toString.
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
