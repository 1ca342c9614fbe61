// Waves and successive halving across waves. Pure: the next wave of a
// sweep is a function of its config and its trial records so far, so `tunix-rt plan
// --history` on GitHub and `tunix-rt sweep` on one machine plan the same waves.
//
// Successive halving (Jamieson & Talwalkar 2016; Li et al., "Hyperband", 2018), synchronous:
// rung 0 runs num_samples configurations at min_budget (in waves of q when `waves` > 1, so a
// model-based sampler learns between them); rung r runs the best floor(n_{r-1} / eta) (at
// least 1) completed configurations of rung r-1 at eta times the budget, the last rung at
// exactly max_budget. A promotion is a new trial (new id) with its parent's params and seed,
// `rung` and `parent` set, so a trainer that resumes from the parent's checkpoint continues
// the very run it would have made at the full budget, and one that starts over repeats it.

import { compareTrialIds, rankTrials } from "../best-trial.js";
import type { FidelityConfig, SweepConfig } from "../config/config.js";
import type { Params, PlannedTrial, TrialRecord } from "../types.js";

/**
 * A planned trial with the multi-fidelity fields: `budget` (from PlannedTrial), the `rung`
 * it runs at and, for a promotion, the `parent` trial (the same configuration one rung
 * lower) whose folder holds the checkpoint it may resume from.
 */
export type PlannedRungTrial = PlannedTrial & { rung?: number; parent?: string };

/**
 * The `rung`, `parent`, `repeat_of` and `wave` of a planned trial, for its record
 * (trial.json, trials.jsonl), in that order; each only when the plan set it (a sweep without
 * fidelity has no rung, one planned trial by trial no wave, only a re-evaluation run a
 * `repeat_of`).
 */
export function rungFields(trial: PlannedRungTrial): {
  rung?: number;
  parent?: string;
  repeat_of?: string;
  wave?: number;
} {
  return {
    ...(typeof trial.rung === "number" ? { rung: trial.rung } : {}),
    ...(typeof trial.parent === "string" ? { parent: trial.parent } : {}),
    ...(typeof trial.repeat_of === "string" ? { repeat_of: trial.repeat_of } : {}),
    ...(typeof trial.wave === "number" ? { wave: trial.wave } : {}),
  };
}

/** Budgets this close (relative) are one rung: budgets are computed in floating point. */
const budgetTolerance = 1e-9;

/** A computed budget without floating-point dust (0.1 * 3 ** 2 is 0.9, not 0.9000000000000001). */
function cleanBudget(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * The budgets of the rungs: min_budget * eta^r while below max_budget, then max_budget
 * itself (so the last rung is exactly the full budget, and a ladder whose step overshoots
 * is capped). min_budget == max_budget gives one rung.
 */
export function rungBudgets(fidelity: Pick<FidelityConfig, "min_budget" | "max_budget" | "eta">): number[] {
  const { min_budget: min, max_budget: max, eta } = fidelity;
  const budgets: number[] = [];
  for (let r = 0; ; r++) {
    const b = cleanBudget(min * eta ** r);
    if (b >= max * (1 - budgetTolerance)) break;
    budgets.push(b);
  }
  budgets.push(max);
  return budgets;
}

/**
 * How many configurations each rung runs: n_0 = num_samples, n_r = floor(n_{r-1} / eta),
 * at least 1. Fewer run when fewer of the rung below completed with a score.
 */
export function rungSizes(numSamples: number, eta: number, rungs: number): number[] {
  const sizes = [numSamples];
  for (let r = 1; r < rungs; r++) sizes.push(Math.max(1, Math.floor((sizes[r - 1] ?? 1) / eta + 1e-9)));
  return sizes;
}

/** The rung whose budget a record ran at, or undefined (no budget, or one off the ladder). */
export function rungOfBudget(budgets: readonly number[], budget: unknown): number | undefined {
  if (typeof budget !== "number" || !Number.isFinite(budget)) return undefined;
  const r = budgets.findIndex((b) => Math.abs(b - budget) <= budgetTolerance * Math.max(1, Math.abs(b)));
  return r < 0 ? undefined : r;
}

/**
 * The most waves a sweep without a `waves` key is planned in (one per round of the runners,
 * up to this many). A config that sets `waves` takes as many as it says.
 */
export const maxDefaultWaves = 8;

/** What a wave schedule depends on. */
export type WaveConfig = Pick<SweepConfig, "num_samples" | "waves" | "max_concurrent_trials"> &
  Partial<Pick<SweepConfig, "fidelity">>;

/**
 * How many waves a sweep is planned in where a wave is a batch of jobs (a GitHub workflow,
 * `tunix-rt plan`): `waves` when the config sets it; else, with `fidelity`, 1 (rung 0 at once;
 * the rungs follow as waves of their own); else one wave per round of the runners,
 * ceil(num_samples / max_concurrent_trials), at most `maxDefaultWaves`. So every trial of a
 * wave can run at once, and each later wave is proposed from every score before it: a
 * model-based sampler learns without any `waves` key. (A local sweep without `waves` needs
 * no waves at all: it plans each trial when a worker frees up.)
 */
export function scheduledWaves(config: WaveConfig): number {
  if (config.waves !== undefined) return config.waves;
  if (config.fidelity) return 1;
  return Math.min(maxDefaultWaves, Math.ceil(config.num_samples / Math.max(1, config.max_concurrent_trials)));
}

/** The size of a wave: ceil(num_samples / `scheduledWaves`). */
export function waveSize(config: WaveConfig): number {
  return Math.ceil(config.num_samples / Math.max(1, scheduledWaves(config)));
}

/** What the whole schedule of waves depends on: the waves, the rungs, the re-evaluation. */
export type ScheduleConfig = WaveConfig & Partial<Pick<SweepConfig, "reevaluate">>;

/**
 * How many waves a config's schedule takes at most where a wave is a batch of jobs (a GitHub
 * workflow has one plan job and one matrix job per wave): ceil(num_samples / wave size) plain
 * waves (rung 0 with fidelity), then one wave per further rung of successive halving, then
 * one for `reevaluate`. A sweep can take fewer (a grid runs out of points, a rung has nothing
 * to promote).
 */
export function wavesNeeded(config: ScheduleConfig): number {
  const plain = Math.ceil(config.num_samples / waveSize(config));
  const rungs = config.fidelity ? rungBudgets(config.fidelity).length - 1 : 0;
  return plain + rungs + (config.reevaluate ? 1 : 0);
}

/**
 * Why one wave of the schedule would plan more trials than one job matrix may hold (`limit`,
 * GitHub's 256), naming the wave and what to change; undefined when every wave fits. The
 * waves: a plain wave (or one of rung 0), a rung's promotions (one wave per rung, up to
 * floor(n / eta) of the rung below). (The re-evaluation wave, top_k x repeats, is held to
 * 256 by the config's own rules.)
 */
export function matrixLimitProblem(config: ScheduleConfig, limit: number): string | undefined {
  const size = waveSize(config);
  const waves = scheduledWaves(config);
  if (size > limit) {
    return `a wave of ${size} trials (num_samples ${config.num_samples} in ${waves} wave${waves === 1 ? "" : "s"}) exceeds the ${limit} jobs one GitHub matrix may hold; raise waves to at least ${Math.ceil(config.num_samples / limit)} or lower num_samples`;
  }
  if (config.fidelity) {
    const budgets = rungBudgets(config.fidelity);
    const sizes = rungSizes(config.num_samples, config.fidelity.eta, budgets.length);
    for (let r = 1; r < sizes.length; r++) {
      const n = sizes[r] as number;
      if (n > limit) {
        return `rung ${r} of successive halving promotes ${n} trials in one wave (floor(${sizes[r - 1]} / eta ${config.fidelity.eta})), over the ${limit} jobs one GitHub matrix may hold; lower num_samples or raise fidelity.eta`;
      }
    }
  }
  return undefined;
}

/** One configuration going up a rung. */
export interface Promotion {
  /** The trial at the rung below: the promotion's `parent`. */
  parent: string;
  params: Params;
  /** The parent's trainer seed, kept so the promotion continues (or repeats) the same run. */
  seed: number | undefined;
}

/** What the next wave of a successive-halving sweep is. */
export type NextRungWave =
  /** Rung 0 is not full: the sampler proposes `count` new configurations at `budget`. */
  | { kind: "sample"; rung: 0; budget: number; count: number }
  /** Rung `rung` runs these configurations of the rung below, best first. */
  | { kind: "promote"; rung: number; budget: number; promotions: Promotion[] }
  /**
   * Nothing can be planned until the rung below finishes: a trial of it is still `running`.
   * (A sweep plans a wave only after the last one finished, so it does not see this.)
   */
  | { kind: "wait"; rung: number; reason: string }
  /** Nothing is left to run: every rung is filled, or a rung had no configuration to promote. */
  | { kind: "done"; reason: string };

/** The history records of each rung (records whose budget is on the ladder), in trial id order. */
export function recordsByRung(budgets: readonly number[], history: readonly TrialRecord[]): TrialRecord[][] {
  const rungs: TrialRecord[][] = budgets.map(() => []);
  for (const record of history) {
    const r = rungOfBudget(budgets, record.budget);
    if (r !== undefined) rungs[r]?.push(record);
  }
  for (const records of rungs) records.sort((a, b) => compareTrialIds(a.trial_id, b.trial_id));
  return rungs;
}

const paramsText = (params: Params) =>
  JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );

/**
 * The next wave of a successive-halving sweep, from its config and its trial records so far
 * (any status; records whose budget is not on the ladder are ignored). Rung 0 fills first,
 * in waves of `waveSize(config)`; then each rung in turn gets the best of the rung below
 * that have no promotion yet (a record of the rung whose `parent` is them, or, for a record
 * without `parent`, the same params). `count` caps the wave (the rest comes next time).
 * Throws when the config has no `fidelity`.
 */
export function nextRungTrials(
  config: SweepConfig,
  history: readonly TrialRecord[],
  { count }: { count?: number } = {},
): NextRungWave {
  const fidelity = config.fidelity;
  if (!fidelity) throw new Error("nextRungTrials: the config has no fidelity section");
  const budgets = rungBudgets(fidelity);
  const sizes = rungSizes(config.num_samples, fidelity.eta, budgets.length);
  const byRung = recordsByRung(budgets, history);
  const cap = (n: number) => (count === undefined ? n : Math.min(n, count));

  const rung0 = byRung[0] ?? [];
  const n0 = sizes[0] ?? config.num_samples;
  if (rung0.length < n0) {
    return {
      kind: "sample",
      rung: 0,
      budget: budgets[0] as number,
      count: cap(Math.min(waveSize(config), n0 - rung0.length)),
    };
  }
  for (let r = 1; r < budgets.length; r++) {
    const below = byRung[r - 1] ?? [];
    const running = below.find((t) => t.status === "running");
    if (running) {
      return {
        kind: "wait",
        rung: r,
        reason: `trial ${running.trial_id} of rung ${r - 1} is still running; rung ${r} is chosen when it finishes`,
      };
    }
    // Best first, as the best trial is chosen (ties to the earlier trial id).
    const chosen = rankTrials(below).slice(0, sizes[r]);
    if (chosen.length === 0) {
      return { kind: "done", reason: `no trial of rung ${r - 1} completed with a score; nothing to promote` };
    }
    const here = byRung[r] ?? [];
    const parents = new Set(here.map((t) => t.parent).filter((p): p is string => typeof p === "string"));
    const paramsHere = new Set(
      here.filter((t) => typeof t.parent !== "string").map((t) => paramsText(t.params)),
    );
    const missing = chosen.filter((t) => !parents.has(t.trial_id) && !paramsHere.has(paramsText(t.params)));
    if (missing.length > 0) {
      return {
        kind: "promote",
        rung: r,
        budget: budgets[r] as number,
        promotions: missing.slice(0, cap(missing.length)).map((t) => ({
          parent: t.trial_id,
          params: { ...t.params },
          seed:
            typeof t.seed === "number" && Number.isSafeInteger(t.seed) && t.seed >= 0 ? t.seed : undefined,
        })),
      };
    }
  }
  return { kind: "done", reason: `every rung is filled (budgets ${budgets.join(", ")})` };
}

/**
 * The records a sampler learns from in a successive-halving sweep: rung 0's only. Scores at
 * different budgets are not comparable, and every configuration ever tried ran at rung 0, so
 * deduplication loses nothing. Rung 0 of a sweep holds the same configurations as a
 * full-budget sweep of the same seed and waves would (the same sampler, the same history size).
 */
export function samplerHistory(config: SweepConfig, history: readonly TrialRecord[]): TrialRecord[] {
  if (!config.fidelity) return [...history];
  return recordsByRung(rungBudgets(config.fidelity), history)[0] ?? [];
}
