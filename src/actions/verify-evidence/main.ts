/** actions/verify-evidence: one step. */
import { type Action, runAction } from "../shared/runner.js";
import { readVerifyInputs, type VerifySettings } from "./inputs.js";

/** The verify-evidence action: its inputs and its one step. */
export const verifyAction: Action<VerifySettings> = {
  readInputs: readVerifyInputs,
  steps: { verify: async (settings, context) => (await import("./verify.js")).verifyStep(settings, context) },
};

/** Runs the action (the bundle's entry, or `local-action`, calls this). */
export function run(): Promise<void> {
  return runAction(verifyAction);
}
