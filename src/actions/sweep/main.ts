/** actions/sweep: `mode: plan` or `mode: trial`. */
import { type Action, runAction } from "../shared/runner.js";
import { readSweepInputs, type SweepSettings } from "./inputs.js";

/** The sweep action: its inputs, and its step by mode. */
export const sweepAction: Action<SweepSettings> = {
  readInputs: readSweepInputs,
  // Each mode's code loads only when it runs: a plan step does not load the trainer's runner.
  steps: {
    plan: async (settings, context) => (await import("./plan.js")).planStep(settings, context),
    trial: async (settings, context) => (await import("./trial.js")).trialStep(settings, context),
  },
};

/** Runs the action (the bundle's entry, or `local-action`, calls this). */
export function run(): Promise<void> {
  return runAction(sweepAction);
}
