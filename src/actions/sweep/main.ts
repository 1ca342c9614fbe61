/** Entry point of actions/sweep: `mode: plan` or `mode: trial`. */
import { runContext } from "../shared/context.js";
import { failStep, finishStep } from "../shared/step.js";
import { readSweepInputs } from "./inputs.js";
import { planStep } from "./plan.js";
import { trialStep } from "./trial.js";

/** Runs the sweep action (the runner, or `local-action`, calls this). */
export async function run(): Promise<void> {
  try {
    const settings = readSweepInputs();
    const context = runContext(process.env);
    finishStep(
      settings.mode === "plan" ? await planStep(settings, context) : await trialStep(settings, context),
    );
  } catch (error) {
    failStep(error);
  }
}
