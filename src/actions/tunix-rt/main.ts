/**
 * The umbrella action (the repository's root action.yml): `command` picks a step of another
 * action, whose own boundary reads the step's inputs, so each input means the same in the
 * umbrella as in the action it belongs to.
 */
import type { Action, ModeSettings, Step } from "../shared/runner.js";
import { runAction, runMode } from "../shared/runner.js";
import { readUmbrellaInputs, type UmbrellaSettings } from "./inputs.js";

/** A step of another action, its inputs read by that action's boundary under the umbrella's name. */
function stepOf<S extends ModeSettings>(
  load: () => Promise<Action<S>>,
  mode: S["mode"],
): Step<UmbrellaSettings> {
  return async (_command, context) => {
    const action = await load();
    return runMode(action, action.readInputs({ mode, action: "tunix-rt" }), context);
  };
}

/** The umbrella action: its `command` input, and the step each command runs. */
export const umbrellaAction: Action<UmbrellaSettings> = {
  readInputs: readUmbrellaInputs,
  steps: {
    plan: stepOf(async () => (await import("../sweep/main.js")).sweepAction, "plan"),
    trial: stepOf(async () => (await import("../sweep/main.js")).sweepAction, "trial"),
    score: stepOf(async () => (await import("../score/main.js")).scoreAction, "trial"),
    aggregate: stepOf(async () => (await import("../score/main.js")).scoreAction, "aggregate"),
    publish: stepOf(async () => (await import("../score/main.js")).scoreAction, "publish"),
    verify: stepOf(async () => (await import("../verify-evidence/main.js")).verifyAction, "verify"),
    package: stepOf(async () => (await import("../package/main.js")).packageAction, "package"),
  },
};

/** Runs the action (the bundle's entry, or `local-action`, calls this). */
export function run(): Promise<void> {
  return runAction(umbrellaAction);
}
