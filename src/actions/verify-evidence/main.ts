/** actions/verify-evidence: folders and zips in a checkout, or the evidence a pull request brings. */
import { type Action, runAction } from "../shared/runner.js";
import { readVerifyInputs, type VerifySettings } from "./inputs.js";

/** The verify-evidence action: its inputs and its two steps (`path`, or `pull-request`). */
export const verifyAction: Action<VerifySettings> = {
  readInputs: readVerifyInputs,
  steps: {
    verify: async (settings, context) => (await import("./verify.js")).verifyStep(settings, context),
    "pull-request": async (settings, context) =>
      (await import("./pull-request.js")).pullRequestStep(settings, context),
  },
};

/** Runs the action (the bundle's entry, or `local-action`, calls this). */
export function run(): Promise<void> {
  return runAction(verifyAction);
}
