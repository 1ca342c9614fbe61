/**
 * Pruning: stopping a trial that is plainly losing while it trains, judged on a metric its
 * trainer appends to `metrics.jsonl` (one JSON object a line, with `step` and the metric).
 *
 * Two rules, each a pure function of curves (step → value) so that `verify` can decide again
 * what the sweep decided:
 * - `median` (median stopping, as Optuna's MedianPruner): at a decision step past the warm-up,
 *   the trial is pruned when its value there is worse than the median of the other trials'
 *   values at that same step, given at least `min_trials` of them;
 * - `asha` (asynchronous successive halving, as Optuna's SuccessiveHalvingPruner and Ray
 *   Tune's ASHA): rungs at steps `min_resource * reduction_factor^k`; when the trial first
 *   reports a step at or past a rung, its value there competes with the other trials' values
 *   at that rung, and it goes on only when it is in the best 1/reduction_factor of them (with
 *   fewer than reduction_factor values, only when it is the best, as Optuna does).
 * With `protect_leaders` (the default), neither rule prunes a trial whose value already beats
 * the final value (the last point) of every completed trial: stopping it could only leave the
 * sweep a worse recommendation than the trial already is. Without it, early values of trials
 * that later collapsed (a diverging run, good at a rung and poor at its end) can set a cut
 * that every later trial fails, until the only trials left to recommend are collapsed ones.
 */

import type { PruningConfig } from "../config/pruning.js";
import { quote } from "../errors.js";

export { type PruningConfig, PruningSchema } from "../config/pruning.js";

/** One point of a curve: the metric's value at a step. */
export interface CurvePoint {
  step: number;
  value: number;
}

/** A trial's curve of the pruning metric, as trials.jsonl records it. */
export interface Curve {
  metric: string;
  steps: number[];
  values: number[];
}

/** Why a trial was pruned, as its record keeps it (`pruned` in trial.json and trials.jsonl). */
export interface PruneDecision {
  rule: "median" | "asha";
  /** The step the decision was taken at (the trial's own point). */
  step: number;
  /** The trial's value at that step. */
  value: number;
  /** The value the rule required (the median, or the rung's cut). */
  threshold: number;
  /** asha: the rung's step. */
  rung?: number;
  /** The other trials' values the threshold was taken over, by trial id. */
  compared: Record<string, number>;
  /**
   * protect_leaders: the best final value (its curve's last point) of the trials that had
   * completed, which the trial's value did not beat; absent when none had completed.
   */
  incumbent?: { trial: string; value: number };
}

/** `a` is strictly worse than `b` for the mode. */
const worse = (mode: PruningConfig["mode"], a: number, b: number) => (mode === "max" ? a < b : a > b);

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * A curve whose steps go strictly forward, indexed: its value at a step from a map, its first
 * point at or past a step by binary search, so that a decision over many long curves costs
 * their count, not their length.
 */
export class IndexedCurve {
  readonly points: CurvePoint[] = [];
  readonly #byStep = new Map<number, number>();

  /** A curve of these points (their steps must go strictly forward). */
  static of(points: Iterable<CurvePoint>): IndexedCurve {
    const curve = new IndexedCurve();
    for (const p of points) curve.push(p);
    return curve;
  }

  /** Adds the next point (its step past the last one's). */
  push(point: CurvePoint): void {
    this.points.push(point);
    this.#byStep.set(point.step, point.value);
  }

  get last(): CurvePoint | undefined {
    return this.points[this.points.length - 1];
  }

  /** The value at exactly `step`, if the curve has one. */
  at(step: number): number | undefined {
    return this.#byStep.get(step);
  }

  /** The index of the first point at or past `step` (the length when there is none). */
  indexAtOrPast(step: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.points[mid] as CurvePoint).step < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first point at or past `step`. */
  firstAtOrPast(step: number): CurvePoint | undefined {
    return this.points[this.indexAtOrPast(step)];
  }
}

/** The rungs' steps up to `through`: min_resource * reduction_factor^k. */
export function rungSteps(config: PruningConfig, through: number): number[] {
  const steps: number[] = [];
  for (let r = config.min_resource; r <= through && steps.length < 64; r *= config.reduction_factor)
    steps.push(r);
  return steps;
}

/** Whether `step` is one the median rule decides at. */
export function isMedianStep(config: PruningConfig, step: number): boolean {
  if (step < config.warmup_steps) return false;
  const k = (step - config.warmup_steps) / config.interval_steps;
  return Math.abs(k - Math.round(k)) < 1e-9;
}

/** The cut of an asha rung: the value a trial must reach to go on, of all values there (its own included). */
export function ashaThreshold(config: PruningConfig, values: readonly number[]): number {
  const best = [...values].sort((a, b) => (config.mode === "max" ? b - a : a - b));
  const index = Math.max(0, Math.floor(best.length / config.reduction_factor) - 1);
  return best[index] as number;
}

/**
 * Decides on the trial's newest point, the last of `own`, given the other trials' curves so
 * far (`completed`: the ids of those that completed, whose last point is their final value):
 * a decision when the rule prunes it there, else undefined.
 */
export function decide(
  config: PruningConfig,
  own: IndexedCurve,
  others: Iterable<readonly [string, IndexedCurve]>,
  completed: ReadonlySet<string> = new Set(),
): PruneDecision | undefined {
  const point = own.last;
  if (!point || point.step < config.warmup_steps) return undefined;
  let rung: number | undefined;
  if (config.rule === "median") {
    if (!isMedianStep(config, point.step)) return undefined;
  } else {
    // asha: the rung this point is the first to reach (an earlier point already passed the rungs before).
    const before = own.points[own.points.length - 2];
    rung = rungSteps(config, point.step)
      .filter((r) => r >= config.warmup_steps && (before === undefined || before.step < r))
      .at(-1);
    if (rung === undefined) return undefined;
  }
  const compared: Record<string, number> = {};
  let incumbent: PruneDecision["incumbent"];
  for (const [id, curve] of others) {
    const v = rung === undefined ? curve.at(point.step) : curve.firstAtOrPast(rung)?.value;
    if (v !== undefined) compared[id] = v;
    const final = config.protect_leaders && completed.has(id) ? curve.last : undefined;
    if (final && (incumbent === undefined || worse(config.mode, incumbent.value, final.value)))
      incumbent = { trial: id, value: final.value };
  }
  const values = Object.values(compared);
  let decision: PruneDecision;
  if (rung === undefined) {
    if (values.length < config.min_trials) return undefined;
    decision = { rule: "median", step: point.step, value: point.value, threshold: median(values), compared };
  } else {
    const threshold = ashaThreshold(config, [point.value, ...values]);
    decision = { rule: "asha", step: point.step, value: point.value, threshold, rung, compared };
  }
  if (!worse(config.mode, point.value, decision.threshold)) return undefined;
  // protect_leaders: a trial ahead of every completed trial's final value goes on.
  if (incumbent && worse(config.mode, incumbent.value, point.value)) return undefined;
  return incumbent ? { ...decision, incumbent } : decision;
}

/**
 * Checks a recorded decision against the recorded curves, as `verify` does: the trial's point,
 * each compared value, the threshold, and that the value was on the pruned side of it.
 * Returns what is wrong, in words, or undefined when the decision holds. Every value of the
 * decision comes from evidence: each is quoted, and each lookup is by index (no scan).
 */
export function checkDecision(
  config: PruningConfig,
  decision: PruneDecision,
  own: IndexedCurve,
  curves: ReadonlyMap<string, IndexedCurve>,
  completed: ReadonlySet<string> = new Set(),
): string | undefined {
  if (decision.rule !== config.rule)
    return `rule: got ${quote(decision.rule)}; the config's pruning rule is ${config.rule}`;
  if (typeof decision.step !== "number" || own.at(decision.step) !== decision.value)
    return `the trial's curve has no value ${quote(decision.value)} at step ${quote(decision.step)}`;
  for (const [id, value] of Object.entries(decision.compared)) {
    const curve = curves.get(id);
    const theirs =
      curve === undefined
        ? undefined
        : decision.rule === "median"
          ? curve.at(decision.step)
          : curve.firstAtOrPast(typeof decision.rung === "number" ? decision.rung : Number.NaN)?.value;
    if (theirs !== value)
      return `compared.${id}: got ${quote(value)}; ${id}'s recorded curve gives ${theirs ?? "no value"} there`;
  }
  // Each compared value is now a finite number of a recorded curve.
  const values = Object.values(decision.compared);
  let threshold: number;
  if (decision.rule === "median") {
    if (!isMedianStep(config, decision.step))
      return `step ${decision.step} is no step the median rule decides at`;
    if (values.length < config.min_trials)
      return `compared holds ${values.length} trials; the median rule decides with at least ${config.min_trials}`;
    threshold = median(values);
  } else {
    const rung = decision.rung;
    const rungs = rungSteps(config, decision.step);
    if (typeof rung !== "number" || !rungs.includes(rung))
      return `rung: got ${quote(rung)}; expected one of ${rungs.join(", ")}`;
    const previous = own.points[own.indexAtOrPast(decision.step) - 1];
    if (decision.step < rung || (previous !== undefined && previous.step >= rung))
      return `step ${decision.step} is not the trial's first point at or past rung ${rung}`;
    threshold = ashaThreshold(config, [decision.value, ...values]);
  }
  if (threshold !== decision.threshold)
    return `threshold: got ${quote(decision.threshold)}; the recorded values give ${threshold}`;
  if (!worse(config.mode, decision.value, threshold))
    return `its value ${decision.value} at step ${decision.step} is not worse than the threshold ${threshold} (mode ${config.mode}): it should not have been pruned`;
  return checkIncumbent(config, decision, curves, completed);
}

/** protect_leaders: the decision's incumbent, a completed trial's final value the trial did not beat. */
function checkIncumbent(
  config: PruningConfig,
  decision: PruneDecision,
  curves: ReadonlyMap<string, IndexedCurve>,
  completed: ReadonlySet<string>,
): string | undefined {
  const incumbent = decision.incumbent as unknown;
  if (incumbent === undefined) return undefined;
  if (!config.protect_leaders)
    return "incumbent: recorded, but the config's protect_leaders is false (no trial is protected)";
  const { trial, value } = (incumbent ?? {}) as { trial?: unknown; value?: unknown };
  if (typeof trial !== "string" || typeof value !== "number")
    return `incumbent: got ${quote(incumbent)}; expected {trial, value}`;
  if (!completed.has(trial)) return `incumbent: ${quote(trial)} is no completed trial`;
  const final = curves.get(trial)?.last?.value;
  if (final !== value)
    return `incumbent.value: got ${quote(value)}; ${trial}'s recorded curve ends at ${final ?? "no value"}`;
  if (worse(config.mode, value, decision.value))
    return `its value ${decision.value} at step ${decision.step} beats the final value ${value} of the completed trial ${trial} (mode ${config.mode}): protect_leaders should have kept it`;
  return undefined;
}

/** The most points of a curve a trial records (2,000 evaluations; about 40 KB in trials.jsonl). */
export const maxCurvePoints = 2000;

/**
 * A recorded curve (trials.jsonl `curve`), indexed, or what is wrong with it: steps and
 * values of one length, finite numbers, steps strictly forward.
 */
export function recordedCurve(curve: unknown): IndexedCurve | string {
  const c = curve as Partial<Curve> | null;
  if (c === null || typeof c !== "object" || !Array.isArray(c.steps) || !Array.isArray(c.values))
    return "expected {metric, steps, values}";
  // A sweep records at most maxCurvePoints: a longer curve was not written by one, and its
  // work (verify, the report) stays bounded by that.
  if (c.steps.length > maxCurvePoints)
    return `holds ${c.steps.length} points; a trial records at most ${maxCurvePoints}`;
  if (c.steps.length !== c.values.length)
    return `steps has ${c.steps.length} numbers and values ${c.values.length}; expected one value per step`;
  const out = new IndexedCurve();
  for (let i = 0; i < c.steps.length; i++) {
    const step = c.steps[i];
    const value = c.values[i];
    if (!Number.isFinite(step) || !Number.isFinite(value))
      return `point ${i + 1}: got step ${quote(step)}, value ${quote(value)}; expected finite numbers`;
    const last = out.last;
    if (last && (step as number) <= last.step)
      return `point ${i + 1}: step ${step} does not follow step ${last.step}`;
    out.push({ step: step as number, value: value as number });
  }
  return out;
}

/**
 * Reads the pruning metric from `metrics.jsonl` lines as they come, keeping a clean curve: a
 * line that is not a JSON object, lacks a numeric `step` or the metric, has a value that is no
 * finite number, or a step that does not go forward is skipped, with one note per kind.
 */
export class CurveReader {
  /** The clean curve so far. */
  readonly curve = new IndexedCurve();
  readonly notes = new Map<string, string>();
  #sawMetric = false;

  /**
   * @param maxPoints the most points kept (`maxCurvePoints`): each is recorded in trial.json
   * and trials.jsonl, so a trainer that logs the metric every step must not grow them unbounded.
   */
  constructor(
    private readonly metric: string,
    private readonly maxPoints = maxCurvePoints,
  ) {}

  /** Adds one complete line; the new point when it makes one. */
  add(text: string, line: number): CurvePoint | undefined {
    if (text.trim() === "") return undefined;
    if (this.curve.points.length >= this.maxPoints) {
      this.#note(
        "full",
        `metrics.jsonl:${line}: the curve holds ${this.maxPoints} points of ${this.metric}, the most kept; later lines are not judged`,
      );
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#note("json", `metrics.jsonl:${line}: not a JSON object; lines like it are skipped`);
      return undefined;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.#note("json", `metrics.jsonl:${line}: not a JSON object; lines like it are skipped`);
      return undefined;
    }
    const record = value as Record<string, unknown>;
    if (!Object.hasOwn(record, this.metric)) return undefined;
    this.#sawMetric = true;
    const step = record.step;
    const v = record[this.metric];
    if (typeof step !== "number" || !Number.isFinite(step)) {
      this.#note(
        "step",
        `metrics.jsonl:${line}: step: got ${step === undefined ? "nothing" : quote(step)}; expected a number; lines without one are skipped`,
      );
      return undefined;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.#note(
        "value",
        `metrics.jsonl:${line}: ${this.metric}: got ${quote(v)}; expected a finite number; such lines are skipped`,
      );
      return undefined;
    }
    const last = this.curve.last;
    if (last && step <= last.step) {
      this.#note(
        "backwards",
        `metrics.jsonl:${line}: step ${step} does not follow step ${last.step}; steps that do not go forward are skipped`,
      );
      return undefined;
    }
    const point = { step, value: v };
    this.curve.push(point);
    return point;
  }

  /** Whether any line had the metric (a trainer that never writes it is never pruned). */
  get sawMetric(): boolean {
    return this.#sawMetric;
  }

  #note(kind: string, text: string): void {
    if (!this.notes.has(kind)) this.notes.set(kind, text);
  }
}
