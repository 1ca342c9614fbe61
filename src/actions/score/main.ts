/** Entry point of actions/score: `mode: trial` or `mode: aggregate`. */
import { runContext } from "../shared/context.js";
import { failStep, finishStep } from "../shared/step.js";
import { readScoreInputs } from "./inputs.js";

/** Runs the score action (the runner, or `local-action`, calls this). */
export async function run(): Promise<void> {
  try {
    const settings = readScoreInputs();
    const context = runContext(process.env);
    // Each mode's code loads only when it runs: grading a folder does not load Octokit.
    finishStep(
      settings.mode === "trial"
        ? await (await import("./trial.js")).scoreTrialStep(settings, context)
        : await (await import("./aggregate.js")).aggregateStep(settings, context),
    );
  } catch (error) {
    failStep(error);
  }
}
