/**
 * The score action's input boundary: the only place that reads its inputs. Modes: `trial`
 * (grade a folder that the user's own steps trained into), `aggregate` (every trial of the
 * sweep: leaderboard, evidence, verify, the pull request) and `publish` (the pull request of
 * evidence an aggregate with `attest` left for signing, with its signature).
 */
import { z } from "zod";
import { samplerNames } from "../../core/config/sampler-names.js";
import { InputError } from "../../core/errors.js";
import * as input from "../shared/input-values.js";

/** Literal defaults, the same as actions/score/action.yml declares (a test compares them). */
export const scoreDefaults = {
  config: "training/sweep.yaml",
  outcome: "success",
  upload: "true",
  download: "true",
  "create-pr": "true",
  "check-name": "tunix-rt / verify-evidence",
  profile: "default",
  attest: "false",
} as const;

/** How the user's training step ended. */
export const stepOutcomes = ["success", "failure", "cancelled", "skipped"] as const;

/** Settings of `mode: trial`. */
export interface ScoreTrialSettings {
  mode: "trial";
  /** The sweep config, relative to the workspace (its evalset grades the predictions). */
  config: string;
  /** The matrix entry, parsed JSON (checked against the config later). */
  trial: unknown;
  /** The folder the user's steps wrote predictions.jsonl (or eval_rows.jsonl) into. */
  trialDir: string;
  /** The training step's outcome (`steps.<id>.outcome`); anything but success fails the trial. */
  outcome: (typeof stepOutcomes)[number];
  /** Upload the folder as the artifact `tunix-rt-trial-<sweep>-<trial>`. */
  upload: boolean;
  /** Days the artifact is kept; default the repository's setting. */
  retentionDays: number | undefined;
}

/** Settings of `mode: aggregate`. */
export interface AggregateSettings {
  mode: "aggregate";
  /** The sweep config, relative to the workspace. */
  config: string;
  /** The sweep whose trials count (the plan's `sweep-id` output). */
  sweepId: string;
  /** The plan's matrix (`{include: [...]}`): a planned trial without a record counts as failed. */
  matrix: unknown;
  /** The plan's run_version when it overrode the config's. */
  runVersion: string | undefined;
  /** The plan's seed and sampler, recorded as provenance; default the config's. */
  seed: number | undefined;
  sampler: (typeof samplerNames)[number] | undefined;
  /** Where the trial artifacts are downloaded to (or found, without download); default `runs/<sweep-id>`. */
  trialsDir: string | undefined;
  /** Download this run's trial artifacts first. */
  download: boolean;
  /** The evidence folder; default `submission_runs/<run_version>`. */
  runDir: string | undefined;
  /** Where the best trial's params are promoted; default `training/configs/<run_version>_best.yaml`. */
  bestConfig: string | undefined;
  /** Token for the artifact listing and the pull request (never logged). */
  token: string;
  /** Open or update the evidence pull request. */
  createPr: boolean;
  /** The branch the pull request targets; default the branch the workflow ran on. */
  base: string | undefined;
  /** Name of the check run that reports verify on the pull request's head. */
  checkName: string;
  /** Verification profile of the evidence. */
  profile: "default" | "kaggle";
  /**
   * Leave the evidence to be signed: write the checksums of its files (output `subjects`)
   * for actions/attest-build-provenance, and no pull request; `mode: publish` opens it.
   */
  attest: boolean;
}

/** Settings of `mode: publish`: what `publish` (in aggregate.ts) needs besides the aggregate's hand-off. */
export interface PublishSettings {
  mode: "publish";
  /** The evidence folder the aggregate wrote (its `run-dir` output). */
  runDir: string;
  /** The Sigstore bundle of the evidence (actions/attest-build-provenance's `bundle-path`). */
  attestation: string | undefined;
  token: string;
  createPr: boolean;
  base: string | undefined;
  checkName: string;
  profile: "default" | "kaggle";
}

/** What the score action was asked to do. */
export type ScoreSettings = ScoreTrialSettings | AggregateSettings | PublishSettings;

const trialSchema = z.object({
  ...input.matrixEntryInputs,
  "trial-dir": input.requiredText,
  outcome: input.oneOf(stepOutcomes, "success"),
  ...input.trialArtifactInputs,
});

const aggregateSchema = z.object({
  config: input.optionalText,
  "sweep-id": input.requiredText,
  matrix: input.optionalJson,
  "run-version": input.optionalText,
  seed: input.wholeNumber({ min: 0, max: 0xffffffff }),
  sampler: input.oneOf(samplerNames),
  "trials-dir": input.optionalText,
  download: input.flag(true),
  "run-dir": input.optionalText,
  "best-config": input.optionalText,
  token: input.optionalText,
  "create-pr": input.flag(true),
  base: input.optionalText,
  "check-name": input.optionalText,
  profile: input.oneOf(["default", "kaggle"], "default"),
  attest: input.flag(false),
});

const publishSchema = z.object({
  "run-dir": input.requiredText,
  attestation: input.optionalText,
  token: input.optionalText,
  "create-pr": input.flag(true),
  base: input.optionalText,
  "check-name": input.optionalText,
  profile: input.oneOf(["default", "kaggle"], "default"),
});

/**
 * Reads the score action's inputs. `mode` comes from the `mode` input, or from the caller
 * (the umbrella action, whose `command` input already chose it).
 */
export const readScoreInputs = input.readByMode<ScoreSettings>("tunix-rt/score", {
  trial: readTrialInputs,
  aggregate: readAggregateInputs,
  publish: readPublishInputs,
});

/** The inputs of `mode: trial`. */
function readTrialInputs(action: string): ScoreTrialSettings {
  const raw = input.readInputs(trialSchema, action);
  return Object.freeze({
    ...input.trialStepSettings(raw, scoreDefaults.config),
    outcome: raw.outcome ?? "success",
  });
}

/** The inputs of `mode: aggregate`. */
function readAggregateInputs(action: string): AggregateSettings {
  const raw = input.readInputs(aggregateSchema, action);
  const token = tokenFor(raw, action, !raw.attest);
  return Object.freeze({
    mode: "aggregate",
    config: raw.config ?? scoreDefaults.config,
    sweepId: raw["sweep-id"],
    matrix: raw.matrix,
    runVersion: raw["run-version"],
    seed: raw.seed,
    sampler: raw.sampler,
    trialsDir: raw["trials-dir"],
    download: raw.download,
    runDir: raw["run-dir"],
    bestConfig: raw["best-config"],
    token,
    createPr: raw["create-pr"],
    base: raw.base,
    checkName: raw["check-name"] ?? scoreDefaults["check-name"],
    profile: raw.profile ?? "default",
    attest: raw.attest,
  });
}

/** The inputs of `mode: publish`. */
function readPublishInputs(action: string): PublishSettings {
  const raw = input.readInputs(publishSchema, action);
  return Object.freeze({
    mode: "publish",
    runDir: raw["run-dir"],
    attestation: raw.attestation,
    token: tokenFor(raw, action, true),
    createPr: raw["create-pr"],
    base: raw.base,
    checkName: raw["check-name"] ?? scoreDefaults["check-name"],
    profile: raw.profile ?? "default",
  });
}

/** The token, required when this step opens the pull request. */
function tokenFor(
  raw: { token?: string | undefined; "create-pr": boolean },
  action: string,
  opens: boolean,
): string {
  const token = raw.token ?? "";
  if (token === "" && raw["create-pr"] && opens) {
    throw new InputError(
      `${action}: with.token: missing; opening the pull request needs a token (the default is \${{ github.token }})`,
    );
  }
  return token;
}
