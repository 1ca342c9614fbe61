/**
 * `mode: trial`: what `tunix-rt trial` does for one matrix entry (trainer, grading,
 * trial.json), then the trial's artifact; the step fails last when the trial failed.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import * as core from "@actions/core";
import type { SweepConfig } from "../../core/config/config.js";
import { parsePlannedTrial } from "../../core/config/trial-input.js";
import { InputError, messageOf } from "../../core/errors.js";
import type { PlannedRungTrial } from "../../core/search/fidelity.js";
import {
  artifactServiceProblem,
  assertArtifactService,
  completedEarlier,
  downloadArtifactTo,
  findArtifact,
  readArtifactFile,
  runnerArtifactClient,
  trialArtifactName,
  waveArtifactName,
} from "../../github/artifacts.js";
import { loadConfig } from "../../runtime/config-file.js";
import { CurveBoard, pruneIntervalFrom } from "../../runtime/pruner.js";
import { runTrial, type TrialJson } from "../../runtime/trial.js";
import type { RunContext } from "../shared/context.js";
import type { StepOutcome } from "../shared/step.js";
import { logInfo } from "../shared/step.js";
import { maskableLines, secretsOf, trainerEnvironment } from "../shared/trial-files.js";
import { finishTrial } from "../shared/trial-step.js";
import type { TrialSettings } from "./inputs.js";
import { parseHistory, waveFiles } from "./waves.js";

/** Runs one trial of the matrix on this runner. */
export async function trialStep(settings: TrialSettings, context: RunContext): Promise<StepOutcome> {
  const loaded = await loadConfig(settings.config, { cwd: context.workspace, needs: { trainer: true } });
  const parsed = parsePlannedTrial(settings.trial, loaded.config, "with.trial");
  if (!parsed.ok) throw InputError.fromProblems(parsed.problems);
  const trial: PlannedRungTrial = parsed.trial;

  // Its record leaves the job as an artifact: where that cannot be, fail before training.
  if (settings.upload) assertArtifactService(context.serverUrl);
  const env = trainerEnvironment(context.env, settings.secretEnv);
  const secrets = secretsOf(context.env, settings.secretEnv);
  for (const line of maskableLines(secrets)) core.setSecret(line);

  // With shared storage the trial's folder (the trainer's checkpoints) lives there, where a
  // promotion one rung up, on whichever runner it lands, can resume from it.
  const shared = settings.checkpointDir
    ? path.resolve(context.workspace, settings.checkpointDir, trial.sweep_id)
    : undefined;
  const dir = path.resolve(
    context.workspace,
    settings.trialDir ??
      (shared ? path.join(shared, trial.trial_id) : path.join("runs", trial.sweep_id, trial.trial_id)),
  );
  // A re-run of the run re-runs later waves' trial jobs too: one that completed in an
  // earlier attempt is not trained again.
  if (settings.upload && context.runAttempt > 1) {
    const earlier = await earlierAttemptOf(trial, dir, context);
    if (earlier) return earlier;
  }
  const resumeFrom = await resumeFolder(loaded.config, trial, shared);
  const board = loaded.config.pruning ? await earlierCurves(trial, context) : undefined;
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
      ...(resumeFrom === undefined ? {} : { resumeFrom }),
      ...(board === undefined ? {} : { board }),
      pruneIntervalMs: pruneIntervalFrom(context.env),
      secrets,
      echoLines: (line) => process.stdout.write(`${line}\n`),
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

/**
 * The trial as an earlier attempt of this run completed it: its artifact holds a completed
 * record of this very trial (same sweep, id, params). Its files are downloaded into `dir`,
 * and the step ends as that attempt's did, without training again. Undefined otherwise (no
 * artifact, or a trial that did not complete: it trains again and its upload replaces it).
 */
async function earlierAttemptOf(
  trial: PlannedRungTrial,
  dir: string,
  context: RunContext,
): Promise<StepOutcome | undefined> {
  const client = await runnerArtifactClient(context.serverUrl);
  const name = trialArtifactName(trial.sweep_id, trial.trial_id);
  const artifact = await findArtifact(client, name);
  if (!artifact) return undefined;
  const from = path.join(dir, "..", `.${trial.trial_id}-earlier-attempt`);
  const record = await completedEarlier<TrialJson>(client, artifact, trial, from);
  if (!record) return undefined;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(from, dir);
  core.notice(
    `trial ${trial.trial_id}: completed in an earlier attempt of this run (artifact ${name}); not trained again`,
  );
  const outcome = await finishTrial({ record, dir, upload: false, secrets: [] }, context);
  return { ...outcome, outputs: { ...outcome.outputs, "artifact-name": name } };
}

/**
 * The folder a promoted trial resumes from (`TUNIX_RT_RESUME_FROM`): its parent's under the
 * shared checkpoint folder, when fidelity.resume is on and that folder exists. Without
 * shared storage a trial job's runner cannot see its parent's folder (another machine), so
 * the trainer is told nothing and starts over at the promoted budget.
 */
async function resumeFolder(
  config: SweepConfig,
  trial: PlannedRungTrial,
  shared: string | undefined,
): Promise<string | undefined> {
  if (!config.fidelity?.resume || typeof trial.parent !== "string") return undefined;
  if (shared === undefined) {
    logInfo(
      `trial ${trial.trial_id}: no checkpoint-dir, so the trainer starts over instead of resuming from ${trial.parent}`,
    );
    return undefined;
  }
  const folder = path.join(shared, trial.parent);
  const found = await stat(folder).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!found) {
    core.warning(
      `trial ${trial.trial_id}: its parent's folder ${folder} does not exist; the trainer starts over`,
    );
    return undefined;
  }
  return folder;
}

/**
 * The curves a trial job prunes itself against (config `pruning`): those of the earlier
 * waves' trials, from this wave's plan artifact, whose history.jsonl holds every earlier
 * trial's record with its curve. The trials of its own wave train at the same time on other
 * runners, and it cannot see them; wave 1's trials have nothing to judge against and run to
 * their end. Whatever keeps the curves away (no wave, no artifact service, no artifact) is
 * said, and the trial runs unpruned: pruning saves GPU time, it never fails a trial.
 */
async function earlierCurves(trial: PlannedRungTrial, context: RunContext): Promise<CurveBoard> {
  const empty = new CurveBoard();
  const id = trial.trial_id;
  const wave = trial.wave;
  if (wave === undefined || wave <= 1) {
    logInfo(
      `trial ${id}: pruning: ${wave === undefined ? "a trial planned without waves" : "a trial of wave 1"} has no earlier wave's curves to be judged against; it runs to its end`,
    );
    return empty;
  }
  const name = waveArtifactName(trial.sweep_id, wave);
  const problem = artifactServiceProblem(context.serverUrl);
  if (problem) {
    core.warning(
      `trial ${id}: pruning: ${problem}; the earlier waves' curves cannot be read, so it is not pruned`,
    );
    return empty;
  }
  // A folder of the trial's own: a runner's jobs may share one workspace.
  const dir = path.resolve(context.workspace, "runs", trial.sweep_id, `.${id}-wave-${wave}`);
  let text: string;
  try {
    const client = await runnerArtifactClient(context.serverUrl);
    const artifact = await findArtifact(client, name);
    if (!artifact) {
      core.warning(
        `trial ${id}: pruning: this run has no artifact ${name} (wave ${wave}'s plan keeps the earlier waves' curves there); it is not pruned`,
      );
      return empty;
    }
    await downloadArtifactTo(client, artifact, dir);
    text = (await readArtifactFile(dir, waveFiles.history)) ?? "";
  } catch (error) {
    core.warning(`trial ${id}: pruning: ${messageOf(error)}; it is not pruned`);
    return empty;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const records = parseHistory(text).filter((r) => r.sweep_id === trial.sweep_id && r.trial_id !== id);
  const board = CurveBoard.of(records);
  logInfo(
    `trial ${id}: pruning: judged against the curves of ${board.size} trial(s) of waves before ${wave} (artifact ${name}); the trials of wave ${wave} train beside it unseen`,
  );
  return board;
}
