/**
 * The umbrella action's own input: `command`, which picks the step. The step's other inputs
 * are read by that step's own boundary (actions/sweep, score, verify-evidence, package), so
 * each input means the same in the umbrella as in the action it belongs to.
 */
import { z } from "zod";
import { readInputs, requiredOneOf } from "../shared/input-values.js";
import type { ReadOptions } from "../shared/runner.js";

/** The steps the umbrella action can run. */
export const commands = ["plan", "trial", "score", "aggregate", "publish", "verify", "package"] as const;

/** Which step to run. */
export interface UmbrellaSettings {
  /**
   * The `command` input: plan and trial are actions/sweep's modes; score, aggregate and
   * publish are actions/score's; verify and package the others.
   */
  mode: (typeof commands)[number];
}

/** Reads the umbrella action's `command` input. */
export function readUmbrellaInputs({
  action = "tunix-rt",
}: ReadOptions<UmbrellaSettings["mode"]> = {}): UmbrellaSettings {
  const raw = readInputs(z.object({ command: requiredOneOf(commands) }), action);
  return Object.freeze({ mode: raw.command });
}
