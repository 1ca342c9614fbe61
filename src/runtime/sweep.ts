import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import {
  changedMeaning,
  type SweepConfig,
  type SweepOverrides,
  trialMeaning,
  withOverrides,
} from "../core/config/config.js";
import { ExitCode, TunixError } from "../core/errors.js";
import { earlyStop, promotedConfigPath } from "../core/evidence/aggregate.js";
import { type PlannedRungTrial, rungBudgets, rungSizes, waveSize } from "../core/search/fidelity.js";
import { hasRepeats, type Plan, planReevaluation, planTrials } from "../core/search/plan.js";
import { standInRecord } from "../core/search/trial-record.js";
import type { TrialRecord } from "../core/types.js";
import { type AggregateResult, aggregate } from "./aggregate.js";
import { type Clock, systemClock } from "./clock.js";
import type { LoadedConfig } from "./config-file.js";
import { evalsetLoader } from "./evalset.js";
import { writeJsonAtomic } from "./files.js";
import { checkTrialRecord } from "./history.js";
import { acquireLock, type LockHolder, runLockFile } from "./lock.js";
import { type Profile, timed } from "./profile.js";
import { collectProvenance, sourceState } from "./provenance.js";
import { CurveBoard } from "./pruner.js";
import { type LeftoverReport, stopLeftoverTrainers, TrainerGroups, trainersFile } from "./trainer-groups.js";
import { runTrial, type TrialJson } from "./trial.js";

/** What a sweep reports as it goes (a terminal line, plain log lines, a test). */
export interface SweepProgress {
  /**
   * Once, before the first trial: the trials of the sweep (planned so far, for a sweep in
   * waves), how many of them will run, and `schedule`, a phrase on how trials are planned.
   */
  started(info: {
    total: number;
    toRun: number;
    parallel: number;
    sweepId: string;
    resumed: number;
    /** Whether `total` is every trial the sweep will run (false: waves still to be planned). */
    final: boolean;
    schedule?: string;
    /** The records of trials completed before this invocation (a resumed sweep's), for the best so far and the ETA. */
    earlier?: readonly TrialJson[];
    /** Trials an earlier run with a higher num_samples planned past this one's: not run, still in the evidence. */
    beyond?: number;
  }): void;
  /** A sweep in waves (or with successive halving) starts a wave; `total` counts every wave's trials. */
  waveStarted?(info: WaveInfo & { toRun: number; total: number }): void;
  /**
   * The search is through and the best configurations run again (`reevaluate`): `targets`
   * are their original trials, `trial_ids` the new runs (none: nothing is worth running
   * again); `total` counts every trial.
   */
  reevaluationStarted?(info: {
    targets: string[];
    repeats: number;
    trial_ids: string[];
    toRun: number;
    total: number;
  }): void;
  trialStarted(trial: PlannedRungTrial, info: TrialStart): void;
  trialFinished(record: TrialJson): void;
  /** A line a running trial's trainer printed, redacted (only with `SweepOptions.follow`). */
  trialOutput?(trialId: string, line: string): void;
  /**
   * Before anything ran: trainers left running by an earlier sweep of this run_version that
   * died holding its lock (`holder`), stopped, and those that could not be checked (no /proc).
   */
  leftoverTrainers?(info: LeftoverReport & { holder: LockHolder | undefined }): void;
}

/** Where and why a trial starts, for its progress line. */
export interface TrialStart {
  /** 0-based worker index. */
  worker: number;
  /** The device the worker owns (`CUDA_VISIBLE_DEVICES`), when devices were given. */
  device?: string;
  /** Where a newly planned configuration came from (`Plan.proposed.note`). */
  proposed?: string;
  /** The trial's folder (`TUNIX_RT_OUTPUT_DIR`), where its trainer may write metrics.jsonl. */
  outDir: string;
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
  /** The environment trainers inherit. */
  env: NodeJS.ProcessEnv;
  /** Replace the config's seed, sampler or num_samples (`sweep --seed/--sampler/--num-samples`). */
  overrides?: SweepOverrides;
  /** Trials at once. */
  parallel: number;
  /** One device per worker (`CUDA_VISIBLE_DEVICES`), when given. */
  gpus?: string[];
  /** Where the time of each step goes (`npm run bench:overhead`), when measured. */
  profile?: Profile;
  /** Start over: an earlier sweep of this run_version is moved aside first. */
  fresh?: boolean;
  /** Remove the folders earlier `fresh` starts of this run_version moved aside. */
  cleanOld?: boolean;
  /** The folder of local sweeps (default `runs/`). */
  workDir?: string;
  signal?: AbortSignal;
  progress: SweepProgress;
  toolkit: string;
  /** Pass every line the trainers print (redacted) to `progress.trialOutput` (`sweep --follow`). */
  follow?: boolean;
  clock?: Clock;
  /** Grace between SIGTERM and SIGKILL for trainers (ms). */
  graceMs?: number;
  /** How often a running trial's metrics.jsonl is read for pruning (ms; default 500). */
  pruneIntervalMs?: number | undefined;
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
  /** Trials of the sweep that never ran because the failure budget was spent. */
  notRun: number;
  /** Why the sweep stopped before running every trial, when its first trials all failed (`earlyStop`). */
  stoppedEarly?: string;
  /** Where `fresh` moved the earlier sweep, when it did. */
  movedAside?: string;
  /** The earlier sweep's zips that `fresh` moved out of submission/, with it. */
  zipsAside: string[];
  /** Folders of earlier sweeps of this run_version kept aside (after `cleanOld`, none). */
  keptAside: string[];
  /** Folders `cleanOld` removed. */
  removed: string[];
}

/**
 * The state file of a local sweep (`runs/<run_version>/sweep.json`): the config it was
 * planned from, what its trials mean, every trial planned so far (`plan`) and, for a sweep in
 * waves, the waves. A state without `waves` that runs in waves is one wave so far.
 */
interface SweepState {
  config_sha256: string;
  config_path: string;
  /** `trialMeaning` of the config that planned the first trial; absent in older states. */
  meaning?: Record<string, unknown>;
  plan: Plan;
  waves?: WaveInfo[];
  /** A sweep planned one trial at a time: the trials with a record when each was planned. */
  proposed_from?: Record<string, string[]>;
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

/**
 * The records of planned trials found in their folders when the sweep starts (a resumed
 * sweep's), by trial id; a record that is not sound counts as none (the trial runs again).
 * After this, the sweep keeps the records its trials return.
 */
async function readRecords(
  trialsDir: string,
  trials: readonly PlannedRungTrial[],
): Promise<Map<string, TrialJson>> {
  const records = new Map<string, TrialJson>();
  for (const trial of trials) {
    try {
      const record = JSON.parse(await readFile(path.join(trialsDir, trial.trial_id, "trial.json"), "utf8"));
      // A record as aggregate accepts it (checkTrialRecord), of this trial, finished.
      const sound = checkTrialRecord(record, { file: "trial.json" }).length === 0;
      if (sound && record.trial_id === trial.trial_id && record.status !== "running")
        records.set(trial.trial_id, record as TrialJson);
    } catch {
      // No record: the trial never ran, or its attempt was cut off before the record.
    }
  }
  return records;
}

/**
 * The next wave of a sweep in waves given every record so far, or undefined when it has no
 * more: without fidelity, waves of `waveSize` until num_samples trials are planned; with it,
 * what successive halving plans next (`planTrials` / `nextRungTrials`) until the plan is empty.
 */
function planNextWave(
  config: SweepConfig,
  state: SweepState,
  history: readonly TrialRecord[],
): Plan | undefined {
  // Re-evaluation comes last: once planned, the search is through.
  if (hasRepeats(state.plan.trials)) return undefined;
  const base = {
    config,
    sweepId: state.plan.sweep_id,
    seed: state.plan.seed,
    history,
    wave: (state.waves?.length ?? 0) + 1,
  };
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

/** Adds planned trials to the sweep's plan (`proposed` belongs to one plan, not the sweep's). */
function addTrials(state: SweepState, plan: Plan): void {
  const { fidelity: _fidelity, proposed: _proposed, ...rest } = plan;
  state.plan =
    state.plan.trials.length === 0
      ? rest
      : {
          ...state.plan,
          trials: [...state.plan.trials, ...plan.trials],
          matrix: { include: [...state.plan.matrix.include, ...plan.matrix.include] },
        };
}

/** Adds a wave's trials to the sweep's plan and its wave list. */
function addWave(state: SweepState, wave: Plan): WaveInfo {
  addTrials(state, wave);
  const info: WaveInfo = {
    wave: (state.waves?.length ?? 0) + 1,
    trial_ids: wave.trials.map((t) => t.trial_id),
    ...(wave.fidelity?.rung == null ? {} : { rung: wave.fidelity.rung }),
    ...(wave.fidelity?.budget == null ? {} : { budget: wave.fidelity.budget }),
  };
  state.waves = [...(state.waves ?? []), info];
  return info;
}

/**
 * Whether a sweep plans each trial when a worker frees up (no `waves`, no `fidelity`), or in
 * waves. Successive halving is synchronous by nature: a rung is chosen from the whole rung below.
 */
export function runsAsynchronously(config: SweepConfig): boolean {
  return config.waves === undefined && !config.fidelity;
}

/** How the sweep's trials are planned, for the progress line. */
function scheduleOf(config: SweepConfig): string {
  if (runsAsynchronously(config))
    return "each trial planned when a worker frees up, from every result so far";
  const f = config.fidelity;
  const waves =
    config.waves !== undefined && config.waves > 1
      ? `${config.waves} waves of ${waveSize(config)}`
      : undefined;
  if (!f) return waves ?? "one wave";
  const rungs = rungBudgets(f);
  return `successive halving over budgets ${rungs.join(", ")} (eta ${f.eta}, ${rungSizes(config.num_samples, f.eta, rungs.length).join("/")} configurations${f.resume ? ", resuming from the rung below" : ", starting over each rung"})${waves ? `, rung 0 in ${waves}` : ""}`;
}

/**
 * Moves an earlier sweep aside (`fresh`) and removes the ones moved aside before (`cleanOld`).
 * Records are never deleted unless asked: a folder moved aside keeps them.
 */
async function setAside(
  sweepDir: string,
  options: Pick<SweepOptions, "fresh" | "cleanOld"> & { cwd: string; runVersion: string },
  clock: Clock,
): Promise<{ movedAside?: string; keptAside: string[]; removed: string[]; zipsAside: string[] }> {
  const parent = path.dirname(sweepDir);
  const prefix = `${path.basename(sweepDir)}.old-`;
  const asideNow = async () =>
    (await readdir(parent).catch(() => [] as string[]))
      .filter((name) => name.startsWith(prefix))
      .sort()
      .map((name) => path.join(parent, name));
  const removed: string[] = [];
  if (options.cleanOld) {
    for (const dir of await asideNow()) {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  let movedAside: string | undefined;
  const asideDir = `${sweepDir}.old-${new Date(clock.now()).toISOString().replace(/[:.]/g, "-")}`;
  if (options.fresh && (await exists(sweepDir))) {
    movedAside = asideDir;
    await rename(sweepDir, movedAside);
  }
  // The earlier sweep's zips go with it: left in submission/, they would still verify, and
  // read as this sweep's.
  const zipsAside: string[] = [];
  if (options.fresh) {
    const submission = path.join(options.cwd, "submission");
    const prefix = `tunix_rt_${options.runVersion}_`;
    const zips = (await readdir(submission).catch(() => [] as string[])).filter(
      (name) => name.startsWith(prefix) && name.endsWith(".zip"),
    );
    if (zips.length > 0) {
      movedAside = asideDir;
      await mkdir(path.join(asideDir, "submission"), { recursive: true });
      for (const name of zips.sort()) {
        await rename(path.join(submission, name), path.join(asideDir, "submission", name));
        zipsAside.push(path.join(asideDir, "submission", name));
      }
    }
  }
  return { ...(movedAside ? { movedAside } : {}), keptAside: await asideNow(), removed, zipsAside };
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

/**
 * Throws (exit 2) when an earlier sweep in the folder was planned from a config whose trials
 * meant something else, naming what changed; a change that keeps their meaning (num_samples,
 * a comment, max_failed_trials) resumes.
 */
function checkResumable(
  state: SweepState,
  meaning: Record<string, unknown>,
  loaded: LoadedConfig,
  shownDir: string,
): void {
  const changed = state.meaning
    ? changedMeaning(state.meaning, meaning)
    : state.config_sha256 === loaded.sha256
      ? []
      : ["the config (a sweep planned by an older tunix-rt records no more)"];
  if (changed.length === 0) return;
  throw new TunixError(
    `${loaded.file}: ${changed.join(", ")} changed since the sweep in ${shownDir} was planned, so its trials would mean something else; run with --fresh to start over (its records are kept aside)`,
    ExitCode.input,
  );
}
