// Planning: a config, a seed and the trials so far in; the next trials and their matrix out.
// Pure and deterministic, so `tunix-rt plan` prints byte-identical JSON for the same inputs.

import type { SweepConfig } from "../config/config.js";
import { searchSpaceOf } from "../config/space.js";
import { InputError } from "../errors.js";
import { primaryScoreRange } from "../grading/score.js";
import { hashSeed } from "../rng.js";
import type { TrialRecord } from "../types.js";
import {
  nextRungTrials,
  type PlannedRungTrial,
  samplerHistory,
  scheduledWaves,
  waveSize,
} from "./fidelity.js";
import { reevaluationTargets } from "./recommend.js";
import {
  type ConcreteSamplerName,
  createSampler,
  resolveSampler,
  type SamplerName,
} from "./samplers/index.js";
import { plannedRecord } from "./trial-record.js";

/** What `planTrials` needs. Omitted values come from the config. */
export interface PlanOptions {
  /** The validated config (its search space, and the defaults of the options below). */
  config: SweepConfig;
  /** The sweep's id (a UUID), copied into every trial. */
  sweepId: string;
  /** The sweep seed (uint32); default `config.seed`. */
  seed?: number;
  /**
   * How many new trials to propose (at most). Default: one wave, `waveSize(config)` (all of
   * num_samples when the schedule is one wave); with `fidelity`, the next wave of successive
   * halving (`nextRungTrials`), which `count` then caps.
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
  /** The wave these trials make (1-based), recorded on each trial; unset: no wave. */
  wave?: number;
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
  /**
   * Where the new configurations come from: the sampler's warm-up design, its model, or a
   * sampler without a model. Absent when the plan proposes none (empty, or only promotions).
   */
  proposed?: Proposed;
}

/** Where a plan's new configurations come from (`Plan.proposed`). */
export interface Proposed {
  /** `warm-up`: a model-based sampler with too few scores yet; `model`: its model; `design`: no model. */
  phase: "warm-up" | "model" | "design";
  /** The trials it covers, in order. */
  trial_ids: string[];
  /** One line for people. */
  note: string;
}

/** What a sampler's `warmUpLeft` says of its next proposals, for the plan and the progress lines. */
export function describeProposal(
  sampler: ConcreteSamplerName,
  warmUpLeft: number | undefined,
  scored: number,
  /** Pruned trials the model learns from (at the worst score, once there is one). */
  pruned = 0,
): Omit<Proposed, "trial_ids"> {
  const learnt = scored + pruned;
  const detail = `${scored} scored, ${pruned} pruned, learnt at the worst score`;
  if (warmUpLeft === undefined)
    return { phase: "design", note: `${sampler}: no model; ${designs[sampler] ?? "its own design"}` };
  if (!Number.isFinite(warmUpLeft))
    return { phase: "warm-up", note: `${sampler}: the space has no parameter to model; Sobol points` };
  if (warmUpLeft > 0)
    return {
      phase: "warm-up",
      note:
        pruned > 0
          ? `${sampler}: warm-up (Sobol points) until ${learnt + warmUpLeft} trials have a score or were pruned (${learnt} so far: ${detail})`
          : `${sampler}: warm-up (Sobol points) until ${scored + warmUpLeft} trials have a score (${scored} so far)`,
    };
  return {
    phase: "model",
    note: `${sampler}: ${models[sampler] ?? "its model"}, fitted to ${pruned > 0 ? `${learnt} trials (${detail})` : `${scored} scored trials`}`,
  };
}

const designs: Partial<Record<ConcreteSamplerName, string>> = {
  random: "independent random draws",
  sobol: "the scrambled Sobol sequence",
  grid: "the grid's points in a shuffled order",
};
const models: Partial<Record<ConcreteSamplerName, string>> = {
  gp: "a Gaussian process",
  tpe: "a tree-structured Parzen estimator",
};

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
  const count = options.count ?? waveSize(config);
  const sampler = resolveSampler(options.sampler ?? config.sampler);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new InputError(`count: got ${count}; expected a whole number >= 0`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InputError(`seed: got ${seed}; expected a whole number in 0..4294967295`);
  }
  const limit = options.matrixLimit;
  if (limit !== undefined && count > limit) {
    const waves = scheduledWaves(config);
    const from =
      options.count !== undefined
        ? "--count"
        : waves > 1
          ? `one of ${waves} waves of num_samples`
          : "num_samples";
    throw new InputError(
      `${count} trials (${from}) exceed the ${limit} jobs one matrix may hold; plan in ${options.count === undefined ? "more waves (raise waves in the config), or by hand in " : ""}waves: --count ${limit}, then --count ${Math.min(limit, count - limit)} --history <the earlier waves' trial records>, and so on`,
    );
  }
  const first = firstTrialNumber(history);
  const learnsFrom = samplerHistory(config, history);
  const instance = createSampler(sampler, {
    space: searchSpaceOf(config.search_space),
    seed,
    metricMode: "max",
  });
  const propose = (n: number) => instance.propose(n, learnsFrom);
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
  const fresh = trials.filter((t) => t.parent === undefined);
  const scored = learnsFrom.filter(
    (r) => r.status === "completed" && typeof r.primary_score === "number",
  ).length;
  // Pruned trials are observations too once there is a score (samplers/encoding.ts `observe`).
  const pruned = scored > 0 ? learnsFrom.filter((r) => r.status === "pruned").length : 0;
  const proposed: Proposed | undefined =
    fresh.length === 0
      ? undefined
      : {
          ...describeProposal(sampler, instance.warmUpLeft?.(learnsFrom), scored, pruned),
          trial_ids: fresh.map((t) => t.trial_id),
        };
  if (options.wave !== undefined) trials = trials.map((trial) => ({ ...trial, wave: options.wave }));
  return {
    sweep_id: sweepId,
    run_version: options.runVersion ?? config.run_version,
    sampler,
    seed,
    trials,
    matrix: { include: trials.map((trial) => ({ ...trial, params: { ...trial.params } })) },
    ...(fidelity === undefined ? {} : { fidelity }),
    ...(proposed === undefined ? {} : { proposed }),
  };
}

/** Whether a history already holds re-evaluation runs (planned or recorded). */
export const hasRepeats = (history: readonly object[]): boolean =>
  history.some((r) => typeof (r as { repeat_of?: unknown }).repeat_of === "string");

/**
 * The re-evaluation of a sweep whose search is through (`config.reevaluate`): the `top_k`
 * configurations the recommendation rule rates best (`reevaluationTargets`), each run
 * `repeats` more times, numbered after the history, each with its own trainer seed and
 * `repeat_of` its original (and its original's budget). Empty when the config asks for no
 * re-evaluation, when the history already holds one (it is planned once), or when nothing
 * is scored. The caller decides that the search is through.
 */
export function planReevaluation(options: Omit<PlanOptions, "count" | "sampler" | "matrixLimit">): Plan {
  const { config, sweepId, history = [] } = options;
  const seed = options.seed ?? config.seed;
  const reevaluate = config.reevaluate;
  const trials: PlannedRungTrial[] = [];
  if (reevaluate && !hasRepeats(history)) {
    const targets = reevaluationTargets(searchSpaceOf(config.search_space), history, {
      rule: config.recommend,
      seed,
      topK: reevaluate.top_k,
      range: primaryScoreRange,
    });
    const budgets = new Map(history.map((r) => [r.trial_id, r.budget] as const));
    const first = firstTrialNumber(history);
    for (const target of targets) {
      const budget = budgets.get(target.trial_id);
      for (let r = 0; r < reevaluate.repeats; r++) {
        const n = first + trials.length;
        trials.push({
          sweep_id: sweepId,
          trial_id: formatTrialId(n),
          seed: trialSeed(seed, n),
          params: { ...target.params },
          ...(budget === undefined ? {} : { budget }),
          repeat_of: target.trial_id,
          ...(options.wave === undefined ? {} : { wave: options.wave }),
        });
      }
    }
  }
  return {
    sweep_id: sweepId,
    run_version: options.runVersion ?? config.run_version,
    sampler: resolveSampler(config.sampler),
    seed,
    trials,
    matrix: { include: trials.map((trial) => ({ ...trial, params: { ...trial.params } })) },
  };
}

/** What `sweep --dry-run` can tell before a sweep runs. */
export interface SweepPreview {
  /** The trials planned before any result exists, in order. */
  trials: PlannedRungTrial[];
  /** Where each of them comes from (`Plan.proposed.note`), by trial id. */
  proposed: Record<string, string>;
  /** What follows them, for people; null when they are the whole sweep. */
  rest: string | null;
}

/**
 * The trials a local sweep plans before any result exists. Without `waves` (planned one at a
 * time, the running ones counted as running): every trial for a sampler without a model;
 * for a model-based sampler its warm-up (or the first `parallel`, if more), since the model
 * proposes the others from the results. With `waves` or `fidelity`: the first wave.
 */
export function previewSweep(config: SweepConfig, sweepId: string, parallel: number): SweepPreview {
  const proposed: Record<string, string> = {};
  if (config.waves !== undefined || config.fidelity) {
    const plan = planTrials({ config, sweepId });
    for (const t of plan.proposed?.trial_ids ?? []) proposed[t] = plan.proposed?.note ?? "";
    const left = config.num_samples - plan.trials.length;
    const rest = config.fidelity
      ? "the next waves (rung 0's others, then the promotions of each rung) are planned from the results"
      : left > 0
        ? `${left} more in later waves, each planned from every result before it`
        : null;
    return { trials: plan.trials, proposed, rest };
  }
  const sampler = createSampler(config.sampler, {
    space: searchSpaceOf(config.search_space),
    seed: config.seed,
    metricMode: "max",
  });
  const warmUp = sampler.warmUpLeft?.([]);
  const known =
    warmUp === undefined || !Number.isFinite(warmUp)
      ? config.num_samples
      : Math.min(config.num_samples, Math.max(warmUp, parallel));
  const trials: PlannedRungTrial[] = [];
  for (let k = 0; k < known; k++) {
    const history = trials.map((t) => plannedRecord(t));
    const plan = planTrials({ config, sweepId, history, count: 1 });
    const trial = plan.trials[0];
    if (!trial) break;
    trials.push(trial);
    if (plan.proposed) proposed[trial.trial_id] = plan.proposed.note;
  }
  const left = config.num_samples - trials.length;
  const rest =
    left > 0 && trials.length === known && known < config.num_samples
      ? `${left} more, proposed by ${resolveSampler(config.sampler)}'s model as results come in`
      : left > 0
        ? `${left} fewer than num_samples: the space has no other untried point`
        : null;
  return { trials, proposed, rest };
}
