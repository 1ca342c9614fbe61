/**
 * The sweep action's input boundary: the only place that reads its inputs. Modes: `plan`
 * (a plan and its matrix) and `trial` (one matrix entry: trainer, grading, artifact).
 */
import * as core from "@actions/core";
import { z } from "zod";
import { samplerNames } from "../../core/samplers/names.js";
import {
  flag,
  oneOf,
  optionalText,
  parseInputs,
  requiredJson,
  requiredOneOf,
  secretEnvLines,
  wholeNumber,
} from "../shared/input-values.js";

/** Literal defaults, the same as actions/sweep/action.yml declares (a test compares them). */
export const sweepDefaults = {
  config: "training/sweep.yaml",
  upload: "true",
} as const;

/** Settings of `mode: plan`. */
export interface PlanSettings {
  mode: "plan";
  /** The sweep config, relative to the workspace. */
  config: string;
  /** How many trials to plan (1..256); default the config's num_samples. */
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
}

/** What the sweep action was asked to do. */
export type SweepSettings = PlanSettings | TrialSettings;

const planSchema = z.object({
  config: optionalText,
  "num-samples": wholeNumber({ min: 1, max: 256 }),
  seed: wholeNumber({ min: 0, max: 0xffffffff }),
  sampler: oneOf(samplerNames),
  "run-version": optionalText,
  history: optionalText,
  "sweep-id": optionalText,
});

const trialSchema = z.object({
  config: optionalText,
  trial: requiredJson(`the matrix entry as JSON (the default is \${{ toJson(matrix) }})`),
  "trial-dir": optionalText,
  upload: flag(true),
  "retention-days": wholeNumber({ min: 1, max: 400 }),
  "secret-env": secretEnvLines,
});

/**
 * Reads the sweep action's inputs. `mode` comes from the `mode` input, or from the caller
 * (the umbrella action, whose `command` input already chose it).
 */
export function readSweepInputs(mode?: "plan" | "trial", action = "tunix-rt/sweep"): SweepSettings {
  const chosen =
    mode ?? parseInputs(z.object({ mode: requiredOneOf(["plan", "trial"]) }), read(["mode"]), action).mode;
  if (chosen === "plan") {
    const raw = parseInputs(planSchema, read(Object.keys(planSchema.shape)), action);
    return Object.freeze({
      mode: "plan",
      config: raw.config ?? sweepDefaults.config,
      count: raw["num-samples"],
      seed: raw.seed,
      sampler: raw.sampler,
      runVersion: raw["run-version"],
      history: raw.history,
      sweepId: raw["sweep-id"],
    });
  }
  const raw = parseInputs(trialSchema, read(Object.keys(trialSchema.shape)), action);
  return Object.freeze({
    mode: "trial",
    config: raw.config ?? sweepDefaults.config,
    trial: raw.trial,
    trialDir: raw["trial-dir"],
    upload: raw.upload,
    retentionDays: raw["retention-days"],
    secretEnv: Object.freeze(raw["secret-env"]),
  });
}

/** The raw strings of some inputs. */
function read(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, core.getInput(name)]));
}
