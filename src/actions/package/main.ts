/** actions/package: one step. */
import { type Action, runAction } from "../shared/runner.js";
import { type PackageSettings, readPackageInputs } from "./inputs.js";

/** The package action: its inputs and its one step. */
export const packageAction: Action<PackageSettings> = {
  readInputs: readPackageInputs,
  steps: {
    package: async (settings, context) => (await import("./package.js")).packageStep(settings, context),
  },
};

/** Runs the action (the bundle's entry, or `local-action`, calls this). */
export function run(): Promise<void> {
  return runAction(packageAction);
}
