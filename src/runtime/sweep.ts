import { mkdir, readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import type { SweepConfig } from "../core/config.js";
import { ExitCode, TunixError } from "../core/errors.js";
import { type Plan, planTrials } from "../core/plan.js";
import type { PlannedTrial } from "../core/types.js";
import { type AggregateResult, aggregate } from "./aggregate.js";
import { type Clock, systemClock } from "./clock.js";
import type { LoadedConfig } from "./config-file.js";
import { writeJsonAtomic } from "./files.js";
import { acquireLock } from "./lock.js";
import { collectProvenance } from "./provenance.js";
import { runTrial, type TrialJson } from "./trial.js";

/** What a sweep reports as it goes (a terminal line, plain log lines, a test). */
export interface SweepProgress {
  started(info: { total: number; toRun: number; parallel: number; sweepId: string; resumed: number }): void;
  trialStarted(trial: PlannedTrial, worker: number): void;
  trialFinished(record: TrialJson): void;
}

/** How to run a local sweep. */
export interface SweepOptions {
  loaded: LoadedConfig;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Trials at once. */
  parallel: number;
  /** One device per worker (`CUDA_VISIBLE_DEVICES`), when given. */
  gpus?: string[];
  /** Start over: an earlier sweep of this run_version is moved aside first. */
  fresh?: boolean;
  /** The folder of local sweeps (default `runs/`). */
  workDir?: string;
  signal?: AbortSignal;
  progress: SweepProgress;
  toolkit: string;
  echo?: (chunk: Buffer) => void;
  clock?: Clock;
  /** Grace between SIGTERM and SIGKILL for trainers (ms). */
  graceMs?: number;
}

/** What a sweep did. */
export interface SweepOutcome {
  exitCode: number;
  plan: Plan;
  sweepDir: string;
  /** Trials that ran in this invocation (resumed ones that were complete did not). */
  ran: TrialJson[];
  aggregated?: AggregateResult;
  interrupted: boolean;
  /** Trials not started because the failure budget was spent. */
  skipped: number;
}

/** The state file of a local sweep: its plan and the config it was planned from. */
interface SweepState {
  config_sha256: string;
  config_path: string;
  plan: Plan;
}

/** The folder of a run_version's local sweep. */
export function sweepDirOf(cwd: string, config: SweepConfig, workDir = "runs"): string {
  return path.resolve(cwd, workDir, config.run_version);
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Reads the state of an earlier sweep in `dir`, if any. */
async function readState(dir: string): Promise<SweepState | undefined> {
  try {
    const state = JSON.parse(await readFile(path.join(dir, "sweep.json"), "utf8"));
    return state?.plan?.trials ? (state as SweepState) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a trial already has a completed record (a resumed sweep does not run it again). */
async function completedRecord(dir: string): Promise<TrialJson | undefined> {
  try {
    const record = JSON.parse(await readFile(path.join(dir, "trial.json"), "utf8"));
    return record?.status === "completed" ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a whole sweep on this machine: plan (or the earlier plan, when resuming), a pool of
 * workers running trials, then aggregate. Verify and package are the caller's next steps.
 * A re-run resumes: only trials without a completed record run.
 */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const { loaded, cwd } = options;
  const config = loaded.config;
  const clock = options.clock ?? systemClock;
  const sweepDir = sweepDirOf(cwd, config, options.workDir);
  await mkdir(path.dirname(sweepDir), { recursive: true });
  const lock = await acquireLock(`${sweepDir}.lock`, `tunix-rt sweep --config ${loaded.file}`);
  try {
    if (options.fresh && (await exists(sweepDir))) {
      // Old records are kept aside, never deleted.
      await rename(sweepDir, `${sweepDir}.old-${new Date(clock.now()).toISOString().replace(/[:.]/g, "-")}`);
    }
    await mkdir(sweepDir, { recursive: true });
    let state = await readState(sweepDir);
    if (state && state.config_sha256 !== loaded.sha256) {
      throw new TunixError(
        `${loaded.file}: the config changed since the sweep in ${path.relative(cwd, sweepDir)} was planned; run with --fresh to start over (its records are kept aside)`,
        ExitCode.input,
      );
    }
    if (!state) {
      const plan = planTrials({ config, sweepId: crypto.randomUUID() });
      state = { config_sha256: loaded.sha256, config_path: loaded.file, plan };
      await writeJsonAtomic(path.join(sweepDir, "sweep.json"), state);
    }
    const plan = state.plan;
    const trialsDir = path.join(sweepDir, "trials");
    const pending: PlannedTrial[] = [];
    for (const trial of plan.trials) {
      if (!(await completedRecord(path.join(trialsDir, trial.trial_id)))) pending.push(trial);
    }
    const parallel = Math.max(1, Math.min(options.parallel, pending.length || 1));
    options.progress.started({
      total: plan.trials.length,
      toRun: pending.length,
      parallel,
      sweepId: plan.sweep_id,
      resumed: plan.trials.length - pending.length,
    });

    const ran: TrialJson[] = [];
    const maxFailed = config.max_failed_trials;
    let failures = 0;
    let skipped = 0;
    const queue = [...pending];
    const worker = async (index: number) => {
      for (;;) {
        if (options.signal?.aborted) return;
        if (maxFailed !== null && failures > maxFailed) {
          // The failure budget is spent: no new GPU time goes into this sweep.
          skipped += queue.length;
          queue.length = 0;
          return;
        }
        const trial = queue.shift();
        if (!trial) return;
        options.progress.trialStarted(trial, index);
        const gpu = options.gpus?.[index];
        const record = await runTrial({
          config,
          trial,
          outDir: path.join(trialsDir, trial.trial_id),
          cwd,
          env: options.env,
          extraEnv: gpu === undefined ? undefined : { CUDA_VISIBLE_DEVICES: gpu },
          signal: options.signal,
          echo: options.echo,
          clock,
          graceMs: options.graceMs,
        });
        if (record.status === "failed" || record.status === "timeout") failures++;
        ran.push(record);
        options.progress.trialFinished(record);
      }
    };
    await Promise.all(Array.from({ length: parallel }, (_, i) => worker(i)));

    if (options.signal?.aborted) {
      return { exitCode: ExitCode.interrupted, plan, sweepDir, ran, interrupted: true, skipped };
    }
    const provenance = await collectProvenance(loaded, {
      cwd,
      env: options.env,
      toolkit: options.toolkit,
      sampler: plan.sampler,
      seed: plan.seed,
      now: new Date(clock.now()),
    });
    const aggregated = await aggregate({
      config,
      trialsDir,
      runDir: path.join("submission_runs", config.run_version),
      bestConfigFile: "training/configs/best.yaml",
      cwd,
      provenance,
      planned: plan.trials,
      env: options.env,
    });
    const exitCode = !aggregated.best
      ? ExitCode.no
      : aggregated.counts.failure_budget_exceeded
        ? ExitCode.failureBudget
        : ExitCode.ok;
    return { exitCode, plan, sweepDir, ran, aggregated, interrupted: false, skipped };
  } finally {
    await lock.release();
  }
}
