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
 */
import { z } from "zod";
import { quote } from "./errors.js";

const finite = z.number().refine(Number.isFinite, { error: "expected a finite number" });

/** The `pruning` section of a sweep config. */
export const PruningSchema = z.strictObject({
  /** The key of `metrics.jsonl` lines the rule judges (`eval_accuracy`, `eval_loss`, ...). */
  metric: z.string().min(1),
  /** Whether a larger (`max`) or smaller (`min`) value of the metric is better. */
  mode: z.enum(["max", "min"]).default("max"),
  /** `median` stopping or `asha`. */
  rule: z.enum(["median", "asha"]).default("asha"),
  /** Steps before any decision (the rules decide at steps >= warmup_steps). */
  warmup_steps: finite.min(0).default(0),
  /** median: decide at steps warmup_steps + k * interval_steps only. */
  interval_steps: finite.positive().default(1),
  /** median: how many other trials must have a value at the step before it decides. */
  min_trials: z.number().int().min(1).default(4),
  /** asha: the reduction factor (the best 1/reduction_factor of a rung go on); > 1. */
  reduction_factor: finite.gt(1).default(3),
  /** asha: the step of the first rung; > 0. */
  min_resource: finite.positive().default(1),
  /** Seconds between SIGTERM and SIGKILL when a pruned trainer is stopped. */
  grace_seconds: finite.min(0).default(30),
});

/** A validated `pruning` section. */
export type PruningConfig = z.infer<typeof PruningSchema>;

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
 * far: a decision when the rule prunes it there, else undefined.
 */
export function decide(
  config: PruningConfig,
  own: IndexedCurve,
  others: Iterable<readonly [string, IndexedCurve]>,
): PruneDecision | undefined {
  const point = own.last;
  if (!point || point.step < config.warmup_steps) return undefined;
  const compared: Record<string, number> = {};
  if (config.rule === "median") {
    if (!isMedianStep(config, point.step)) return undefined;
    for (const [id, curve] of others) {
      const v = curve.at(point.step);
      if (v !== undefined) compared[id] = v;
    }
    const values = Object.values(compared);
    if (values.length < config.min_trials) return undefined;
    const threshold = median(values);
    return worse(config.mode, point.value, threshold)
      ? { rule: "median", step: point.step, value: point.value, threshold, compared }
      : undefined;
  }
  // asha: the rung this point is the first to reach (an earlier point already passed the rungs before).
  const before = own.points[own.points.length - 2];
  const rung = rungSteps(config, point.step)
    .filter((r) => r >= config.warmup_steps && (before === undefined || before.step < r))
    .at(-1);
  if (rung === undefined) return undefined;
  for (const [id, curve] of others) {
    const at = curve.firstAtOrPast(rung);
    if (at !== undefined) compared[id] = at.value;
  }
  const threshold = ashaThreshold(config, [point.value, ...Object.values(compared)]);
  return worse(config.mode, point.value, threshold)
    ? { rule: "asha", step: point.step, value: point.value, threshold, rung, compared }
    : undefined;
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
  return undefined;
}

/**
 * A recorded curve (trials.jsonl `curve`), indexed, or what is wrong with it: steps and
 * values of one length, finite numbers, steps strictly forward.
 */
export function recordedCurve(curve: unknown): IndexedCurve | string {
  const c = curve as Partial<Curve> | null;
  if (c === null || typeof c !== "object" || !Array.isArray(c.steps) || !Array.isArray(c.values))
    return "expected {metric, steps, values}";
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

/** The most points of a curve a trial records (2,000 evaluations; about 40 KB in trials.jsonl). */
export const maxCurvePoints = 2000;

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
