// Planning: a config, a seed and the trials so far in; the next trials and their matrix out.
// Pure and deterministic, so `tunix-rt plan` prints byte-identical JSON for the same inputs.

import type { SweepConfig } from "./config.js";
import { InputError } from "./errors.js";
import { nextRungTrials, type PlannedRungTrial, samplerHistory, waveSize } from "./fidelity.js";
import { hashSeed } from "./rng.js";
import {
  type ConcreteSamplerName,
  createSampler,
  resolveSampler,
  type SamplerName,
} from "./samplers/index.js";
import { searchSpaceOf } from "./space.js";
import type { TrialRecord } from "./types.js";

/** What `planTrials` needs. Omitted values come from the config. */
export interface PlanOptions {
  /** The validated config (its search space, and the defaults of the options below). */
  config: SweepConfig;
  /** The sweep's id (a UUID), copied into every trial. */
  sweepId: string;
  /** The sweep seed (uint32); default `config.seed`. */
  seed?: number;
  /**
   * How many new trials to propose (at most). Default: `config.num_samples`; with `waves` > 1
   * one wave, ceil(num_samples / waves); with `fidelity`, the next wave of successive halving
   * (`nextRungTrials`), which `count` then caps.
   */
  count?: number;
  /** The sampler, "auto" allowed; default `config.sampler`. */
  sampler?: SamplerName;
  /** The run version; default `config.run_version` (validate it before passing it). */
  runVersion?: string;
  /**
   * The trials so far (any status); new trials are numbered after them. With `fidelity` they
   * are the sweep's own records: which rung comes next, and what it promotes, is read from them.
   */
  history?: readonly TrialRecord[];
  /**
   * The most trials one plan may hold. GitHub Actions runs at most 256 jobs per matrix, so
   * `tunix-rt plan` sets 256; a local sweep has no such limit and leaves it unset.
   */
  matrixLimit?: number;
}

/** A plan, as `tunix-rt plan` prints it (DESIGN.md, CLI `plan`). */
export interface Plan {
  sweep_id: string;
  run_version: string;
  /** The concrete sampler that proposed the trials ("auto" resolved), for the evidence. */
  sampler: ConcreteSamplerName;
  /** The sweep seed. */
  seed: number;
  /** With `fidelity`, each trial also has `budget` and `rung`, and a promotion `parent`. */
  trials: PlannedRungTrial[];
  /** The GitHub Actions matrix: one entry per trial, the same fields as the trial. */
  matrix: { include: PlannedRungTrial[] };
  /**
   * With `fidelity`: what this wave is (rung 0 proposals, promotions to a rung, or nothing
   * left to run and why). Absent otherwise, so plans without fidelity read as before.
   */
  fidelity?: { rung: number | null; budget: number | null; note: string };
}

/** GitHub Actions' limit on the jobs of one matrix. */
export const githubMatrixLimit = 256;

const trialIdPattern = /^t(\d{4,})$/;

/** A trial id: `t` and the number in at least four digits (`t0000`, `t0042`, `t12345`). */
export function formatTrialId(n: number): string {
  return `t${String(n).padStart(4, "0")}`;
}

/** The number of a trial id of the form `t` and four or more digits, else undefined. */
export function trialNumberOf(id: string): number | undefined {
  const match = trialIdPattern.exec(id);
  return match ? Number(match[1]) : undefined;
}

/**
 * The number of the first new trial: one more than the highest `t####` id in the history,
 * and at least the number of distinct trial ids there, so ids of other forms ("a", "run-3")
 * still count and no new id can equal an old one.
 */
export function firstTrialNumber(history: readonly TrialRecord[]): number {
  let highest = -1;
  const ids = new Set<string>();
  for (const record of history) {
    ids.add(record.trial_id);
    const n = trialNumberOf(record.trial_id);
    if (n !== undefined && n > highest) highest = n;
  }
  return Math.max(highest + 1, ids.size);
}

/**
 * The seed a trial's trainer gets (`TUNIX_RT_SEED`, `{seed}`): a hash of the sweep seed and
 * the trial's number, kept to 31 bits so every framework takes it (int32 seeds included).
 * Trials of one sweep get unrelated seeds; the same sweep seed and trial id give the same one.
 */
export function trialSeed(sweepSeed: number, trialNumber: number): number {
  return hashSeed(sweepSeed, "trial", trialNumber) & 0x7fffffff;
}

/**
 * Proposes the next trials of a sweep: the sampler's params, numbered after the history
 * (`firstTrialNumber`), each with its own seed (`trialSeed`), and the same list as a matrix.
 * Throws an InputError when the count is over `matrixLimit`. A finite sampler (grid) whose
 * points are all tried gives fewer trials than asked, possibly none.
 */
export function planTrials(options: PlanOptions): Plan {
  const { config, sweepId, history = [] } = options;
  const seed = options.seed ?? config.seed;
  const count = options.count ?? (config.waves > 1 ? waveSize(config) : config.num_samples);
  const sampler = resolveSampler(options.sampler ?? config.sampler);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new InputError(`count: got ${count}; expected a whole number >= 0`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InputError(`seed: got ${seed}; expected a whole number in 0..4294967295`);
  }
  const limit = options.matrixLimit;
  if (limit !== undefined && count > limit) {
    const from = options.count === undefined ? "num_samples" : "--count";
    throw new InputError(
      `${count} trials (${from}) exceed the ${limit} jobs one matrix may hold; plan in waves: --count ${limit}, then --count ${Math.min(limit, count - limit)} --history <the earlier waves' trial records>, and so on`,
    );
  }
  const first = firstTrialNumber(history);
  const propose = (n: number) =>
    createSampler(sampler, {
      space: searchSpaceOf(config.search_space),
      seed,
      metricMode: "max",
    }).propose(n, samplerHistory(config, history));
  let trials: PlannedRungTrial[];
  let fidelity: Plan["fidelity"];
  if (!config.fidelity) {
    trials = propose(count).map((params, k) => ({
      sweep_id: sweepId,
      trial_id: formatTrialId(first + k),
      seed: trialSeed(seed, first + k),
      params,
    }));
  } else {
    // The wave is the schedule's; `count` caps it only when given.
    const wave = nextRungTrials(config, history, { count: options.count });
    if (wave.kind === "sample") {
      trials = propose(wave.count).map((params, k) => ({
        sweep_id: sweepId,
        trial_id: formatTrialId(first + k),
        seed: trialSeed(seed, first + k),
        params,
        budget: wave.budget,
        rung: 0,
      }));
      fidelity = { rung: 0, budget: wave.budget, note: `rung 0: ${trials.length} new configurations` };
    } else if (wave.kind === "promote") {
      trials = wave.promotions.map((p, k) => ({
        sweep_id: sweepId,
        trial_id: formatTrialId(first + k),
        seed: p.seed ?? trialSeed(seed, first + k),
        params: p.params,
        budget: wave.budget,
        rung: wave.rung,
        parent: p.parent,
      }));
      fidelity = {
        rung: wave.rung,
        budget: wave.budget,
        note: `rung ${wave.rung}: ${trials.length} promoted from rung ${wave.rung - 1}`,
      };
    } else {
      trials = [];
      fidelity = { rung: null, budget: null, note: wave.reason };
    }
    if (limit !== undefined && trials.length > limit) {
      throw new InputError(
        `${trials.length} trials in the next wave exceed the ${limit} jobs one matrix may hold; plan with --count ${limit} (the rest comes in the next plan) or raise waves`,
      );
    }
  }
  return {
    sweep_id: sweepId,
    run_version: options.runVersion ?? config.run_version,
    sampler,
    seed,
    trials,
    matrix: { include: trials.map((trial) => ({ ...trial, params: { ...trial.params } })) },
    ...(fidelity === undefined ? {} : { fidelity }),
  };
}
