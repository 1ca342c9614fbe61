/**
 * The umbrella action's own input: `command`, which picks the step. The step's other inputs
 * are read by that step's own boundary (actions/sweep, score, verify-evidence, package), so
 * each input means the same in the umbrella as in the action it belongs to.
 */
import * as core from "@actions/core";
import { z } from "zod";
import { parseInputs, requiredOneOf } from "../shared/input-values.js";

/** The steps the umbrella action can run. */
export const commands = ["plan", "trial", "score", "aggregate", "verify", "package"] as const;

/** Which step to run. */
export interface UmbrellaSettings {
  /** plan and trial are actions/sweep's modes; score and aggregate are actions/score's; verify and package the others. */
  command: (typeof commands)[number];
}

/** Reads the umbrella action's `command` input. */
export function readUmbrellaInputs(action = "tunix-rt"): UmbrellaSettings {
  const raw = parseInputs(
    z.object({ command: requiredOneOf(commands) }),
    { command: core.getInput("command") },
    action,
  );
  return Object.freeze({ command: raw.command });
}
