import type { TrialStatus } from "./types.js";

/** What picking the best trial needs to know of a trial record. */
export interface RankedTrial {
  trial_id: string;
  status: TrialStatus;
  primary_score: number | null;
  /** The fidelity the trial ran at (multi-fidelity sweeps); see `bestTrial`. */
  budget?: number;
}

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

/** Whether a trial can be ranked: it completed with a primary_score. A null score never wins. */
export function isScored<T extends RankedTrial>(trial: T): trial is T & { primary_score: number } {
  return trial.status === "completed" && typeof trial.primary_score === "number";
}

/**
 * The one order of scored trials, best first: the highest fidelity level (`fidelityLevel`),
 * then the highest primary_score (higher is better by definition: it is the share of correct
 * answers), then the earlier trial id. The best trial, the leaderboard and the promotions of
 * successive halving all follow it. The budget comes first so that, in a successive-halving
 * sweep, a lucky score at a low budget cannot beat the configurations trained to the full
 * budget.
 */
export function compareTrials(
  a: RankedTrial & { primary_score: number },
  b: RankedTrial & { primary_score: number },
): number {
  const la = fidelityLevel(a);
  const lb = fidelityLevel(b);
  if (la !== lb) return la > lb ? -1 : 1;
  if (a.primary_score !== b.primary_score) return a.primary_score > b.primary_score ? -1 : 1;
  return compareTrialIds(a.trial_id, b.trial_id);
}

/** The scored trials of a list, best first (`compareTrials`). */
export function rankTrials<T extends RankedTrial>(trials: Iterable<T>): Array<T & { primary_score: number }> {
  return [...trials].filter(isScored).sort(compareTrials);
}

/**
 * The best trial: the first of the scored trials in `compareTrials` order; undefined when no
 * trial completed with a score. `aggregate`, the live progress line and `verify` all pick the
 * best with it, so they agree.
 */
export function bestTrial<T extends RankedTrial>(trials: Iterable<T>): T | undefined {
  let best: (T & { primary_score: number }) | undefined;
  for (const trial of trials) {
    if (isScored(trial) && (best === undefined || compareTrials(trial, best) < 0)) best = trial;
  }
  return best;
}
