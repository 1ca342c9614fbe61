/** Entry point of actions/verify-evidence. */
import { runContext } from "../shared/context.js";
import { failStep, finishStep } from "../shared/step.js";
import { readVerifyInputs } from "./inputs.js";
import { verifyStep } from "./verify.js";

/** Runs the verify-evidence action (the runner, or `local-action`, calls this). */
export async function run(): Promise<void> {
  try {
    finishStep(await verifyStep(readVerifyInputs(), runContext(process.env)));
  } catch (error) {
    failStep(error);
  }
}
