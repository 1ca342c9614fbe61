/**
 * A trial whose training ran outside tunix-rt: the user's own workflow steps trained and
 * left predictions.jsonl (or eval_rows.jsonl) in a folder. This grades that folder as a
 * trial run by tunix-rt would be graded and writes the same `trial.json`, so aggregate
 * cannot tell the two apart.
 */
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SweepConfig } from "../core/config/config.js";
import { InputError } from "../core/errors.js";
import { plannedRecord } from "../core/search/trial-record.js";
import type { PlannedTrial } from "../core/types.js";
import { type Clock, isoTime, systemClock } from "./clock.js";
import { describeFsError, writeJsonAtomic } from "./files.js";
import { trialSource } from "./provenance.js";
import type { TrialJson } from "./trial.js";
import { gradeTrialOutput } from "./trial-grade.js";

/** How the user's training step ended, as a workflow's `steps.<id>.outcome` says it. */
export type StepOutcomeName = "success" | "failure" | "cancelled" | "skipped";

/** What `recordExternalTrial` needs. */
export interface ExternalTrialOptions {
  config: SweepConfig;
  trial: PlannedTrial;
  /** The folder the user's steps wrote (relative to cwd, or absolute); trial.json lands here. */
  trialDir: string;
  /** Repository root: relative paths (the folder, the evalset) resolve against it. */
  cwd: string;
  /** How the training step ended; anything but success fails the trial without grading. */
  outcome: StepOutcomeName;
  /** Names the runner in the record (`RUNNER_NAME`). */
  env: NodeJS.ProcessEnv;
  clock?: Clock;
}

/**
 * Grades an externally trained trial's folder and writes its `trial.json` (atomically).
 * Throws an InputError (exit 2) when the folder is missing or is not a folder, or when the
 * evalset cannot be read; every fault of the trial itself goes into the record.
 */
export async function recordExternalTrial(options: ExternalTrialOptions): Promise<TrialJson> {
  const { config, trial, cwd, outcome } = options;
  const dir = path.resolve(cwd, options.trialDir);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error("not a folder");
  } catch (error) {
    throw new InputError(
      `${options.trialDir}: cannot read the trial folder: ${describeFsError(error)}; expected the folder your training step wrote`,
    );
  }
  // The job's checkout as it is when the folder is graded (the folder itself left out): the
  // training steps ran from it, and whatever else they wrote into it shows as a change.
  const source = await trialSource(cwd, dir);
  const now = isoTime((options.clock ?? systemClock).now());
  const base: TrialJson = {
    ...plannedRecord(trial),
    exit_code: null,
    signal: null,
    // The training ran in steps tunix-rt did not time; the record says when it was graded.
    started_at: now,
    finished_at: now,
    duration_s: null,
    error: null,
    command: [],
    runner: options.env.RUNNER_NAME || os.hostname(),
    commit_sha: source.commit_sha,
    worktree: source.worktree,
  };
  let record: TrialJson;
  if (outcome !== "success") {
    record = {
      ...base,
      status: "failed",
      error: `the training step's outcome was ${outcome}; its folder was not graded`,
    };
  } else {
    const graded = await gradeTrialOutput({
      outDir: dir,
      evalset: config.evalset ? path.resolve(cwd, config.evalset) : undefined,
      evalsetShown: config.evalset,
    });
    record = { ...base, ...graded.fields, status: graded.status, error: graded.error };
  }
  try {
    await writeJsonAtomic(path.join(dir, "trial.json"), record);
  } catch (error) {
    throw new InputError(`${options.trialDir}: cannot write trial.json: ${describeFsError(error)}`);
  }
  return record;
}
