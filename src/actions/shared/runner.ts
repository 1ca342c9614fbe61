/**
 * The one wrapper every action runs through (as codeql-action's `runInActions`): read the
 * inputs at the action's boundary, read the run context, pick the step by mode, then end the
 * step: outputs once, and a failure for anything thrown or for work that said "no".
 */
import { type RunContext, runContext } from "./context.js";
import { failStep, finishStep, type StepOutcome } from "./step.js";

/** One step: the settings of its mode and the run context in, its outcome out. */
export type Step<S> = (settings: S, context: RunContext) => Promise<StepOutcome>;

/** Settings that say which step they are for. */
export interface ModeSettings {
  readonly mode: string;
}

/** Who reads an action's inputs: a caller that already chose the mode, and the name errors start with. */
export interface ReadOptions<M extends string> {
  /** The mode, when a caller chose it (the umbrella's `command`); else the `mode` input says. */
  mode?: M;
  /** The action errors are reported for (`tunix-rt/sweep`, or `tunix-rt` for the umbrella). */
  action?: string;
}

/** The settings of one mode: its member of a union of settings, or the settings themselves when they are no union. */
export type SettingsOf<S extends ModeSettings, M extends string> = [Extract<S, { mode: M }>] extends [never]
  ? S
  : Extract<S, { mode: M }>;

/** An action: its input boundary and its table from mode to step. */
export interface Action<S extends ModeSettings> {
  /** Reads and checks the action's inputs (its zod boundary); throws InputError listing every problem. */
  readInputs(options?: ReadOptions<S["mode"]>): S;
  /** The step of each mode; each loads its own code only when it runs. */
  steps: { [M in S["mode"]]: Step<SettingsOf<S, M>> };
}

/** Runs the step an action's settings choose. */
export function runMode<S extends ModeSettings>(
  action: Action<S>,
  settings: S,
  context: RunContext,
): Promise<StepOutcome> {
  const step = action.steps[settings.mode as S["mode"]] as Step<S>;
  return step(settings, context);
}

/** Runs an action as a step of a job: the one place a step starts, succeeds or fails. */
export async function runAction<S extends ModeSettings>(action: Action<S>): Promise<void> {
  try {
    const settings = action.readInputs();
    finishStep(await runMode(action, settings, runContext()));
  } catch (error) {
    failStep(error);
  }
}
