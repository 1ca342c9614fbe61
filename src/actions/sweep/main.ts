/** Entry point of actions/sweep: `mode: plan` or `mode: trial`. */
import { runContext } from "../shared/context.js";
import { failStep, finishStep } from "../shared/step.js";
import { readSweepInputs } from "./inputs.js";

/** Runs the sweep action (the runner, or `local-action`, calls this). */
export async function run(): Promise<void> {
  try {
    const settings = readSweepInputs();
    const context = runContext(process.env);
    // Each mode's code loads only when it runs: a plan step does not load the trainer's runner.
    finishStep(
      settings.mode === "plan"
        ? await (await import("./plan.js")).planStep(settings, context)
        : await (await import("./trial.js")).trialStep(settings, context),
    );
  } catch (error) {
    failStep(error);
  }
}
