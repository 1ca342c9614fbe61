/**
 * run_manifest.json's own rules: the sweep's id and the best trial's id filled in, the
 * folder's run_version, and under the kaggle profile a model the competition allows. What it
 * says of other files (the trial counts, the code, the command) is checked in cross-file.ts
 * and source.ts.
 */
import { quote } from "../../errors.js";
import type { RunManifest } from "../schemas.js";
import type { VerifyContext } from "./context.js";
import { checkRunVersion, nullProblem } from "./json-file.js";

/** The models the `kaggle` profile accepts as run_manifest.json's model_id. */
export const kaggleModels = ["google/gemma-3-1b-it", "google/gemma-2-2b"] as const;

/** The rules of a valid run_manifest.json on its own. */
export function checkManifest(ctx: VerifyContext, manifest: RunManifest): void {
  const file = "run_manifest.json";
  if (manifest.tuning_job_id === null)
    nullProblem(ctx, file, "tuning_job_id", "the id of the sweep that produced it");
  if (manifest.trial_id === null) nullProblem(ctx, file, "trial_id", "the best trial's id");
  checkRunVersion(ctx, file, manifest.run_version);
  if (
    ctx.options.profile === "kaggle" &&
    !(kaggleModels as readonly string[]).includes(manifest.model_id ?? "")
  ) {
    ctx.add({
      file,
      path: "model_id",
      message: `got ${quote(manifest.model_id)}; the kaggle profile expects one of ${kaggleModels.join(", ")}`,
    });
  }
}
