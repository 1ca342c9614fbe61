/**
 * `mode: plan`: what `tunix-rt plan` does, with the plan going to step outputs (the matrix a
 * later job fans out over) and to the job summary, instead of stdout.
 */
import { randomUUID } from "node:crypto";
import * as core from "@actions/core";
import { validateConfig } from "../../core/config.js";
import { InputError, quote } from "../../core/errors.js";
import { githubMatrixLimit, planTrials } from "../../core/plan.js";
import { secretValuesOf } from "../../core/redact.js";
import { planSummary } from "../../github/summary.js";
import { loadConfig } from "../../runtime/config-file.js";
import { readHistory } from "../../runtime/history.js";
import type { RunContext } from "../shared/context.js";
import { type StepOutcome, writeSummary } from "../shared/step.js";
import type { PlanSettings } from "./inputs.js";

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
  const history =
    settings.history === undefined ? [] : await readHistory(settings.history, { cwd: context.workspace });
  const plan = planTrials({
    config: loaded.config,
    sweepId,
    seed: settings.seed,
    count: settings.count,
    sampler: settings.sampler,
    runVersion: settings.runVersion,
    history,
    matrixLimit: githubMatrixLimit,
  });
  const maxParallel = loaded.config.max_concurrent_trials;
  const timeoutMinutes = Math.ceil(loaded.config.trainer?.timeout_minutes ?? 120) + jobOverheadMinutes;
  for (const note of loaded.notes) core.notice(`${settings.config}: ${note}`);
  await writeSummary(planSummary(plan, loaded.config, { secrets: secretValuesOf(process.env) }));
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
    },
  };
}
