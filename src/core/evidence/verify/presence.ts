/**
 * The rule every evidence file meets first: it is there, and it can be read. A file that is
 * not is unusable, and the cross-file rules skip it.
 */
import type { EvidenceFileName } from "../schemas.js";
import type { VerifyContext } from "./context.js";

/** What each evidence file is for, to say why a missing one is needed. */
const whatItMeans: Record<EvidenceFileName, string> = {
  "run_manifest.json": "how the evidence was produced",
  "eval_summary.json": "the best trial's evaluation",
  "best_params.json": "the best trial and its parameters",
  "kaggle_output_log.txt": "the best trial's output log",
  "eval_rows.jsonl": "the best trial's graded rows, from which primary_score is recomputed",
  "trials.jsonl": "every trial's record, from which the best trial is found",
};

/** The file is not in the folder. */
export function fileMissing(ctx: VerifyContext, name: EvidenceFileName): void {
  ctx.seen.add(name);
  ctx.unusable.add(name);
  ctx.add({ file: name, path: "", message: `missing; the evidence needs it (${whatItMeans[name]})` });
}

/** The file is there but could not be read (`reason`: permission denied, is a directory, ...). */
export function fileUnreadable(ctx: VerifyContext, name: EvidenceFileName, reason: string): void {
  ctx.seen.add(name);
  ctx.unusable.add(name);
  ctx.add({ file: name, path: "", message: `cannot read: ${reason}` });
}
