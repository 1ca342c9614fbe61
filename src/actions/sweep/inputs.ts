/**
 * The sweep action's input boundary: the only place that reads its inputs. Modes: `plan`
 * (a plan and its matrix) and `trial` (one matrix entry: trainer, grading, artifact).
 */
import { z } from "zod";
import { samplerNames } from "../../core/config/sampler-names.js";
import { InputError } from "../../core/errors.js";
import * as input from "../shared/input-values.js";

/** Literal defaults, the same as actions/sweep/action.yml declares (a test compares them). */
export const sweepDefaults = {
  config: "training/sweep.yaml",
  upload: "true",
  "history-from-artifacts": "false",
} as const;

/** Settings of `mode: plan`. */
export interface PlanSettings {
  mode: "plan";
  /** The sweep config, relative to the workspace. */
  config: string;
  /** How many trials to plan (with `wave`, the whole sweep's); default the config's num_samples. */
  count: number | undefined;
  /** The sweep seed (uint32); default the config's seed. */
  seed: number | undefined;
  /** The sampler; default the config's. */
  sampler: (typeof samplerNames)[number] | undefined;
  /** Overrides the config's run_version (the evidence folder's name). */
  runVersion: string | undefined;
  /** Trials so far (JSONL of trial records): new trials are planned given them. */
  history: string | undefined;
  /** The sweep's UUID; default a new one. */
  sweepId: string | undefined;
  /**
   * Which wave of the sweep this plan is (1-based); undefined: a plain plan, as before waves.
   * With it, `num-samples` is the whole sweep's size and the wave's share is planned.
   */
  wave: number | undefined;
  /** Rebuild the history from this workflow run's trial artifacts of the sweep. */
  historyFromArtifacts: boolean;
  /** The earlier waves' planned trials (the previous plan's `planned` output), parsed JSON. */
  planned: unknown;
  /** The wave jobs the workflow has: wave 1 fails when the schedule needs more. */
  maxWaves: number | undefined;
}

/** Settings of `mode: trial`. */
export interface TrialSettings {
  mode: "trial";
  /** The sweep config, relative to the workspace (needs trainer and evalset). */
  config: string;
  /** The matrix entry, parsed JSON (checked against the config later). */
  trial: unknown;
  /** The trial's folder; default `runs/<sweep_id>/<trial_id>`. */
  trialDir: string | undefined;
  /** Upload the trial folder as the artifact `tunix-rt-trial-<sweep>-<trial>`. */
  upload: boolean;
  /** Days the artifact is kept; default the repository's setting. */
  retentionDays: number | undefined;
  /** Extra environment for the trainer (NAME=value lines), every value a secret. */
  secretEnv: Readonly<Record<string, string>>;
  /**
   * Storage every trial runner sees (an NFS mount): the trial's folder goes to
   * `<checkpoint-dir>/<sweep_id>/<trial_id>`, and a promoted trial resumes from its parent's.
   */
  checkpointDir: string | undefined;
}

/** What the sweep action was asked to do. */
export type SweepSettings = PlanSettings | TrialSettings;

const planSchema = z.object({
  config: input.optionalText,
  "num-samples": input.wholeNumber({ min: 1, max: 100_000 }),
  seed: input.wholeNumber({ min: 0, max: 0xffffffff }),
  sampler: input.oneOf(samplerNames),
  "run-version": input.optionalText,
  history: input.optionalText,
  "sweep-id": input.optionalText,
  wave: input.wholeNumber({ min: 1, max: 1000 }),
  "history-from-artifacts": input.flag(false),
  planned: input.optionalJson,
  "max-waves": input.wholeNumber({ min: 1, max: 1000 }),
});

const trialSchema = z.object({
  ...input.matrixEntryInputs,
  "trial-dir": input.optionalText,
  ...input.trialArtifactInputs,
  "secret-env": input.secretEnvLines,
  "checkpoint-dir": input.optionalText,
});

/**
 * Reads the sweep action's inputs. `mode` comes from the `mode` input, or from the caller
 * (the umbrella action, whose `command` input already chose it).
 */
export const readSweepInputs = input.readByMode<SweepSettings>("tunix-rt/sweep", {
  plan: readPlanInputs,
  trial: readTrialInputs,
});

/** The inputs of `mode: plan`. */
function readPlanInputs(action: string): PlanSettings {
  const raw = input.readInputs(planSchema, action);
  if (raw["history-from-artifacts"] && raw["sweep-id"] === undefined) {
    throw new InputError(
      `${action}: with.sweep-id: missing; reading the history from the run's artifacts needs the sweep's id (wave 1's sweep-id output)`,
    );
  }
  return Object.freeze({
    mode: "plan",
    config: raw.config ?? sweepDefaults.config,
    count: raw["num-samples"],
    seed: raw.seed,
    sampler: raw.sampler,
    runVersion: raw["run-version"],
    history: raw.history,
    sweepId: raw["sweep-id"],
    wave: raw.wave,
    historyFromArtifacts: raw["history-from-artifacts"],
    planned: raw.planned,
    maxWaves: raw["max-waves"],
  });
}

/** The inputs of `mode: trial`. */
function readTrialInputs(action: string): TrialSettings {
  const raw = input.readInputs(trialSchema, action);
  return Object.freeze({
    ...input.trialStepSettings(raw, sweepDefaults.config),
    secretEnv: Object.freeze(raw["secret-env"]),
    checkpointDir: raw["checkpoint-dir"],
  });
}
