import type { TrialStatus } from "../types.js";

/** What picking the best trial needs to know of a trial record. */
export interface RankedTrial {
  trial_id: string;
  status: TrialStatus;
  primary_score: number | null;
  /** The fidelity the trial ran at (multi-fidelity sweeps); see `bestTrial`. */
  budget?: number;
}

/** Whether a higher or a lower primary_score is better (the sweep config's `metric_mode`). */
export type MetricMode = "max" | "min";

/**
 * Orders trial ids as they were numbered: `t` and digits compare by number (`t9999` before
 * `t10000`, which plain string order gets wrong once ids outgrow four digits); any other
 * ids compare as strings, after the numbered ones.
 */
export function compareTrialIds(a: string, b: string): number {
  const na = /^t(\d+)$/.exec(a);
  const nb = /^t(\d+)$/.exec(b);
  if (na?.[1] !== undefined && nb?.[1] !== undefined) {
    const byNumber = BigInt(na[1]) - BigInt(nb[1]);
    if (byNumber !== 0n) return byNumber < 0n ? -1 : 1;
  } else if (na || nb) {
    return na ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The fidelity level of a trial, for `bestTrial`: its budget, and a trial without one (run
 * at the trainer's own, full budget) above every budgeted trial. When no trial has a
 * budget, all are one level, as before multi-fidelity sweeps.
 */
export function fidelityLevel(trial: Pick<RankedTrial, "budget">): number {
  return typeof trial.budget === "number" && Number.isFinite(trial.budget)
    ? trial.budget
    : Number.POSITIVE_INFINITY;
}

/**
 * The best trial: among completed trials with a score at the highest budget any of them
 * reached, the highest (`max`) or lowest (`min`) primary_score; a tie goes to the earlier
 * trial id. Undefined when no trial qualifies (a trial whose primary_score is null never
 * wins). The budget comes first so that, in a successive-halving sweep, a lucky score at a
 * low budget cannot beat the configurations trained to the full budget; a trial without a
 * budget counts as the highest level (it ran at the trainer's full budget). Both `aggregate`
 * and `verify` pick the best with this function, so they agree.
 */
export function bestTrial<T extends RankedTrial>(
  trials: Iterable<T>,
  mode: MetricMode = "max",
): T | undefined {
  let best: T | undefined;
  for (const trial of trials) {
    if (trial.status !== "completed" || trial.primary_score === null) continue;
    if (best === undefined || best.primary_score === null) {
      best = trial;
      continue;
    }
    const level = fidelityLevel(trial);
    const bestLevel = fidelityLevel(best);
    if (level !== bestLevel) {
      if (level > bestLevel) best = trial;
      continue;
    }
    const better =
      mode === "max" ? trial.primary_score > best.primary_score : trial.primary_score < best.primary_score;
    const tie = trial.primary_score === best.primary_score;
    if (better || (tie && compareTrialIds(trial.trial_id, best.trial_id) < 0)) best = trial;
  }
  return best;
}
