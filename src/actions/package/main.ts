/** Entry point of actions/package. */
import { runContext } from "../shared/context.js";
import { failStep, finishStep } from "../shared/step.js";
import { readPackageInputs } from "./inputs.js";
import { packageStep } from "./package.js";

/** Runs the package action (the runner, or `local-action`, calls this). */
export async function run(): Promise<void> {
  try {
    finishStep(await packageStep(readPackageInputs(), runContext(process.env)));
  } catch (error) {
    failStep(error);
  }
}
