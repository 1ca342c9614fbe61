import { InputError, ReadError } from "../core/errors.js";
import { EvalsetParser } from "../core/grading/evalset.js";
import { type GradeResult, PredictionGrader } from "../core/grading/grade.js";
import type { EvalItem } from "../core/types.js";
import { describeFsError, type JsonlLine, readJsonl } from "./files.js";

/**
 * Reads and validates an evalset file, streaming it (see EvalsetParser for the rules).
 * Throws InputError (exit 2) with the first problem and how many more there are, or when
 * the file cannot be read.
 */
export async function readEvalset(file: string, shownAs = file): Promise<EvalItem[]> {
  const parser = new EvalsetParser(shownAs);
  for await (const entry of readLines(file, shownAs)) parser.add(entry);
  const result = parser.finish();
  if (!result.ok) throw InputError.fromProblems(result.problems);
  return result.items;
}

/**
 * The evalset's items, read on the first call and kept: a sweep grades every trial against
 * one reading of its evalset. A read that fails is not kept, so the next call tries again.
 */
export function evalsetLoader(file: string, shownAs = file): () => Promise<EvalItem[]> {
  let items: Promise<EvalItem[]> | undefined;
  return () => {
    items ??= readEvalset(file, shownAs).catch((error: unknown) => {
      items = undefined;
      throw error;
    });
    return items;
  };
}

/**
 * Grades a predictions file against evalset items, streaming it (see PredictionGrader).
 * Faults in the file (malformed lines, duplicated ids, ids that do not fit the evalset) come
 * back in the result, for the caller to fail the trial with; only a file that cannot be read
 * throws InputError. `evalset` is how the evalset is named in the faults.
 */
export async function gradePredictionsFile(
  items: readonly EvalItem[],
  file: string,
  evalset?: string,
): Promise<GradeResult> {
  const grader = new PredictionGrader(items, file, evalset);
  for await (const entry of readLines(file, file)) grader.add(entry);
  return grader.finish();
}

/**
 * readJsonl, with an error met while reading (not only on opening) made an InputError that
 * names the file: a folder opens fine and only fails on the first read (EISDIR), which was an
 * "internal error" before. Errors thrown by the caller's loop body do not pass through here.
 */
async function* readLines(file: string, shownAs: string): AsyncGenerator<JsonlLine> {
  try {
    yield* readJsonl(file, shownAs);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new ReadError(shownAs, describeFsError(error));
  }
}
