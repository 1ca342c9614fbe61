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

/** The value of a curve at exactly `step`, if it has one. */
export function valueAt(points: readonly CurvePoint[], step: number): number | undefined {
  return points.find((p) => p.step === step)?.value;
}

/** The first point at or past `step`. */
export function firstAtOrPast(points: readonly CurvePoint[], step: number): CurvePoint | undefined {
  return points.find((p) => p.step >= step);
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
 * Decides on the trial's newest point, `points[points.length - 1]`, given the other trials'
 * curves so far: a decision when the rule prunes it there, else undefined.
 */
export function decide(
  config: PruningConfig,
  points: readonly CurvePoint[],
  others: ReadonlyMap<string, readonly CurvePoint[]>,
): PruneDecision | undefined {
  const point = points[points.length - 1];
  if (!point || point.step < config.warmup_steps) return undefined;
  if (config.rule === "median") {
    if (!isMedianStep(config, point.step)) return undefined;
    const compared: Record<string, number> = {};
    for (const [id, curve] of others) {
      const v = valueAt(curve, point.step);
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
  const before = points[points.length - 2];
  const rung = rungSteps(config, point.step)
    .filter((r) => r >= config.warmup_steps && (before === undefined || before.step < r))
    .at(-1);
  if (rung === undefined) return undefined;
  const compared: Record<string, number> = {};
  for (const [id, curve] of others) {
    const at = firstAtOrPast(curve, rung);
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
 * Returns what is wrong, in words, or undefined when the decision holds.
 */
export function checkDecision(
  config: PruningConfig,
  decision: PruneDecision,
  own: readonly CurvePoint[],
  curves: ReadonlyMap<string, readonly CurvePoint[]>,
): string | undefined {
  if (decision.rule !== config.rule)
    return `rule: got ${decision.rule}; the config's pruning rule is ${config.rule}`;
  const at = own.findIndex((p) => p.step === decision.step);
  if (at < 0 || own[at]?.value !== decision.value)
    return `the trial's curve has no value ${decision.value} at step ${decision.step}`;
  for (const [id, value] of Object.entries(decision.compared)) {
    const curve = curves.get(id);
    const theirs =
      curve === undefined
        ? undefined
        : decision.rule === "median"
          ? valueAt(curve, decision.step)
          : firstAtOrPast(curve, decision.rung ?? Number.NaN)?.value;
    if (theirs !== value)
      return `compared.${id}: got ${value}; ${id}'s recorded curve gives ${theirs ?? "no value"} there`;
  }
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
    if (rung === undefined || !rungs.includes(rung))
      return `rung: got ${rung}; expected one of ${rungs.join(", ")}`;
    const previous = own[at - 1];
    if (decision.step < rung || (previous !== undefined && previous.step >= rung))
      return `step ${decision.step} is not the trial's first point at or past rung ${rung}`;
    threshold = ashaThreshold(config, [decision.value, ...values]);
  }
  if (threshold !== decision.threshold)
    return `threshold: got ${decision.threshold}; the recorded values give ${threshold}`;
  if (!worse(config.mode, decision.value, threshold))
    return `its value ${decision.value} at step ${decision.step} is not worse than the threshold ${threshold} (mode ${config.mode}): it should not have been pruned`;
  return undefined;
}

/** A curve as points. */
export function curvePoints(curve: Curve | undefined): CurvePoint[] {
  if (!curve) return [];
  return curve.steps.map((step, i) => ({ step, value: curve.values[i] as number }));
}

/**
 * Reads the pruning metric from `metrics.jsonl` lines as they come, keeping a clean curve: a
 * line that is not a JSON object, lacks a numeric `step` or the metric, has a value that is no
 * finite number, or a step that does not go forward is skipped, with one note per kind.
 */
export class CurveReader {
  readonly points: CurvePoint[] = [];
  readonly notes = new Map<string, string>();
  #sawMetric = false;

  constructor(private readonly metric: string) {}

  /** Adds one complete line; the new point when it makes one. */
  add(text: string, line: number): CurvePoint | undefined {
    if (text.trim() === "") return undefined;
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
    if (!(this.metric in record)) return undefined;
    this.#sawMetric = true;
    const step = record.step;
    const v = record[this.metric];
    if (typeof step !== "number" || !Number.isFinite(step)) {
      this.#note(
        "step",
        `metrics.jsonl:${line}: step: got ${JSON.stringify(step) ?? "nothing"}; expected a number; lines without one are skipped`,
      );
      return undefined;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.#note(
        "value",
        `metrics.jsonl:${line}: ${this.metric}: got ${JSON.stringify(v)}; expected a finite number; such lines are skipped`,
      );
      return undefined;
    }
    const last = this.points[this.points.length - 1];
    if (last && step <= last.step) {
      this.#note(
        "backwards",
        `metrics.jsonl:${line}: step ${step} does not follow step ${last.step}; steps that do not go forward are skipped`,
      );
      return undefined;
    }
    const point = { step, value: v };
    this.points.push(point);
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
