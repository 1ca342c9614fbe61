/**
 * What `runSweep` (sweep.ts) takes and reports: its options, the progress it reports as it
 * goes, and its outcome.
 */
import type { SweepOverrides } from "../core/config/config.js";
import type { PlannedRungTrial } from "../core/search/fidelity.js";
import type { Plan } from "../core/search/plan.js";
import type { AggregateResult } from "./aggregate.js";
import type { Clock } from "./clock.js";
import type { LoadedConfig } from "./config-file.js";
import type { LockHolder } from "./lock.js";
import type { Profile } from "./profile.js";
import type { LeftoverReport } from "./trainer-groups.js";
import type { TrialJson } from "./trial.js";

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
