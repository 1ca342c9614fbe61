/** actions/score: `mode: trial`, `aggregate` or `publish`. */
import { type Action, runAction } from "../shared/runner.js";
import { readScoreInputs, type ScoreSettings } from "./inputs.js";

/** The score action: its inputs, and its step by mode. */
export const scoreAction: Action<ScoreSettings> = {
  readInputs: readScoreInputs,
  // Each mode's code loads only when it runs: grading a folder does not load Octokit.
  steps: {
    trial: async (settings, context) => (await import("./trial.js")).scoreTrialStep(settings, context),
    aggregate: async (settings, context) => (await import("./aggregate.js")).aggregateStep(settings, context),
    publish: async (settings, context) => (await import("./publish.js")).publishStep(settings, context),
  },
};

/** Runs the action (the bundle's entry, or `local-action`, calls this). */
export function run(): Promise<void> {
  return runAction(scoreAction);
}
