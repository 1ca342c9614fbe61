import { open } from "node:fs/promises";
import path from "node:path";
import { InputError, type Problem, quote } from "../core/errors.js";
import { TrialSourceFields } from "../core/evidence/source.js";
import { isObject } from "../core/json.js";
import { append } from "../core/limits.js";
import type { ParamValue, TrialRecord, TrialStatus } from "../core/types.js";
import { describeFsError, readJsonl, readTextFile } from "./files.js";

/** The statuses a trial record may have (DESIGN.md, "History / trial records"). */
export const trialStatuses: readonly TrialStatus[] = ["completed", "failed", "timeout", "pruned", "running"];

/**
 * Checks one parsed history record. Extra fields are kept (a `trial.json` has many), params
 * are not checked against the search space: a past trial is a fact, and a space may change
 * between waves; the caller decides what such trials mean.
 */
export function checkTrialRecord(
  value: unknown,
  where: { file: string; line?: number; prefix?: string },
): Problem[] {
  const { file, line, prefix = "" } = where;
  const at = (key: string) => (prefix && key ? `${prefix}.${key}` : prefix || key);
  const problem = (key: string, message: string): Problem => ({
    file,
    ...(line === undefined ? {} : { line }),
    path: at(key),
    message,
  });
  if (!isObject(value))
    return [
      problem(
        "",
        `got ${quote(value)}; expected a trial record object {trial_id, params, status, primary_score}`,
      ),
    ];
  const problems: Problem[] = [];
  if (typeof value.trial_id !== "string" || value.trial_id === "") {
    problems.push(
      problem(
        "trial_id",
        value.trial_id === undefined
          ? "missing; expected a string"
          : `got ${quote(value.trial_id)}; expected a non-empty string`,
      ),
    );
  }
  if (!isObject(value.params)) {
    problems.push(
      problem(
        "params",
        value.params === undefined
          ? "missing; expected an object"
          : `got ${quote(value.params)}; expected an object of parameter values`,
      ),
    );
  } else {
    for (const [name, v] of Object.entries(value.params)) {
      if (!isParamValue(v))
        problems.push(
          problem(`params.${name}`, `got ${quote(v)}; expected a number, string, boolean or null`),
        );
    }
  }
  if (!(trialStatuses as readonly unknown[]).includes(value.status)) {
    problems.push(
      problem("status", `got ${quote(value.status)}; expected one of ${trialStatuses.join(", ")}`),
    );
  }
  if (
    !(
      value.primary_score === null ||
      (typeof value.primary_score === "number" && Number.isFinite(value.primary_score))
    )
  ) {
    problems.push(
      problem(
        "primary_score",
        value.primary_score === undefined
          ? "missing; expected a number or null"
          : `got ${quote(value.primary_score)}; expected a number or null`,
      ),
    );
  }
  if (
    value.budget !== undefined &&
    !(typeof value.budget === "number" && Number.isFinite(value.budget) && value.budget > 0)
  ) {
    problems.push(problem("budget", `got ${quote(value.budget)}; expected a number > 0`));
  }
  // The code the trial ran (absent in older records): malformed, it could claim anything.
  if (value.commit_sha !== undefined && !TrialSourceFields.commit_sha.safeParse(value.commit_sha).success) {
    problems.push(
      problem(
        "commit_sha",
        `got ${quote(value.commit_sha)}; expected a git commit sha (7 to 64 hex digits) or null`,
      ),
    );
  }
  if (value.worktree !== undefined && !TrialSourceFields.worktree.safeParse(value.worktree).success) {
    problems.push(
      problem(
        "worktree",
        `got ${quote(value.worktree)}; expected {dirty, changed, files, diff_sha256} as tunix-rt records it, or null`,
      ),
    );
  }
  return problems;
}

function isParamValue(v: unknown): v is ParamValue {
  return (
    v === null ||
    typeof v === "string" ||
    typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v))
  );
}

/**
 * Reads a history: JSONL with one trial record per line (blank lines skipped), streamed, or
 * a JSON array of records when the file's first character is `[`. Every record is checked
 * (`checkTrialRecord`) and trial ids must be distinct. Throws an InputError (exit 2) naming
 * the first problem as `file:line: path: message`, with the count of the others.
 * `file` is resolved against `cwd` and shown as given.
 */
export async function readHistory(file: string, { cwd }: { cwd: string }): Promise<TrialRecord[]> {
  const absolute = path.resolve(cwd, file);
  const first = await firstCharacter(absolute, file);
  const problems: Problem[] = [];
  const records: TrialRecord[] = [];
  const firstLine = new Map<string, number>();
  const report = (found: Problem[]) => {
    append(problems, found);
  };
  // `line` for JSONL, `index` (and no line) for a JSON array.
  const accept = (value: unknown, line: number | undefined, index: number) => {
    const prefix = line === undefined ? `[${index}]` : "";
    const found = checkTrialRecord(value, { file, line, prefix });
    if (found.length > 0) return report(found);
    const record = value as TrialRecord;
    const seenAt = firstLine.get(record.trial_id);
    if (seenAt !== undefined) {
      const where = line === undefined ? `[${seenAt}]` : `line ${seenAt}`;
      return report([
        {
          file,
          ...(line === undefined ? {} : { line }),
          path: prefix ? `${prefix}.trial_id` : "trial_id",
          message: `got ${quote(record.trial_id)} again (first at ${where}); expected each trial once`,
        },
      ]);
    }
    firstLine.set(record.trial_id, line ?? index);
    records.push(record);
  };
  if (first === "[") {
    let doc: unknown;
    try {
      doc = JSON.parse(await readTextFile(absolute, "history", file));
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(`${file}: not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(doc)) throw new InputError(`${file}: expected a JSON array of trial records or JSONL`);
    doc.forEach((value, i) => {
      accept(value, undefined, i);
    });
  } else if (first !== undefined) {
    try {
      for await (const entry of readJsonl(absolute)) {
        if (!entry.ok)
          report([{ file, line: entry.line, path: "", message: `not valid JSON: ${entry.error}` }]);
        else accept(entry.value, entry.line, 0);
      }
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(`${file}: cannot read history: ${describeFsError(error)}`);
    }
  }
  if (problems.length > 0) throw InputError.fromProblems(problems);
  return records;
}

/** The first non-blank character of a file (undefined when it is empty), with readable errors. */
async function firstCharacter(absolute: string, shownAs: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(absolute, "r");
  } catch (error) {
    throw new InputError(`${shownAs}: cannot read history: ${describeFsError(error)}`);
  }
  try {
    const buffer = Buffer.alloc(4096);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return undefined;
      const text = buffer.toString("utf8", 0, bytesRead).replace(/^\uFEFF/, "");
      const match = /\S/.exec(text);
      if (match) return match[0];
      position += bytesRead;
    }
  } catch (error) {
    throw new InputError(`${shownAs}: cannot read history: ${describeFsError(error)}`);
  } finally {
    await handle.close();
  }
}
