/**
 * `mode: plan`: what `tunix-rt plan` does, with the plan going to step outputs (the matrix a
 * later job fans out over) and to the job summary, instead of stdout.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import * as core from "@actions/core";
import { type SweepConfig, validateConfig } from "../../core/config.js";
import { InputError, quote } from "../../core/errors.js";
import { type PlannedRungTrial, scheduledWaves } from "../../core/fidelity.js";
import { githubMatrixLimit, planTrials } from "../../core/plan.js";
import { secretValuesOf } from "../../core/redact.js";
import { parsePlannedTrial } from "../../core/trial-input.js";
import type { TrialRecord } from "../../core/types.js";
import { downloadSweepArtifacts } from "../../github/artifacts.js";
import { planSummary } from "../../github/summary.js";
import { loadConfig } from "../../runtime/config-file.js";
import { readHistory } from "../../runtime/history.js";
import { type RunContext, repositoryParts } from "../shared/context.js";
import { type StepOutcome, writeSummary } from "../shared/step.js";
import type { PlanSettings } from "./inputs.js";
import { mergePlanned, plainWaveCount, readWaveHistory, waveHistory, wavesNeeded } from "./waves.js";

const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

// Minutes a trial job needs beyond the trainer's own timeout: checkout, setup, grading, upload.
const jobOverheadMinutes = 30;

/** Plans a sweep; outputs the matrix, its size, max-parallel and what the later jobs need. */
export async function planStep(settings: PlanSettings, context: RunContext): Promise<StepOutcome> {
  const sweepId = settings.sweepId ?? randomUUID();
  if (!uuidPattern.test(sweepId)) {
    throw new InputError(
      `with.sweep-id: got ${quote(sweepId)}; expected a UUID such as 123e4567-e89b-12d3-a456-426614174000`,
    );
  }
  const loaded = await loadConfig(settings.config, { cwd: context.workspace });
  if (settings.runVersion !== undefined) {
    // The same rule as the config's run_version, checked by the same validation.
    const checked = validateConfig(
      { ...loaded.config, run_version: settings.runVersion },
      "with.run-version",
    );
    const problem = checked.ok ? undefined : checked.problems.find((p) => p.path === "run_version");
    if (problem) throw new InputError(`with.run-version: ${problem.message}`);
  }
  const config =
    settings.wave !== undefined && settings.count !== undefined
      ? // In waves, num-samples is the whole sweep's size; each wave plans its share of it.
        { ...loaded.config, num_samples: settings.count }
      : loaded.config;
  const earlier = plannedBefore(settings.planned, config);
  const fromFile =
    settings.history === undefined ? [] : await readHistory(settings.history, { cwd: context.workspace });
  const fromRun = settings.historyFromArtifacts
    ? await historyFromArtifacts(settings, context, sweepId, earlier)
    : earlier.length > 0
      ? waveHistory([], earlier, sweepId)
      : [];
  // A --history file may hold other sweeps' trials (a warm start): they are kept as given.
  const ids = new Set(fromRun.map((r) => r.trial_id));
  const history = [...fromRun, ...fromFile.filter((r) => !ids.has(r.trial_id))];

  const wave = settings.wave;
  const needed = wavesNeeded(config);
  if (wave === 1 && settings.maxWaves !== undefined && needed > settings.maxWaves) {
    throw new InputError(
      `${settings.config}: the schedule takes up to ${needed} waves (waves ${scheduledWaves(config)}${config.fidelity ? " for rung 0, then one per further rung" : ""}); this workflow runs at most ${settings.maxWaves}: lower waves or num_samples, or fidelity's rungs`,
    );
  }
  let count = settings.count;
  if (wave !== undefined) {
    // Trials planned before this wave: the earlier plans', or (their output lost) the records'.
    const before = Math.max(earlier.length, fromRun.length);
    count = config.fidelity ? undefined : plainWaveCount(config, wave, before);
  }
  const plan = planTrials({
    config,
    sweepId,
    seed: settings.seed,
    count,
    sampler: settings.sampler,
    runVersion: settings.runVersion,
    history,
    matrixLimit: githubMatrixLimit,
  });
  const planned = mergePlanned(earlier, plan.trials);
  // No later wave follows once this one is short or empty, or the schedule is through.
  const done =
    wave === undefined ||
    plan.trials.length === 0 ||
    (!config.fidelity && (wave >= scheduledWaves(config) || plan.trials.length < (count ?? 0))) ||
    (settings.maxWaves !== undefined && wave >= settings.maxWaves);
  const maxParallel = config.max_concurrent_trials;
  const timeoutMinutes = Math.ceil(config.trainer?.timeout_minutes ?? 120) + jobOverheadMinutes;
  for (const note of loaded.notes) core.notice(`${settings.config}: ${note}`);
  const waveLine =
    wave === undefined
      ? ""
      : `### Wave ${wave} of at most ${needed}${plan.fidelity ? ` (${plan.fidelity.note})` : ""}\n\nPlanned from ${history.length} earlier trial record${history.length === 1 ? "" : "s"}.\n\n`;
  await writeSummary(`${waveLine}${planSummary(plan, config, { secrets: secretValuesOf(process.env) })}`);
  return {
    outputs: {
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
    },
  };
}

/** The earlier waves' planned trials from the `planned` input (`{include: [...]}` or a list). */
function plannedBefore(value: unknown, config: SweepConfig): PlannedRungTrial[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : (value as { include?: unknown } | null)?.include;
  if (!Array.isArray(list)) {
    throw new InputError(
      `with.planned: got ${quote(value)}; expected the previous plan's planned output, {"include": [...]}`,
    );
  }
  return list.map((entry, k) => {
    const parsed = parsePlannedTrial(entry, config, `with.planned.include[${k}]`);
    if (!parsed.ok) throw InputError.fromProblems(parsed.problems);
    return parsed.trial as PlannedRungTrial;
  });
}

/**
 * Downloads this run's trial artifacts of the sweep (the latest attempt of each) and builds
 * the history from their records and the earlier waves' planned trials.
 */
async function historyFromArtifacts(
  settings: PlanSettings,
  context: RunContext,
  sweepId: string,
  planned: readonly PlannedRungTrial[],
): Promise<TrialRecord[]> {
  const { owner, repo } = repositoryParts(context, "reading the history from the run's artifacts");
  if (context.runId === undefined)
    throw new InputError(
      "reading the history from the run's artifacts needs the run's id: GITHUB_RUN_ID is not set",
    );
  const dir = path.resolve(context.workspace, "runs", sweepId);
  const { DefaultArtifactClient } = await import("@actions/artifact");
  const { downloaded } = await downloadSweepArtifacts(new DefaultArtifactClient(), {
    sweepId,
    dest: dir,
    findBy: {
      token: settings.token,
      workflowRunId: context.runId,
      repositoryOwner: owner,
      repositoryName: repo,
    },
  });
  core.info(
    `history: ${downloaded.length} trial artifact${downloaded.length === 1 ? "" : "s"} of sweep ${sweepId} in this run`,
  );
  const { history, notices } = await readWaveHistory(dir, { cwd: context.workspace, sweepId, planned });
  for (const notice of notices) core.warning(`${notice.file}: ${notice.message}`);
  return history;
}
