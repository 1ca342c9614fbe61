/**
 * `mode: trial`: for users who train in their own workflow steps. Their folder is graded as
 * tunix-rt grades a trial it ran, gets the same trial.json and the same artifact, and the
 * step fails last when the trial failed.
 */
import path from "node:path";
import { parsePlannedTrial } from "../../core/config/trial-input.js";
import { InputError } from "../../core/errors.js";
import { loadConfig } from "../../runtime/config-file.js";
import { recordExternalTrial } from "../../runtime/external-trial.js";
import type { RunContext } from "../shared/context.js";
import type { StepOutcome } from "../shared/step.js";
import { secretsOf } from "../shared/trial-files.js";
import { finishTrial } from "../shared/trial-step.js";
import type { ScoreTrialSettings } from "./inputs.js";

/** Grades the user's trial folder and uploads it as the trial's artifact. */
export async function scoreTrialStep(
  settings: ScoreTrialSettings,
  context: RunContext,
): Promise<StepOutcome> {
  const loaded = await loadConfig(settings.config, { cwd: context.workspace });
  const parsed = parsePlannedTrial(settings.trial, loaded.config, "with.trial");
  if (!parsed.ok) throw InputError.fromProblems(parsed.problems);
  const record = await recordExternalTrial({
    config: loaded.config,
    trial: parsed.trial,
    trialDir: settings.trialDir,
    cwd: context.workspace,
    outcome: settings.outcome,
    env: context.env,
  });
  const dir = path.resolve(context.workspace, settings.trialDir);
  return finishTrial(
    {
      record,
      dir,
      upload: settings.upload,
      retentionDays: settings.retentionDays,
      secrets: secretsOf(context.env, {}),
    },
    context,
  );
}
