/**
 * A local sweep's saved state (sweep.json in its folder) and what is done with it: reading
 * it and the trial records, planning the next wave, setting an earlier sweep aside, and
 * whether a config may resume it.
 */

import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { changedMeaning, type SweepConfig } from "../core/config/config.js";
import { ExitCode, TunixError } from "../core/errors.js";
import { type PlannedRungTrial, rungBudgets, rungSizes, waveSize } from "../core/search/fidelity.js";
import { hasRepeats, type Plan, planTrials } from "../core/search/plan.js";
import type { TrialRecord } from "../core/types.js";
import type { Clock } from "./clock.js";
import type { LoadedConfig } from "./config-file.js";
import { checkTrialRecord } from "./history.js";
import type { SweepOptions, WaveInfo } from "./sweep-options.js";
import type { TrialJson } from "./trial.js";

/**
 * The state file of a local sweep (`runs/<run_version>/sweep.json`): the config it was
 * planned from, what its trials mean, every trial planned so far (`plan`) and, for a sweep in
 * waves, the waves. A state without `waves` that runs in waves is one wave so far.
 */
export interface SweepState {
  config_sha256: string;
  config_path: string;
  /** `trialMeaning` of the config that planned the first trial; absent in older states. */
  meaning?: Record<string, unknown>;
  plan: Plan;
  waves?: WaveInfo[];
  /** A sweep planned one trial at a time: the trials with a record when each was planned. */
  proposed_from?: Record<string, string[]>;
}

export const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Reads the state of an earlier sweep in `dir`, if any. */
export async function readState(dir: string): Promise<SweepState | undefined> {
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
export async function readRecords(
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
export function planNextWave(
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
export function addTrials(state: SweepState, plan: Plan): void {
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
export function addWave(state: SweepState, wave: Plan): WaveInfo {
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
export function scheduleOf(config: SweepConfig): string {
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
export async function setAside(
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
 * Throws (exit 2) when an earlier sweep in the folder was planned from a config whose trials
 * meant something else, naming what changed; a change that keeps their meaning (num_samples,
 * a comment, max_failed_trials) resumes.
 */
export function checkResumable(
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
