import { mkdir, readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import { promotedConfigPath } from "../core/aggregate.js";
import type { SweepConfig } from "../core/config.js";
import { ExitCode, TunixError } from "../core/errors.js";
import { type PlannedRungTrial, rungBudgets, rungFields, rungSizes, waveSize } from "../core/fidelity.js";
import { type Plan, planTrials } from "../core/plan.js";
import type { TrialRecord } from "../core/types.js";
import { type AggregateResult, aggregate } from "./aggregate.js";
import { type Clock, systemClock } from "./clock.js";
import type { LoadedConfig } from "./config-file.js";
import { writeJsonAtomic } from "./files.js";
import { acquireLock } from "./lock.js";
import { collectProvenance } from "./provenance.js";
import { runTrial, type TrialJson } from "./trial.js";

/** What a sweep reports as it goes (a terminal line, plain log lines, a test). */
export interface SweepProgress {
  /**
   * Once, before the first trial: the trials planned so far (a sweep in waves plans more as
   * it goes), how many of them will run, and `schedule`, a phrase on the waves or rungs.
   */
  started(info: {
    total: number;
    toRun: number;
    parallel: number;
    sweepId: string;
    resumed: number;
    schedule?: string;
  }): void;
  /** A sweep in waves (or with successive halving) starts a wave; `total` counts every wave's trials. */
  waveStarted?(info: WaveInfo & { toRun: number; total: number }): void;
  trialStarted(trial: PlannedRungTrial, worker: number): void;
  trialFinished(record: TrialJson): void;
}

/** One wave of a sweep as `sweep.json` keeps it. */
export interface WaveInfo {
  /** 1-based. */
  wave: number;
  trial_ids: string[];
  /** Successive halving: the wave's rung and budget. */
  rung?: number;
  budget?: number;
}

/** How to run a local sweep. */
export interface SweepOptions {
  loaded: LoadedConfig;
  /** The repository root: the trainer runs there; runs/, submission_runs/ and the promoted config lie under it. */
  cwd: string;
  /** Where the promoted config goes (default `promotedConfigPath(run_version)`), relative to `cwd`. */
  bestConfigFile?: string;
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

/**
 * The state file of a local sweep (`runs/<run_version>/sweep.json`): the config it was
 * planned from, every trial planned so far (`plan`, all waves together) and the waves.
 * A state without `waves` (written before waves existed) is one wave.
 */
interface SweepState {
  config_sha256: string;
  config_path: string;
  plan: Plan;
  waves?: WaveInfo[];
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

/** A planned trial's record for planning the next wave: its trial.json, or a failed stand-in. */
async function recordOf(trialsDir: string, trial: PlannedRungTrial): Promise<TrialRecord> {
  try {
    const record = JSON.parse(await readFile(path.join(trialsDir, trial.trial_id, "trial.json"), "utf8"));
    if (record && typeof record === "object" && record.trial_id === trial.trial_id)
      return record as TrialRecord;
  } catch {
    // No record: the trial never ran (the failure budget stopped the sweep first).
  }
  return {
    trial_id: trial.trial_id,
    params: trial.params,
    status: "failed",
    primary_score: null,
    ...(trial.budget === undefined ? {} : { budget: trial.budget }),
    ...rungFields(trial),
    seed: trial.seed,
  };
}

/**
 * The next wave of a sweep given every record so far, or undefined when the sweep has no
 * more: without fidelity, `waves` waves of ceil(num_samples / waves) trials; with it, what
 * successive halving plans next (`planTrials` / `nextRungTrials`) until the plan is empty.
 */
function planNextWave(
  config: SweepConfig,
  state: SweepState,
  history: readonly TrialRecord[],
): Plan | undefined {
  const base = { config, sweepId: state.plan.sweep_id, seed: state.plan.seed, history };
  if (config.fidelity) {
    const plan = planTrials(base);
    return plan.trials.length ? plan : undefined;
  }
  const remaining = config.num_samples - state.plan.trials.length;
  if (remaining <= 0) return undefined;
  const plan = planTrials({ ...base, count: Math.min(waveSize(config), remaining) });
  // A grid with no untried point left gives fewer trials, possibly none.
  return plan.trials.length ? plan : undefined;
}

/** Adds a wave's trials to the sweep's plan and its wave list. */
function addWave(state: SweepState, wave: Plan): WaveInfo {
  const { fidelity: _wave, ...rest } = wave;
  const first = state.plan.trials.length === 0;
  state.plan = first
    ? rest
    : {
        ...state.plan,
        trials: [...state.plan.trials, ...wave.trials],
        matrix: { include: [...state.plan.matrix.include, ...wave.matrix.include] },
      };
  const info: WaveInfo = {
    wave: (state.waves?.length ?? 0) + 1,
    trial_ids: wave.trials.map((t) => t.trial_id),
    ...(wave.fidelity?.rung == null ? {} : { rung: wave.fidelity.rung }),
    ...(wave.fidelity?.budget == null ? {} : { budget: wave.fidelity.budget }),
  };
  state.waves = [...(state.waves ?? []), info];
  return info;
}

/** How the sweep's waves or rungs run, for the progress line; undefined for one plain wave. */
function scheduleOf(config: SweepConfig): string | undefined {
  const f = config.fidelity;
  const waves = config.waves > 1 ? `${config.waves} waves of ${waveSize(config)}` : undefined;
  if (!f) return waves;
  const rungs = rungBudgets(f);
  return `successive halving over budgets ${rungs.join(", ")} (eta ${f.eta}, ${rungSizes(config.num_samples, f.eta, rungs.length).join("/")} configurations${f.resume ? ", resuming from the rung below" : ", starting over each rung"})${waves ? `, rung 0 in ${waves}` : ""}`;
}

/**
 * Runs a whole sweep on this machine, wave by wave: plan a wave (or take the waves planned
 * before, when resuming), run it with a pool of workers, plan the next from every record so
 * far, and so on until the plan is empty or `waves` waves ran; then aggregate. Verify and
 * package are the caller's next steps. A re-run resumes: only trials without a completed
 * record run, then planning goes on from there. A promoted trial (successive halving) is
 * told its parent's folder as `TUNIX_RT_RESUME_FROM` when `fidelity.resume` is on.
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
    const stateFile = path.join(sweepDir, "sweep.json");
    const trialsDir = path.join(sweepDir, "trials");
    let state = await readState(sweepDir);
    if (state && state.config_sha256 !== loaded.sha256) {
      throw new TunixError(
        `${loaded.file}: the config changed since the sweep in ${path.relative(cwd, sweepDir)} was planned; run with --fresh to start over (its records are kept aside)`,
        ExitCode.input,
      );
    }
    if (!state) {
      const plan = planTrials({ config, sweepId: crypto.randomUUID() });
      state = {
        config_sha256: loaded.sha256,
        config_path: loaded.file,
        plan: { ...plan, trials: [], matrix: { include: [] } },
        waves: [],
      };
      addWave(state, plan);
      await writeJsonAtomic(stateFile, state);
    } else if (!state.waves) {
      state.waves = [{ wave: 1, trial_ids: state.plan.trials.map((t) => t.trial_id) }];
    }
    const current: SweepState = state;
    const byId = () => new Map(current.plan.trials.map((t) => [t.trial_id, t] as const));
    const pendingOf = async (ids: readonly string[]) => {
      const trials = byId();
      const pending: PlannedRungTrial[] = [];
      for (const id of ids) {
        const trial = trials.get(id);
        if (trial && !(await completedRecord(path.join(trialsDir, id)))) pending.push(trial);
      }
      return pending;
    };
    const planned = current.waves ?? [];
    const toRun = (await Promise.all(planned.map((w) => pendingOf(w.trial_ids)))).reduce(
      (n, p) => n + p.length,
      0,
    );
    const schedule = scheduleOf(config);
    options.progress.started({
      total: current.plan.trials.length,
      toRun,
      parallel: Math.max(1, Math.min(options.parallel, toRun || waveSize(config))),
      sweepId: current.plan.sweep_id,
      resumed: current.plan.trials.length - toRun,
      ...(schedule === undefined ? {} : { schedule }),
    });

    const ran: TrialJson[] = [];
    const maxFailed = config.max_failed_trials;
    let failures = 0;
    let skipped = 0;
    const budgetSpent = () => maxFailed !== null && failures > maxFailed;
    const runPool = async (trials: readonly PlannedRungTrial[]) => {
      const queue = [...trials];
      const worker = async (index: number) => {
        for (;;) {
          if (options.signal?.aborted) return;
          if (budgetSpent()) {
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
            resumeFrom:
              config.fidelity?.resume && trial.parent ? path.join(trialsDir, trial.parent) : undefined,
          });
          if (record.status === "failed" || record.status === "timeout") failures++;
          ran.push(record);
          options.progress.trialFinished(record);
        }
      };
      const parallel = Math.max(1, Math.min(options.parallel, trials.length));
      await Promise.all(Array.from({ length: parallel }, (_, i) => worker(i)));
    };

    const announce = schedule !== undefined;
    let next = 0;
    for (;;) {
      // The waves planned and not yet run in this invocation (all of them when resuming).
      for (; next < (current.waves?.length ?? 0); next++) {
        const wave = current.waves?.[next] as WaveInfo;
        const pending = await pendingOf(wave.trial_ids);
        // One plain wave reads as sweeps always did; waves and rungs get a line each.
        if (announce)
          options.progress.waveStarted?.({
            ...wave,
            toRun: pending.length,
            total: current.plan.trials.length,
          });
        await runPool(pending);
        if (options.signal?.aborted || budgetSpent()) break;
      }
      if (options.signal?.aborted || budgetSpent()) break;
      const history = await Promise.all(current.plan.trials.map((t) => recordOf(trialsDir, t)));
      const wave = planNextWave(config, current, history);
      if (!wave) break;
      addWave(current, wave);
      await writeJsonAtomic(stateFile, current);
    }
    const plan = current.plan;

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
      bestConfigFile: options.bestConfigFile ?? promotedConfigPath(config.run_version),
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
