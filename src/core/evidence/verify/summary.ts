/**
 * eval_summary.json's own rules: the best trial's score and answer correctness filled in, and
 * the folder's run_version. Its score against the rows is checked in cross-file.ts.
 */
import type { EvalSummary } from "../schemas.js";
import type { VerifyContext } from "./context.js";
import { checkRunVersion, nullProblem } from "./json-file.js";

/** The rules of a valid eval_summary.json on its own. */
export function checkSummary(ctx: VerifyContext, summary: EvalSummary): void {
  const file = "eval_summary.json";
  if (summary.primary_score === null) nullProblem(ctx, file, "primary_score", "the best trial's score");
  if (summary.metrics.answer_correctness === null)
    nullProblem(ctx, file, "metrics.answer_correctness", "the best trial's answer correctness");
  checkRunVersion(ctx, file, summary.run_version);
}
