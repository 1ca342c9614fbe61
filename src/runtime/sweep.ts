import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type SweepConfig, trialMeaning, withOverrides } from "../core/config/config.js";
import { ExitCode } from "../core/errors.js";
import { earlyStop, promotedConfigPath } from "../core/evidence/aggregate.js";
import { type PlannedRungTrial, waveSize } from "../core/search/fidelity.js";
import { planReevaluation, planTrials } from "../core/search/plan.js";
import { standInRecord } from "../core/search/trial-record.js";
import { aggregate } from "./aggregate.js";
import { systemClock } from "./clock.js";
import { evalsetLoader } from "./evalset.js";
import { writeJsonAtomic } from "./files.js";
import { acquireLock, runLockFile } from "./lock.js";
import { timed } from "./profile.js";
import { collectProvenance, sourceState } from "./provenance.js";
import { CurveBoard } from "./pruner.js";
import type { SweepOptions, SweepOutcome, WaveInfo } from "./sweep-options.js";
import {
  addTrials,
  addWave,
  checkResumable,
  planNextWave,
  readRecords,
  readState,
  runsAsynchronously,
  type SweepState,
  scheduleOf,
  setAside,
} from "./sweep-state.js";
import { stopLeftoverTrainers, TrainerGroups, trainersFile } from "./trainer-groups.js";
import { runTrial, type TrialJson } from "./trial.js";

export type { SweepOptions, SweepOutcome, SweepProgress, TrialStart, WaveInfo } from "./sweep-options.js";
export { runsAsynchronously } from "./sweep-state.js";

/** The folder of a run_version's local sweep. */
export function sweepDirOf(cwd: string, config: SweepConfig, workDir = "runs"): string {
  return path.resolve(cwd, workDir, config.run_version);
}

/**
 * Runs a whole sweep on this machine, then aggregates it. Without `waves` (and without
 * `fidelity`) it runs asynchronously: each time a worker frees up, the sampler proposes the
 * next trial from every finished record, the running trials counted as running (a model
 * neither repeats nor crowds them), so a model-based sampler learns from the first scores on.
 * With `waves` or `fidelity` it runs wave after wave, each planned from every record so far.
 * Every planned trial is saved in sweep.json before it starts. A re-run resumes: trials
 * without a completed record run first, then planning goes on; raising num_samples (or
 * waves) extends the sweep, while a change to what the trials mean (`trialMeaning`) asks for
 * `fresh`. A promoted trial (successive halving) is told its parent's folder as
 * `TUNIX_RT_RESUME_FROM` when `fidelity.resume` is on. Verify and package are the caller's.
 */
export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const { loaded, cwd } = options;
  const config = withOverrides(loaded.config, options.overrides);
  const clock = options.clock ?? systemClock;
  const sweepDir = sweepDirOf(cwd, config, options.workDir);
  await mkdir(path.dirname(sweepDir), { recursive: true });
  const lockFile = runLockFile(cwd, config.run_version, options.workDir);
  const lock = await acquireLock(lockFile, `tunix-rt sweep --config ${loaded.file}`);
  // Trainers of a sweep that died holding this lock may still run: stop them before any of
  // their trials runs again beside them.
  const leftover = await stopLeftoverTrainers(trainersFile(lockFile), { graceMs: options.graceMs });
  if (leftover.stopped.length || leftover.unchecked.length)
    options.progress.leftoverTrainers?.({ ...leftover, holder: lock.replaced });
  const trainers = new TrainerGroups(trainersFile(lockFile));
  try {
    const aside = await setAside(sweepDir, { ...options, cwd, runVersion: config.run_version }, clock);
    // Each trial records the code it starts from; this state, taken before the first, speaks
    // only for trials whose records keep none (records of an older tunix-rt).
    const source = await sourceState(cwd);
    await mkdir(sweepDir, { recursive: true });
    const stateFile = path.join(sweepDir, "sweep.json");
    const trialsDir = path.join(sweepDir, "trials");
    const meaning = trialMeaning(config);
    const found = await readState(sweepDir);
    if (found) checkResumable(found, meaning, loaded, path.relative(cwd, sweepDir));
    const asynchronous = runsAsynchronously(config);
    const state: SweepState = found ?? {
      config_sha256: loaded.sha256,
      config_path: loaded.file,
      meaning,
      plan: {
        ...planTrials({ config, sweepId: crypto.randomUUID(), count: 0 }),
        trials: [],
        matrix: { include: [] },
      },
      ...(asynchronous ? {} : { waves: [] }),
    };
    // A resumed sweep takes on the config it now runs with (a raised num_samples, a new comment).
    state.config_sha256 = loaded.sha256;
    state.config_path = loaded.file;
    state.meaning ??= meaning;
    // sweep.json is written whole, one write at a time, so the last write holds every trial.
    let saving = Promise.resolve();
    const save = () => {
      saving = saving.then(() =>
        timed(options.profile, "sweep: save sweep.json", () => writeJsonAtomic(stateFile, state)),
      );
      return saving;
    };
    if (!asynchronous && !found) {
      addWave(state, planTrials({ config, sweepId: state.plan.sweep_id, wave: 1 }));
    } else if (!asynchronous && !state.waves) {
      state.waves = [{ wave: 1, trial_ids: state.plan.trials.map((t) => t.trial_id) }];
    }
    await save();

    const records = await readRecords(trialsDir, state.plan.trials);
    // A pruned trial is done too: it ran as far as its curve deserved, and does not run again.
    const done = (id: string) => {
      const status = records.get(id)?.status;
      return status === "completed" || status === "pruned";
    };
    // Pruning judges each running trial against every curve so far, a resumed sweep's included.
    const board = config.pruning
      ? CurveBoard.of([...records.values()].filter((r) => done(r.trial_id)))
      : undefined;
    /** The search's trials: every planned trial but the re-evaluation runs. */
    const searched = () => state.plan.trials.filter((t) => t.repeat_of === undefined);
    const ran: TrialJson[] = [];
    const maxFailed = config.max_failed_trials;
    let failures = 0;
    // The failure budget: max_failed_trials when set, else the early stop (the first trials
    // all failed), which the records of an earlier invocation count towards too.
    let stoppedEarly: string | undefined;
    const budgetSpent = () => {
      if (maxFailed !== null) return failures > maxFailed;
      stoppedEarly ??= earlyStop(config, records.values());
      return stoppedEarly !== undefined;
    };
    const stopped = () => options.signal?.aborted === true || budgetSpent();
    const follow = options.follow ? options.progress.trialOutput?.bind(options.progress) : undefined;
    // Every trial is graded against one reading of the evalset.
    const loadEvalset = config.evalset
      ? evalsetLoader(path.resolve(cwd, config.evalset), config.evalset)
      : undefined;
    /** The records of the listed trials completed before this invocation. */
    const earlier = (trials: readonly PlannedRungTrial[]) =>
      trials.flatMap((t) => (done(t.trial_id) ? [records.get(t.trial_id) as TrialJson] : []));

    /** Runs trials with a pool of workers, each taking the next trial `next` gives until none. */
    const runPool = async (
      next: () => Promise<{ trial: PlannedRungTrial; proposed?: string } | undefined>,
      workers: number,
      started: Set<string>,
    ) => {
      const worker = async (index: number) => {
        for (;;) {
          if (stopped()) return; // a spent failure budget puts no new GPU time into this sweep
          const picked = await timed(options.profile, "sweep: plan the next trial", next);
          if (!picked) return;
          const { trial } = picked;
          started.add(trial.trial_id);
          let trainerPid: number | undefined;
          const device = options.gpus?.[index];
          const outDir = path.join(trialsDir, trial.trial_id);
          options.progress.trialStarted(trial, {
            worker: index,
            outDir,
            ...(device === undefined ? {} : { device }),
            ...(picked.proposed === undefined ? {} : { proposed: picked.proposed }),
          });
          const record = await runTrial({
            ...(options.profile ? { profile: options.profile } : {}),
            outsideGit: source.commit === null,
            config,
            trial,
            outDir,
            cwd,
            env: options.env,
            extraEnv: device === undefined ? undefined : { CUDA_VISIBLE_DEVICES: device },
            signal: options.signal,
            echoLines: follow && ((line) => follow(trial.trial_id, line)),
            clock,
            graceMs: options.graceMs,
            resumeFrom:
              config.fidelity?.resume && trial.parent ? path.join(trialsDir, trial.parent) : undefined,
            proposedFrom: state.proposed_from?.[trial.trial_id],
            loadEvalset,
            ...(board ? { board } : {}),
            pruneIntervalMs: options.pruneIntervalMs,
            onTrainer: (pid) => {
              trainerPid = pid;
              void timed(options.profile, "sweep: trainer groups file", () =>
                trainers.add(pid, trial.trial_id),
              );
            },
          });
          if (trainerPid !== undefined)
            await timed(options.profile, "sweep: trainer groups file", () =>
              trainers.remove(trainerPid as number),
            );
          started.delete(trial.trial_id);
          records.set(trial.trial_id, record);
          if (record.status === "completed") board?.complete(trial.trial_id);
          if (record.status === "failed" || record.status === "timeout") failures++;
          ran.push(record);
          const shown = performance.now();
          options.progress.trialFinished(record);
          options.profile?.add("sweep: progress", performance.now() - shown);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, workers) }, (_, i) => worker(i)));
    };

    /** Runs a list of planned trials with the pool, each started line told `why` when given. */
    const runList = (trials: readonly PlannedRungTrial[], why?: (trial: PlannedRungTrial) => string) => {
      const queue = [...trials];
      return runPool(
        async () => {
          const trial = queue.shift();
          return trial && { trial, ...(why ? { proposed: why(trial) } : {}) };
        },
        Math.min(options.parallel, trials.length),
        new Set(),
      );
    };

    let notRun = 0;
    if (asynchronous) {
      const target = config.num_samples;
      // Planned trials past a lowered num_samples are not run; the rest run first when unfinished.
      const queue = searched()
        .slice(0, target)
        .filter((t) => !done(t.trial_id));
      const toRun = Math.max(
        0,
        target -
          searched()
            .slice(0, target)
            .filter((t) => done(t.trial_id)).length,
      );
      options.progress.started({
        total: target,
        toRun,
        // Nothing of the search left (a resume before re-evaluation): the workers it has.
        parallel: Math.max(1, Math.min(options.parallel, toRun || options.parallel)),
        sweepId: state.plan.sweep_id,
        resumed: target - toRun,
        final: true,
        schedule: scheduleOf(config),
        earlier: earlier(searched().slice(0, target)),
        beyond: Math.max(0, searched().length - target),
      });
      // Queued or running: these count as running when the next trial is planned.
      const running = new Set<string>(queue.map((t) => t.trial_id));
      const next = async () => {
        const resumed = queue.shift();
        if (resumed) return { trial: resumed };
        if (searched().length >= target) return undefined;
        const history = state.plan.trials.map((t) =>
          running.has(t.trial_id)
            ? standInRecord(t, "running")
            : (records.get(t.trial_id) ?? standInRecord(t, "failed")),
        );
        const plan = planTrials({
          config,
          sweepId: state.plan.sweep_id,
          seed: state.plan.seed,
          history,
          count: 1,
        });
        const trial = plan.trials[0];
        if (!trial) return undefined; // a grid with no untried point left
        // Synchronously, before the save: a worker planning meanwhile sees it as running.
        addTrials(state, plan);
        running.add(trial.trial_id);
        state.proposed_from = {
          ...state.proposed_from,
          [trial.trial_id]: history
            .filter((r) => records.has(r.trial_id) && r.status !== "running")
            .map((r) => r.trial_id),
        };
        await save();
        return { trial, ...(plan.proposed ? { proposed: plan.proposed.note } : {}) };
      };
      await runPool(next, Math.min(options.parallel, Math.max(1, toRun)), running);
      const recorded = searched()
        .slice(0, target)
        .filter((t) => records.has(t.trial_id)).length;
      if (budgetSpent()) notRun = Math.max(0, target - recorded);
    } else {
      const pendingOf = (ids: readonly string[]) => {
        const byId = new Map(state.plan.trials.map((t) => [t.trial_id, t] as const));
        return ids.flatMap((id) => {
          const trial = byId.get(id);
          return trial && !done(id) ? [trial] : [];
        });
      };
      const waves = () => state.waves ?? [];
      const toRun = waves().reduce((n, w) => n + pendingOf(w.trial_ids).length, 0);
      options.progress.started({
        total: state.plan.trials.length,
        toRun,
        parallel: Math.max(1, Math.min(options.parallel, toRun || waveSize(config))),
        sweepId: state.plan.sweep_id,
        resumed: state.plan.trials.length - toRun,
        final: !config.fidelity && waves().length >= Math.ceil(config.num_samples / waveSize(config)),
        schedule: scheduleOf(config),
        earlier: earlier(state.plan.trials),
      });
      const announce = config.fidelity !== undefined || (config.waves ?? 1) > 1;
      let next = 0;
      for (;;) {
        // The waves planned and not yet run in this invocation (all of them when resuming).
        for (; next < waves().length && !stopped(); next++) {
          const wave = waves()[next] as WaveInfo;
          const pending = pendingOf(wave.trial_ids);
          if (announce)
            options.progress.waveStarted?.({
              ...wave,
              toRun: pending.length,
              total: state.plan.trials.length,
            });
          await runList(pending);
        }
        if (stopped()) break;
        const history = state.plan.trials.map((t) => records.get(t.trial_id) ?? standInRecord(t, "failed"));
        const wave = planNextWave(config, state, history);
        if (!wave) break;
        addWave(state, wave);
        await save();
      }
      if (budgetSpent()) {
        const unplanned = config.fidelity ? 0 : Math.max(0, config.num_samples - state.plan.trials.length);
        notRun = state.plan.trials.filter((t) => !records.has(t.trial_id)).length + unplanned;
      }
    }
    if (config.reevaluate && !stopped()) {
      // The search is through: its best configurations run again, planned once (a resumed
      // sweep runs the repeats it planned before).
      let repeats = state.plan.trials.filter((t) => t.repeat_of !== undefined);
      if (repeats.length === 0) {
        const history = state.plan.trials.map((t) => records.get(t.trial_id) ?? standInRecord(t, "failed"));
        const plan = planReevaluation({
          config,
          sweepId: state.plan.sweep_id,
          seed: state.plan.seed,
          history,
        });
        if (plan.trials.length > 0) {
          addTrials(state, plan);
          await save();
        }
        repeats = plan.trials;
      }
      const pending = repeats.filter((t) => !done(t.trial_id));
      // Announced also when nothing runs again, so a configured re-evaluation never vanishes.
      options.progress.reevaluationStarted?.({
        targets: [...new Set(repeats.map((t) => t.repeat_of as string))],
        repeats: config.reevaluate.repeats,
        trial_ids: repeats.map((t) => t.trial_id),
        toRun: pending.length,
        total: state.plan.trials.length,
      });
      await runList(pending, (trial) => `re-evaluation of ${trial.repeat_of}, a new seed`);
    }
    await saving;
    const plan = state.plan;
    const outcome = { plan, sweepDir, ran, notRun, ...(stoppedEarly ? { stoppedEarly } : {}), ...aside };

    if (options.signal?.aborted) return { ...outcome, exitCode: ExitCode.interrupted, interrupted: true };
    const provenance = await collectProvenance(loaded, {
      cwd,
      env: options.env,
      toolkit: options.toolkit,
      sampler: plan.sampler,
      seed: plan.seed,
      source,
      now: new Date(clock.now()),
    });
    const aggregated = await timed(options.profile, "once: aggregate", () =>
      aggregate({
        config,
        trialsDir,
        runDir: path.join("submission_runs", config.run_version),
        bestConfigFile: options.bestConfigFile ?? promotedConfigPath(config.run_version),
        cwd,
        provenance,
        sweepId: plan.sweep_id,
        // The records the trials returned (or, resumed, that were read and checked at the start).
        records: plan.trials.flatMap((t) => {
          const record = records.get(t.trial_id);
          return record ? [{ record, dir: path.join(trialsDir, t.trial_id) }] : [];
        }),
        notRun,
        env: options.env,
      }),
    );
    const exitCode = stoppedEarly
      ? ExitCode.failureBudget
      : !aggregated.best
        ? ExitCode.no
        : aggregated.counts.failure_budget_exceeded
          ? ExitCode.failureBudget
          : ExitCode.ok;
    return { ...outcome, exitCode, aggregated, interrupted: false };
  } finally {
    await trainers.clear();
    await lock.release();
  }
}
