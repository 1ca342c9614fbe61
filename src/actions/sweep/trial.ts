/**
 * `mode: trial`: what `tunix-rt trial` does for one matrix entry (trainer, grading,
 * trial.json), then the trial's artifact; the step fails last when the trial failed.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import * as core from "@actions/core";
import { InputError } from "../../core/errors.js";
import { redact } from "../../core/redact.js";
import { parsePlannedTrial } from "../../core/trial-input.js";
import { loadConfig } from "../../runtime/config-file.js";
import { runTrial } from "../../runtime/trial.js";
import type { RunContext } from "../shared/context.js";
import type { StepOutcome } from "../shared/step.js";
import { maskableLines, secretsOf, trainerEnvironment } from "../shared/trial-files.js";
import { finishTrial } from "../shared/trial-step.js";
import type { TrialSettings } from "./inputs.js";

/** Runs one trial of the matrix on this runner. */
export async function trialStep(settings: TrialSettings, context: RunContext): Promise<StepOutcome> {
  const loaded = await loadConfig(settings.config, { cwd: context.workspace, needs: { trainer: true } });
  const parsed = parsePlannedTrial(settings.trial, loaded.config, "with.trial");
  if (!parsed.ok) throw InputError.fromProblems(parsed.problems);
  const trial = parsed.trial;

  const env = trainerEnvironment(process.env, settings.secretEnv);
  const secrets = secretsOf(process.env, settings.secretEnv);
  for (const line of maskableLines(secrets)) core.setSecret(line);

  const dir = path.resolve(
    context.workspace,
    settings.trialDir ?? path.join("runs", trial.sweep_id, trial.trial_id),
  );
  // The runner sends SIGINT, then SIGTERM, when the job is cancelled: stop the trainer's
  // process group and record the trial as interrupted instead of dying with it.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // The trainer's output is the user's program talking: the runner must not read workflow
  // commands (`::set-output`, `::add-mask`) in it, so command processing is off meanwhile.
  const resume = randomUUID();
  core.startGroup(`trainer output: ${trial.trial_id}`);
  process.stdout.write(`::stop-commands::${resume}\n`);
  let record: Awaited<ReturnType<typeof runTrial>>;
  try {
    record = await runTrial({
      config: loaded.config,
      trial,
      outDir: dir,
      cwd: context.workspace,
      env,
      signal: stop.signal,
      echo: (chunk) => process.stdout.write(redact(chunk.toString("utf8"), secrets)),
    });
  } finally {
    process.stdout.write(`\n::${resume}::\n`);
    core.endGroup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (stop.signal.aborted) {
    // The job is being cancelled: the runner kills this process shortly, so no upload.
    return {
      outputs: { "trial-id": trial.trial_id, status: record.status },
      failure: `trial ${trial.trial_id} was interrupted`,
    };
  }
  return finishTrial(
    { record, dir, upload: settings.upload, retentionDays: settings.retentionDays, secrets },
    context,
  );
}
