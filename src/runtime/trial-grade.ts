import { stat } from "node:fs/promises";
import path from "node:path";
import { ReadError } from "../core/errors.js";
import { type GradeResult, predictionsNote } from "../core/grading/grade.js";
import { ScoreAccumulator } from "../core/grading/score.js";
import type { EvalItem, TrialStatus } from "../core/types.js";
import { gradePredictionsFile, readEvalset } from "./evalset.js";
import { readJsonl, writeFileAtomic } from "./files.js";

/** What grading adds to a trial record. */
export interface TrialGrade {
  status: TrialStatus;
  /** Why the trial failed; null when it completed. */
  error: string | null;
  fields: {
    primary_score: number | null;
    rows?: number;
    counted?: number;
    missing_predictions?: number;
    extra_predictions?: number;
    /** A completed trial: what grading met that did not fail it (see `TrialJson.note`). */
    note?: string;
  };
}

/** What the trainer left at a path: a regular file, nothing, or something else (a folder, ...). */
async function kindOf(file: string): Promise<"file" | "missing" | "other"> {
  try {
    return (await stat(file)).isFile() ? "file" : "other";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "other";
  }
}

/** A failed grade: the trainer's output, not the sweep's inputs, is at fault. */
function failed(error: string): TrialGrade {
  return { status: "failed", error, fields: { primary_score: null } };
}

/**
 * The grade of a trainer's output file that cannot be read (a folder named predictions.jsonl,
 * no permission): the trial fails, rather than the command ending with exit 2. Anything but
 * a read error is thrown on.
 */
function unreadable(name: string, error: unknown): TrialGrade {
  if (!(error instanceof ReadError)) throw error;
  return failed(`${name} in the output folder cannot be read: ${error.reason}`);
}

/**
 * Grades what a trainer left in its folder. Its own `eval_rows.jsonl` wins (a trainer that
 * grades itself); else `predictions.jsonl` is graded against the evalset and the graded rows
 * are written as `eval_rows.jsonl`. Faults fail the trial with a reason (`error`); those that
 * do not (missing predictions, unknown ids, rows not counted) complete it with a `note`. An
 * evalset that cannot be read throws (exit 2), since no trial of the sweep could be graded.
 */
export async function gradeTrialOutput({
  outDir,
  evalset,
  evalsetShown,
  loadEvalset,
}: {
  outDir: string;
  evalset?: string;
  evalsetShown?: string;
  /** The evalset's items as the caller read them once (`evalsetLoader`); default: read here. */
  loadEvalset?: () => Promise<readonly EvalItem[]>;
}): Promise<TrialGrade> {
  const rowsFile = path.join(outDir, "eval_rows.jsonl");
  const predictionsFile = path.join(outDir, "predictions.jsonl");
  const rowsKind = await kindOf(rowsFile);
  if (rowsKind === "other") return failed("eval_rows.jsonl in the output folder is not a regular file");
  if (rowsKind === "file")
    return scoreOwnRows(rowsFile).catch((error) => unreadable("eval_rows.jsonl", error));
  const predictionsKind = await kindOf(predictionsFile);
  if (predictionsKind === "other")
    return failed("predictions.jsonl in the output folder is not a regular file");
  if (predictionsKind === "missing") {
    return failed(
      "trainer exited 0 but wrote no predictions.jsonl (nor eval_rows.jsonl) in its output folder",
    );
  }
  if (!evalset) {
    return {
      status: "failed",
      error: "predictions.jsonl cannot be graded: the config names no evalset",
      fields: { primary_score: null },
    };
  }
  // The evalset is the sweep's input: a bad one throws (exit 2), as no trial could be graded.
  const items = await (loadEvalset ?? (() => readEvalset(evalset, evalsetShown)))();
  let graded: GradeResult;
  try {
    graded = await gradePredictionsFile(items, predictionsFile, evalsetShown ?? evalset);
  } catch (error) {
    return unreadable("predictions.jsonl", error);
  }
  const score = new ScoreAccumulator();
  for (const row of graded.rows) score.add(row);
  const { primary_score, rows, counted } = score.result;
  await writeFileAtomic(
    rowsFile,
    graded.rows.map((row) => JSON.stringify(row)).join("\n") + (graded.rows.length ? "\n" : ""),
  );
  const fields = {
    primary_score,
    rows,
    counted,
    missing_predictions: graded.missing.length,
    extra_predictions: graded.extra.length,
  };
  if (graded.summary.length > 0) {
    return { status: "failed", error: graded.summary.join("; "), fields: { ...fields, primary_score: null } };
  }
  const note = predictionsNote({ missing: graded.missing, extra: graded.extra, items: items.length });
  return { status: "completed", error: null, fields: note === undefined ? fields : { ...fields, note } };
}

/** Scores a trainer's own `eval_rows.jsonl`, streaming it; malformed lines fail the trial. */
async function scoreOwnRows(file: string): Promise<TrialGrade> {
  const score = new ScoreAccumulator();
  let malformed = 0;
  let firstBad = 0;
  for await (const entry of readJsonl(file)) {
    if (!entry.ok) {
      malformed++;
      firstBad ||= entry.line;
      continue;
    }
    score.add(entry.value);
  }
  const { primary_score, rows, counted } = score.result;
  if (malformed > 0) {
    return {
      status: "failed",
      error: `${malformed} malformed line${malformed > 1 ? "s" : ""} in eval_rows.jsonl (first at line ${firstBad})`,
      fields: { primary_score: null, rows, counted },
    };
  }
  const dropped = rows - counted;
  const note =
    counted === 0
      ? `no row of eval_rows.jsonl has a usable answer_correctness or score in [0, 1] (${rows} rows): primary_score is null`
      : dropped > 0
        ? `${dropped} of ${rows} rows in eval_rows.jsonl had no usable value and were not counted`
        : null;
  return {
    status: "completed",
    error: null,
    fields: { primary_score, rows, counted, ...(note === null ? {} : { note }) },
  };
}
