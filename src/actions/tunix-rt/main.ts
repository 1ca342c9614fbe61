/** Entry point of the umbrella action (the repository's root action.yml): `command` picks the step. */

import { readPackageInputs } from "../package/inputs.js";
import { readScoreInputs } from "../score/inputs.js";
import { type RunContext, runContext } from "../shared/context.js";
import { failStep, finishStep, type StepOutcome } from "../shared/step.js";
import { readSweepInputs } from "../sweep/inputs.js";
import { readVerifyInputs } from "../verify-evidence/inputs.js";
import { readUmbrellaInputs, type UmbrellaSettings } from "./inputs.js";

/** Runs the umbrella action (the runner, or `local-action`, calls this). */
export async function run(): Promise<void> {
  try {
    const { command } = readUmbrellaInputs();
    finishStep(await runCommand(command, runContext(process.env)));
  } catch (error) {
    failStep(error);
  }
}

/**
 * One step, its inputs read by the boundary of the action it belongs to. Each step's code
 * loads only when it runs, as in the action it belongs to.
 */
async function runCommand(command: UmbrellaSettings["command"], context: RunContext): Promise<StepOutcome> {
  switch (command) {
    case "plan":
    case "trial": {
      const settings = readSweepInputs(command, "tunix-rt");
      return settings.mode === "plan"
        ? (await import("../sweep/plan.js")).planStep(settings, context)
        : (await import("../sweep/trial.js")).trialStep(settings, context);
    }
    case "score":
    case "aggregate": {
      const settings = readScoreInputs(command === "score" ? "trial" : "aggregate", "tunix-rt");
      return settings.mode === "trial"
        ? (await import("../score/trial.js")).scoreTrialStep(settings, context)
        : (await import("../score/aggregate.js")).aggregateStep(settings, context);
    }
    case "verify":
      return (await import("../verify-evidence/verify.js")).verifyStep(readVerifyInputs("tunix-rt"), context);
    case "package":
      return (await import("../package/package.js")).packageStep(readPackageInputs("tunix-rt"), context);
  }
}
