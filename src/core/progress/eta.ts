/**
 * How long a sweep has left, from the durations of the trials that finished. Pure: the
 * caller gives the durations, the running trials' elapsed times and the count still waiting.
 */
import { maxOf } from "../limits.js";

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** What the estimate is made from. */
export interface EtaInput {
  /** Durations (ms) of the finished trials, any status; none: no estimate. */
  finishedMs: readonly number[];
  /** How long (ms) each running trial has run so far. */
  runningElapsedMs: readonly number[];
  /** Trials not started yet. */
  waiting: number;
  /** Trials the sweep runs at once. */
  workers: number;
}

/**
 * Milliseconds until the last trial ends, or undefined before any trial finished. Each trial
 * is expected to take the median finished duration m (the median, not the mean: a trainer that
 * crashed in seconds or one that hit its timeout does not swing it); a running trial has
 * m − elapsed left (none once past m: it is taken to end now). The waiting trials are dealt
 * to the workers in turn, each to the one that frees up first, as the worker pool does; the
 * estimate is when the last one ends. Unlike remaining work ÷ workers, the last trial of a
 * sweep counts whole: 1 trial left on 2 workers takes m, not m/2.
 */
export function remainingMs({
  finishedMs,
  runningElapsedMs,
  waiting,
  workers,
}: EtaInput): number | undefined {
  const known = finishedMs.filter((d) => Number.isFinite(d) && d >= 0);
  if (known.length === 0) return undefined;
  const m = median(known);
  const free = runningElapsedMs.map((elapsed) => Math.max(0, m - elapsed));
  while (free.length < Math.max(1, workers)) free.push(0);
  for (let i = 0; i < waiting; i++) {
    let first = 0;
    for (let w = 1; w < free.length; w++) if ((free[w] as number) < (free[first] as number)) first = w;
    free[first] = (free[first] as number) + m;
  }
  return maxOf(free);
}
