/**
 * The end of every trial step, whoever trained (tunix-rt's trainer run or the user's own
 * steps): redact the folder, upload it as the trial's artifact (also when the trial failed,
 * so aggregate sees why), write a summary, and only then fail the step when the trial
 * failed. Failing last is what makes "Re-run failed jobs" re-run exactly the failed trials.
 */
import { redactDeep } from "../../core/redact.js";
import { runnerArtifactClient, trialArtifactName, uploadFolderArtifact } from "../../github/artifacts.js";
import { trialSummary } from "../../github/summary.js";
import type { TrialJson } from "../../runtime/trial.js";
import type { RunContext } from "./context.js";
import { repoPath } from "./context.js";
import { type StepOutcome, writeSummary } from "./step.js";
import { redactTrialFolder } from "./trial-files.js";

/** How a finished trial leaves the step. */
export interface TrialFinish {
  record: TrialJson;
  /** The trial's folder (absolute). */
  dir: string;
  /** Upload the folder as the trial's artifact. */
  upload: boolean;
  /** Days GitHub keeps the artifact; default the repository's setting. */
  retentionDays?: number | undefined;
  /** Values to redact from the folder before it is uploaded. */
  secrets: readonly string[];
}

/** Redacts, uploads, summarizes; the outcome fails the step when the trial neither completed nor was pruned. */
export async function finishTrial(finish: TrialFinish, context: RunContext): Promise<StepOutcome> {
  const { dir } = finish;
  // The record's strings (argv, error) reach the summary and the step's outputs: redacted
  // like the folder.
  const record = redactDeep(finish.record, finish.secrets);
  await redactTrialFolder(dir, finish.secrets);
  const name = trialArtifactName(record.sweep_id, record.trial_id);
  if (finish.upload) {
    await uploadFolderArtifact(await runnerArtifactClient(context.serverUrl), {
      name,
      dir,
      ...(finish.retentionDays === undefined ? {} : { retentionDays: finish.retentionDays }),
    });
  }
  await writeSummary(trialSummary(record, finish.upload ? name : null, { secrets: finish.secrets }));
  const score = record.primary_score === null ? "" : String(record.primary_score);
  return {
    outputs: {
      "trial-id": record.trial_id,
      status: record.status,
      "primary-score": score,
      "artifact-name": finish.upload ? name : "",
      "trial-dir": repoPath(context, dir),
    },
    // A pruned trial stopped as planned (its record says why): no failed job to re-run.
    ...(record.status === "completed" || record.status === "pruned"
      ? {}
      : { failure: `trial ${record.trial_id} ${record.status}: ${record.error ?? "no reason recorded"}` }),
  };
}
