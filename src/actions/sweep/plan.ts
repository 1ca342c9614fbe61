/**
 * `mode: plan`: what `tunix-rt plan` does, with the plan going to step outputs (the matrix a
 * later job fans out over) and to the job summary, instead of stdout.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import * as core from "@actions/core";
import type { SweepConfig } from "../../core/config/config.js";
import { InputError, messageOf, quote } from "../../core/errors.js";
import { markdownText } from "../../core/escape.js";
import { earlyStop } from "../../core/evidence/aggregate.js";
import { secretValuesOf } from "../../core/redact.js";
import {
  matrixLimitProblem,
  type PlannedRungTrial,
  scheduledWaves,
  wavesNeeded,
} from "../../core/search/fidelity.js";
import { githubMatrixLimit, hasRepeats, planReevaluation, planTrials } from "../../core/search/plan.js";
import type { TrialRecord } from "../../core/types.js";
import {
  type ArtifactClientLike,
  completedEarlier,
  downloadArtifactTo,
  downloadSweepArtifacts,
  findArtifact,
  readArtifactFile,
  runnerArtifactClient,
  type TrialIdentity,
  trialArtifactName,
  uploadFolderArtifact,
  waveArtifactName,
} from "../../github/artifacts.js";
import { planSummary } from "../../github/summary.js";
import { readTrialRecords } from "../../runtime/aggregate.js";
import { loadConfig } from "../../runtime/config-file.js";
import { writeFileAtomic } from "../../runtime/files.js";
import { readHistory } from "../../runtime/history.js";
import type { RunContext } from "../shared/context.js";
import { parsePlannedList, withRunVersion } from "../shared/plan-inputs.js";
import { logInfo, type StepOutcome, writeSummary } from "../shared/step.js";
import type { PlanSettings } from "./inputs.js";
import { mergePlanned, parseHistory, plainWaveCount, waveFiles, waveHistory } from "./waves.js";

const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

// Minutes a trial job needs beyond the trainer's own timeout: checkout, setup, grading, upload.
const jobOverheadMinutes = 30;

/**
 * Plans a sweep; outputs the matrix, its size, max-parallel and what the later jobs need.
 * A wave of a workflow (`wave` set) keeps what it planned as the artifact
 * `tunix-rt-wave-<sweep_id>-<wave>`: the next wave plans from it and that wave's trial
 * artifacts alone (each artifact downloaded once), and a re-run of this job ("Re-run failed
 * jobs" re-runs the later waves' plans too) gives the same trials instead of planning anew.
 * `artifacts` is the artifact client (default the runner's).
 */
export async function planStep(
  settings: PlanSettings,
  context: RunContext,
  artifacts?: ArtifactClientLike,
): Promise<StepOutcome> {
  const sweepId = settings.sweepId ?? randomUUID();
  if (!uuidPattern.test(sweepId)) {
    throw new InputError(
      `with.sweep-id: got ${quote(sweepId)}; expected a UUID such as 123e4567-e89b-12d3-a456-426614174000`,
    );
  }
  const wave = settings.wave;
  const client =
    wave === undefined ? undefined : (artifacts ?? (await runnerArtifactClient(context.serverUrl)));
  if (client && wave !== undefined && settings.sweepId !== undefined) {
    const earlier = await earlierAttemptOf(client, sweepId, wave, context);
    if (earlier) return earlier;
  }
  const loaded = await loadConfig(settings.config, { cwd: context.workspace });
  const config = workflowSchedule(withRunVersion(loaded.config, settings.runVersion), settings);
  const earlier = plannedBefore(settings.planned, config);
  const fromFile =
    settings.history === undefined ? [] : await readHistory(settings.history, { cwd: context.workspace });
  const fromRun =
    settings.historyFromArtifacts && client && wave !== undefined
      ? await historyFromArtifacts(client, { sweepId, wave, planned: earlier, workspace: context.workspace })
      : earlier.length > 0
        ? waveHistory([], earlier, sweepId)
        : [];
  // A --history file may hold other sweeps' trials (a warm start): they are kept as given.
  const ids = new Set(fromRun.map((r) => r.trial_id));
  const history = [...fromRun, ...fromFile.filter((r) => !ids.has(r.trial_id))];

  const needed = wavesNeeded(config);
  if (wave === 1 && settings.maxWaves !== undefined && needed > settings.maxWaves) {
    throw new InputError(
      `${settings.config}: the schedule takes up to ${needed} waves (waves ${scheduledWaves(config)}${config.fidelity ? " for rung 0, then one per further rung" : ""}${config.reevaluate ? ", then one to re-evaluate" : ""}); this workflow has ${settings.maxWaves} wave jobs: write it for this config again (npx tunix-rt init --upgrade), or lower waves or num_samples, or fidelity's rungs`,
    );
  }
  // Before any GPU time: every wave of the schedule must fit one matrix, not only this one.
  const overLimit = wave === 1 ? matrixLimitProblem(config, githubMatrixLimit) : undefined;
  if (overLimit) throw new InputError(`${settings.config}: ${overLimit}`);
  let count = settings.count;
  if (wave !== undefined) {
    // Trials planned before this wave: the earlier plans', or (their output lost) the records'.
    const before = Math.max(earlier.length, fromRun.length);
    count = config.fidelity ? undefined : plainWaveCount(config, wave, before);
  }
  // On GitHub a trial job prunes itself against the curves of the earlier waves' trials, which
  // this wave's artifact carries; the trials of its own wave train at the same time, unseen.
  // Said once per sweep, so no one reads a GitHub sweep as pruned the way a local one is.
  if (config.pruning && wave === undefined)
    core.warning(
      `${settings.config}: pruning: a plan without waves leaves its trial jobs no earlier curves to judge against, so none is pruned (plan in waves, as tunix-rt init's workflow does, or run a local tunix-rt sweep)`,
    );
  else if (config.pruning && wave === 1)
    core.notice(
      `${settings.config}: pruning on GitHub: each trial job judges its metrics.jsonl against the curves of the earlier waves' trials; wave 1's trials run to their end, and no trial sees the trials of its own wave (they train at the same time on other runners). A local tunix-rt sweep judges every trial against all the others.`,
    );
  // The failure budget of a config without max_failed_trials: when the earlier waves' trials
  // all failed, none is planned (no more GPU time for a trainer that fails every trial).
  const stoppedEarly = wave !== undefined && wave > 1 ? earlyStop(config, fromRun) : undefined;
  if (stoppedEarly) {
    count = 0;
    core.warning(
      `${settings.config}: stopped early: ${stoppedEarly}; no more trials are planned. Fix the trainer, or set early_stop_failures: 0 in the config to run every trial whatever fails`,
    );
  }
  let plan = planTrials({
    config,
    sweepId,
    seed: settings.seed,
    count,
    sampler: settings.sampler,
    runVersion: settings.runVersion,
    history,
    matrixLimit: githubMatrixLimit,
    ...(wave === undefined ? {} : { wave }),
  });
  // The search is through once a wave is short or empty, or the schedule is through.
  const searchDone =
    plan.trials.length === 0 ||
    (!config.fidelity &&
      (wave === undefined || wave >= scheduledWaves(config) || plan.trials.length < (count ?? 0)));
  // Then, with `reevaluate`, one more wave runs the best configurations again.
  const reevaluating =
    !stoppedEarly && wave !== undefined && config.reevaluate !== undefined && plan.trials.length === 0;
  if (reevaluating) {
    plan = planReevaluation({
      config,
      sweepId,
      seed: settings.seed,
      runVersion: settings.runVersion,
      history,
      wave,
    });
  }
  const planned = mergePlanned(earlier, plan.trials);
  const reevaluationLeft = config.reevaluate !== undefined && !reevaluating && !hasRepeats(history);
  const done =
    wave === undefined ||
    stoppedEarly !== undefined ||
    reevaluating ||
    (searchDone && !reevaluationLeft) ||
    (settings.maxWaves !== undefined && wave >= settings.maxWaves);
  const maxParallel = config.max_concurrent_trials;
  const timeoutMinutes = Math.ceil(config.trainer?.timeout_minutes ?? 120) + jobOverheadMinutes;
  for (const note of loaded.notes) core.notice(`${settings.config}: ${note}`);
  const waveLine =
    wave === undefined
      ? ""
      : `### Wave ${wave} of at most ${needed}${plan.fidelity ? ` (${plan.fidelity.note})` : reevaluating ? (plan.trials.length ? ` (re-evaluation: the ${config.reevaluate?.top_k} best configurations run ${config.reevaluate?.repeats} more times each)` : " (re-evaluation: no configuration runs again; the model finds the scores free of noise, or nothing was scored)") : ""}\n\nPlanned from ${history.length} earlier trial record${history.length === 1 ? "" : "s"}.\n\n`;
  const stopLine = stoppedEarly
    ? `**Stopped early**: ${markdownText(stoppedEarly)}; no more trials are planned. Fix the trainer, or set \`early_stop_failures: 0\` in the config to run every trial whatever fails.\n\n`
    : "";
  await writeSummary(
    `${waveLine}${stopLine}${planSummary(plan, config, { secrets: secretValuesOf(context.env) })}`,
  );
  const outputs = {
    matrix: JSON.stringify(plan.matrix),
    "sweep-id": plan.sweep_id,
    "max-parallel": String(maxParallel),
    count: String(plan.trials.length),
    "run-version": plan.run_version,
    seed: String(plan.seed),
    sampler: plan.sampler,
    "timeout-minutes": String(timeoutMinutes),
    planned: JSON.stringify({ include: planned }),
    wave: wave === undefined ? "" : String(wave),
    waves: String(needed),
    done: String(done),
    rung: plan.fidelity?.rung == null ? "" : String(plan.fidelity.rung),
    budget: plan.fidelity?.budget == null ? "" : String(plan.fidelity.budget),
  };
  if (client && wave !== undefined) {
    await saveWave(client, {
      sweepId: plan.sweep_id,
      wave,
      history: fromRun,
      trialIds: plan.trials.map((t) => t.trial_id),
      outputs,
      workspace: context.workspace,
    });
  }
  return { outputs };
}

/**
 * The config as a workflow's waves plan it. In waves, num-samples is the whole sweep's size
 * and each wave plans its share. Without a `waves` key the schedule takes one wave per round
 * of the runners (`scheduledWaves`); a workflow with fewer wave jobs than that (num-samples
 * raised at dispatch) gets that many larger waves instead of a failed first plan. A config
 * that sets `waves` keeps it, and wave 1 says when the workflow is too short for it.
 */
function workflowSchedule(config: SweepConfig, settings: PlanSettings): SweepConfig {
  if (settings.wave === undefined) return config;
  const sized = settings.count === undefined ? config : { ...config, num_samples: settings.count };
  if (settings.maxWaves === undefined || sized.waves !== undefined || sized.fidelity) return sized;
  const after = wavesNeeded(sized) - scheduledWaves(sized);
  const room = Math.max(1, settings.maxWaves - after);
  return scheduledWaves(sized) > room ? { ...sized, waves: room } : sized;
}

/** The earlier waves' planned trials from the `planned` input (`{include: [...]}` or a list). */
function plannedBefore(value: unknown, config: SweepConfig): PlannedRungTrial[] {
  if (value === undefined) return [];
  const expected = "the previous plan's planned output";
  return parsePlannedList(value, config, {
    input: "planned",
    expected,
    bareList: true,
  }) as PlannedRungTrial[];
}

/**
 * This wave as an earlier attempt of this run planned it (its artifact is there): the same
 * outputs, so a re-run runs the very trials that attempt planned, with the same ids, and no
 * planned trial drops out of the evidence. Undefined when no earlier attempt planned it.
 */
async function earlierAttemptOf(
  client: ArtifactClientLike,
  sweepId: string,
  wave: number,
  context: RunContext,
): Promise<StepOutcome | undefined> {
  // One listing: the wave's artifact and its trials' come from it.
  const { artifacts } = await client.listArtifacts({ latest: true });
  const byName = new Map(artifacts.map((a) => [a.name, a] as const));
  const artifact = byName.get(waveArtifactName(sweepId, wave));
  if (!artifact) return undefined;
  const dir = path.resolve(context.workspace, "runs", sweepId, `.wave-${wave}`);
  await downloadArtifactTo(client, artifact, dir);
  const text = await readArtifactFile(dir, waveFiles.outputs);
  const outputs = text === undefined ? undefined : (JSON.parse(text) as Record<string, string>);
  if (!outputs || outputs["sweep-id"] !== sweepId) {
    core.warning(`${artifact.name}: holds no plan of this sweep; planning wave ${wave} anew`);
    return undefined;
  }
  // The trials an earlier attempt completed leave the matrix: no runner, no setup, no GPU
  // time for them. The planned list (the evidence's) keeps every trial.
  const matrix = JSON.parse(outputs.matrix ?? '{"include":[]}') as { include: TrialIdentity[] };
  const left: TrialIdentity[] = [];
  for (const trial of matrix.include) {
    const earlier = byName.get(trialArtifactName(sweepId, trial.trial_id));
    const into = path.join(dir, "..", `.${trial.trial_id}-earlier-attempt`);
    if (!earlier || !(await completedEarlier(client, earlier, trial, into))) left.push(trial);
  }
  const done = matrix.include.length - left.length;
  const line = `the same ${outputs.count} trial(s); ${done} completed in an earlier attempt and do not run again, ${left.length} run`;
  core.notice(`wave ${wave}: planned by an earlier attempt of this run: ${line}`);
  await writeSummary(
    `### Wave ${wave}\n\nPlanned by an earlier attempt of this workflow run (artifact \`${artifact.name}\`): ${line}.\n`,
  );
  return {
    outputs: { ...outputs, matrix: JSON.stringify({ ...matrix, include: left }), count: String(left.length) },
  };
}

/**
 * The history wave `wave` is planned from: the records the previous wave planned from (its
 * artifact) and the records of the previous wave's own trials (their artifacts); so each
 * trial artifact is downloaded once over the sweep. Without the previous wave's artifact
 * (its upload failed), every trial artifact of the sweep is downloaded instead. Planned
 * trials that left no record count as failed (`waveHistory`).
 */
async function historyFromArtifacts(
  client: ArtifactClientLike,
  options: { sweepId: string; wave: number; planned: readonly PlannedRungTrial[]; workspace: string },
): Promise<TrialRecord[]> {
  const { sweepId, wave } = options;
  const dir = path.resolve(options.workspace, "runs", sweepId);
  let before: TrialRecord[] = [];
  let trialIds: string[] | undefined;
  const previous = wave > 1 ? await findArtifact(client, waveArtifactName(sweepId, wave - 1)) : undefined;
  if (previous) {
    const waveDir = path.join(dir, `.wave-${wave - 1}`);
    await downloadArtifactTo(client, previous, waveDir);
    before = parseHistory((await readArtifactFile(waveDir, waveFiles.history)) ?? "");
    const ids = JSON.parse((await readArtifactFile(waveDir, waveFiles.trials)) ?? "[]");
    trialIds = Array.isArray(ids) ? ids.map(String) : undefined;
  } else if (wave > 1) {
    logInfo(`wave ${wave - 1} left no artifact of its plan: every trial artifact of the sweep is downloaded`);
  }
  const { downloaded } = await downloadSweepArtifacts(client, {
    sweepId,
    dest: dir,
    ...(trialIds === undefined ? {} : { trialIds }),
  });
  logInfo(
    `history: ${before.length} record(s) from wave ${wave - 1}'s plan, ${downloaded.length} trial artifact(s) of sweep ${sweepId}`,
  );
  const found: TrialRecord[] = [];
  for (const artifact of downloaded) {
    const { found: records, notices } = await readTrialRecords(artifact.dir, options.workspace);
    for (const notice of notices) core.warning(`${notice.file}: ${notice.message}`);
    for (const f of records) found.push(f.record as TrialRecord);
  }
  return waveHistory([...before, ...found], options.planned, sweepId);
}

/**
 * Keeps what this wave planned as its artifact (see `planStep`). A failed upload is a
 * warning, not a failed plan: the next wave then downloads every trial artifact, and a
 * re-run of this job plans anew.
 */
async function saveWave(
  client: ArtifactClientLike,
  options: {
    sweepId: string;
    wave: number;
    history: readonly TrialRecord[];
    trialIds: readonly string[];
    outputs: Record<string, string>;
    workspace: string;
  },
): Promise<void> {
  const name = waveArtifactName(options.sweepId, options.wave);
  const dir = path.resolve(options.workspace, "runs", options.sweepId, `.wave-${options.wave}`);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(
    path.join(dir, waveFiles.history),
    options.history.map((r) => `${JSON.stringify(r)}\n`).join(""),
  );
  await writeFileAtomic(path.join(dir, waveFiles.trials), `${JSON.stringify(options.trialIds)}\n`);
  await writeFileAtomic(path.join(dir, waveFiles.outputs), `${JSON.stringify(options.outputs)}\n`);
  try {
    await uploadFolderArtifact(client, { name, dir, files: Object.values(waveFiles) });
  } catch (error) {
    core.warning(
      `${name}: ${messageOf(error)}; the next wave downloads every trial artifact instead, and a re-run of this job plans wave ${options.wave} anew`,
    );
  }
}
