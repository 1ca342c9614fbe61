/** Entry point of actions/score: `mode: trial` or `mode: aggregate`. */
import { runContext } from "../shared/context.js";
import { failStep, finishStep } from "../shared/step.js";
import { aggregateStep } from "./aggregate.js";
import { readScoreInputs } from "./inputs.js";
import { scoreTrialStep } from "./trial.js";

/** Runs the score action (the runner, or `local-action`, calls this). */
export async function run(): Promise<void> {
  try {
    const settings = readScoreInputs();
    const context = runContext(process.env);
    finishStep(
      settings.mode === "trial"
        ? await scoreTrialStep(settings, context)
        : await aggregateStep(settings, context),
    );
  } catch (error) {
    failStep(error);
  }
}
