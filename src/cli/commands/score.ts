import path from "node:path";
import { ExitCode, formatProblem, InputError, type Problem, quote, UsageError } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import type { GradeResult } from "../../core/grading/grade.js";
import { ScoreAccumulator, type ScoreResult } from "../../core/grading/score.js";
import { parsePythonJson } from "../../core/python.js";
import { gradePredictionsFile, readEvalset } from "../../runtime/evalset.js";
import { scanJsonl } from "../../runtime/jsonl-fast.js";
import { type CliContext, type Command, parseFlags } from "../command.js";

const help = `Usage: tunix-rt score --rows FILE [--json]
       tunix-rt score --predictions FILE --evalset FILE [--json]

Computes primary_score, the M34 metric: the mean over eval rows of
metrics.answer_correctness, falling back to score (divided by 100 when above 1)
where answer_correctness is absent, null or not a number; a value counts only
when it lies in [0, 1]. Numbers, booleans and numeric strings are read as
Python's float() reads them.

Flags:
  --rows FILE          graded rows (eval_rows.jsonl), one JSON object per line;
                       streamed, so any size works. A line that is a JSON value
                       but not an object is a row that counts nothing. NaN and
                       Infinity are read as Python's json module writes them.
  --predictions FILE   {"id", "prediction"} per line, graded against --evalset:
                       the text inside <answer>...</answer> (else the whole
                       prediction) must equal expected_answer after
                       strip().lower(). An evalset item without a prediction is
                       graded 0 and counted; a prediction for an unknown id is
                       ignored; both are noted on stderr. But when no prediction's
                       id is an evalset id, or half of them or more are not
                       (predictions for another evalset, ids in another form),
                       there is no score: exit 1.
  --evalset FILE       {"id", "prompt", "expected_answer"} per line.
  --json               print {"primary_score": number|null, "rows": N, "counted": M}
                       on one line instead of a sentence.

Exit codes:
  0  scored; primary_score may be null (no row counted): that is an answer,
     and a trial whose primary_score is null never wins a sweep
  1  the predictions fail the trial: a malformed line (not JSON, not an object,
     id neither a string nor a whole number, prediction not a string), a
     duplicated id, no prediction at all, or ids of which half or more (or
     all) match no evalset item; the reasons, with line numbers or counts,
     go to stderr and nothing to stdout
  2  usage or input error: bad flags, a file that cannot be read, a rows line
     that is not JSON (a score over a corrupt file is not trustworthy; the
     first such line is named, and how many there are), an invalid evalset
`;

/** `tunix-rt score`: primary_score of graded rows, or of predictions graded against an evalset. */
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values } = parseFlags(args, { values: ["rows", "predictions", "evalset"], switches: ["json"] });
    const { rows, predictions, evalset } = values;
    const json = values.json === true;
    if (rows !== undefined) {
      if (predictions !== undefined || evalset !== undefined) {
        throw new UsageError("give either --rows, or --predictions with --evalset, not both");
      }
      const result = await scoreRowsFile(rows, ctx);
      ctx.stdout(json ? `${JSON.stringify(result)}\n` : `${sentence(result)}\n`);
      return ExitCode.ok;
    }
    if (predictions === undefined && evalset === undefined) {
      throw new UsageError("give --rows FILE, or --predictions FILE with --evalset FILE");
    }
    if (predictions === undefined || evalset === undefined) {
      const [given, lacking] =
        predictions === undefined ? ["evalset", "predictions"] : ["predictions", "evalset"];
      throw new UsageError(`--${given} needs --${lacking}`);
    }
    const items = await readEvalset(resolve(ctx, evalset));
    const graded = await gradePredictionsFile(items, resolve(ctx, predictions), evalset);
    if (graded.summary.length > 0) {
      for (const line of graded.summary) ctx.stderr(`tunix-rt score: ${lineText(line)}\n`);
      return ExitCode.no;
    }
    for (const note of notes(graded, predictions, evalset))
      ctx.stderr(`tunix-rt score: note: ${lineText(note)}\n`);
    const accumulator = new ScoreAccumulator();
    for (const row of graded.rows) accumulator.add(row);
    const result = accumulator.result;
    ctx.stdout(json ? `${JSON.stringify(result)}\n` : `${sentence(result)}\n`);
    return ExitCode.ok;
  },
};

/**
 * Scores an eval_rows file as it streams: one ScoreAccumulator, no row kept. A line that is
 * not JSON (Python's json reading rules: NaN and Infinity allowed) makes the file an input
 * error; the scan goes on to count such lines, so the error says how many there are.
 */
async function scoreRowsFile(file: string, ctx: CliContext): Promise<ScoreResult> {
  const accumulator = new ScoreAccumulator();
  // Every malformed line is a problem (for --json and --all-problems), the first 1,000 kept.
  const problems: Problem[] = [];
  let malformed = 0;
  await scanJsonl(
    resolve(ctx, file),
    (entry) => {
      if (entry.ok) {
        accumulator.add(entry.value);
        return;
      }
      malformed++;
      if (problems.length < 1000)
        problems.push({ file, line: entry.line, path: "", message: `not valid JSON (${entry.error})` });
    },
    { parse: parsePythonJson, signal: ctx.signal },
  );
  const first = problems[0];
  if (first) {
    const more =
      malformed > 1 ? ` (and ${malformed - 1} more malformed line${malformed > 2 ? "s" : ""})` : "";
    const error = new InputError(`${formatProblem(first)}${more}`);
    error.problems = problems;
    throw error;
  }
  return accumulator.result;
}

/** A file flag's path: as given, made absolute only when the command runs elsewhere than the process (tests). */
function resolve(ctx: CliContext, file: string): string {
  return path.isAbsolute(file) || ctx.cwd === process.cwd() ? file : path.resolve(ctx.cwd, file);
}

/** The human form of a result. */
function sentence({ primary_score, rows, counted }: ScoreResult): string {
  const of = `${rows} row${rows === 1 ? "" : "s"}`;
  if (primary_score === null) {
    return `primary_score null: none of ${of} counted (a row counts with metrics.answer_correctness, or else score, in [0, 1])`;
  }
  return `primary_score ${primary_score} (${counted} of ${of} counted)`;
}

/** Notes on predictions that did not fail the trial: missing ones (graded 0) and unknown ids (ignored). */
function notes(graded: GradeResult, predictions: string, evalset: string): string[] {
  const lines: string[] = [];
  const { missing, extra } = graded;
  if (missing.length > 0) {
    const items = missing.length === 1 ? "1 evalset item has" : `${missing.length} evalset items have`;
    lines.push(`${items} no prediction in ${predictions}, graded 0: ${listIds(missing)}`);
  }
  if (extra.length > 0) {
    const ids = extra.length === 1 ? "1 prediction has an id" : `${extra.length} predictions have ids`;
    lines.push(`${ids} not in ${evalset}, ignored: ${listIds(extra)}`);
  }
  return lines;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 5).map((id) => quote(id));
  return ids.length > 5 ? `${shown.join(", ")}, …` : shown.join(", ");
}
