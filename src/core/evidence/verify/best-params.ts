/**
 * best_params.json's own rules: the sweep's id, the best trial's id and score, and every one
 * of its parameters filled in. That it names the best trial of trials.jsonl is best-trial.ts's.
 */
import type { BestParams } from "../schemas.js";
import type { VerifyContext } from "./context.js";
import { nullProblem } from "./json-file.js";

/** The rules of a valid best_params.json on its own. */
export function checkBestParams(ctx: VerifyContext, best: BestParams): void {
  const file = "best_params.json";
  if (best.tuning_job_id === null)
    nullProblem(ctx, file, "tuning_job_id", "the id of the sweep that produced it");
  if (best.trial_id === null) nullProblem(ctx, file, "trial_id", "the best trial's id");
  if (best.primary_score === null) nullProblem(ctx, file, "primary_score", "the best trial's score");
  const names = Object.keys(best.params);
  if (names.length === 0)
    ctx.add({
      file,
      path: "params",
      message: "is empty; evidence must carry the best trial's parameters",
    });
  for (const name of names) {
    if (best.params[name] === null) nullProblem(ctx, file, `params.${name}`, "the best trial's value");
  }
}
