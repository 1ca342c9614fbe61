// How the model-based samplers (gp, tpe) see a search space and a history: each parameter
// as one model coordinate, and the history split into scored points, points still to be
// believed (running or failed) and points already tried.
//
// Coordinates:
// - uniform, loguniform, randint, quniform, qloguniform: "numeric", the unit value of
//   `toUnit` in [0, 1] (log scale for the log types). Integers and q types are modelled as
//   continuous and rounded when decoded (`fromUnit`); `snap` moves a coordinate to the
//   value it decodes to, so a model scores the point that will actually run.
// - choice whose values are all numbers (batch sizes, widths, warmup steps): "numeric" too,
//   ordered: the distinct values sorted by size, value i of n at (i + 0.5) / n. Ordinal
//   positions, not the values themselves, so 16, 32, 64, 128 are equally spaced (a batch
//   size grid is usually geometric) and 1, 2, 3 too.
// - any other choice (strings, booleans, a mix): "categorical", the index of the value;
//   the models treat categories as unordered (gp: a Hamming distance; tpe: a smoothed
//   categorical distribution).
// - a parameter with a single value (min = max, one choice) has no coordinate.

import type { ParamSpec } from "../../config/config.js";
import { choiceIndex, fromUnit, isInSpace, paramsKey, type SearchSpace, toUnit } from "../../config/space.js";
import { minOf } from "../../limits.js";
import type { Params, ParamValue, TrialRecord } from "../../types.js";
import type { MetricMode } from "./sampler.js";

/** One model coordinate. */
export interface Coordinate {
  /** The parameter's position in the space. */
  param: number;
  /** numeric: a value in [0, 1], ordered; categorical: an index in 0..levels-1, unordered. */
  kind: "numeric" | "categorical";
  /** Categorical: the number of values. Numeric: 0. */
  levels: number;
  /** Numeric: whether only some values of [0, 1] decode to distinct points (integers, q, choice). */
  discrete: boolean;
}

/** A search space as model coordinates, with the maps both ways. */
export interface Encoding {
  readonly space: SearchSpace;
  readonly coords: readonly Coordinate[];
  /** The coordinates of a params object, or undefined when a parameter is outside the space. */
  encode(params: Readonly<Params>): Float64Array | undefined;
  /** The params object of a coordinate vector (every parameter of the space, in order). */
  decode(x: ArrayLike<number>): Params;
  /** Moves discrete numeric coordinates to the value they decode to, in place. */
  snap(x: Float64Array): void;
}

const isOrderedChoice = (values: readonly ParamValue[]): boolean =>
  values.length > 0 && values.every((v) => typeof v === "number" && Number.isFinite(v));

/** The sorted distinct values of an all-numeric choice. */
const orderedValues = (values: readonly ParamValue[]): number[] =>
  [...new Set(values as number[])].sort((a, b) => a - b);

const singleValued = (spec: ParamSpec): boolean =>
  spec.type === "choice" ? new Set(spec.values).size <= 1 : "min" in spec && spec.min === spec.max;

/** Builds the encoding of a space (see the file comment for each type). */
export function encodeSpace(space: SearchSpace): Encoding {
  const coords: Coordinate[] = [];
  const ordered = new Map<number, number[]>();
  space.forEach(({ spec }, param) => {
    if (singleValued(spec)) return;
    if (spec.type === "choice") {
      if (isOrderedChoice(spec.values)) {
        ordered.set(param, orderedValues(spec.values));
        coords.push({ param, kind: "numeric", levels: 0, discrete: true });
      } else {
        coords.push({ param, kind: "categorical", levels: spec.values.length, discrete: true });
      }
      return;
    }
    coords.push({
      param,
      kind: "numeric",
      levels: 0,
      discrete: spec.type !== "uniform" && spec.type !== "loguniform",
    });
  });

  const valueAt = (param: number, u: number): ParamValue => {
    const spec = space[param]?.spec as ParamSpec;
    const sorted = ordered.get(param);
    if (sorted)
      return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(u * sorted.length)))] ?? null;
    return fromUnit(spec, u);
  };

  return {
    space,
    coords,
    encode(params) {
      const x = new Float64Array(coords.length);
      for (let j = 0; j < coords.length; j++) {
        const { param, kind } = coords[j] as Coordinate;
        const { name, spec } = space[param] as { name: string; spec: ParamSpec };
        const value = params[name];
        if (!Object.hasOwn(params, name) || !isInSpace(spec, value)) return undefined;
        const sorted = ordered.get(param);
        if (sorted) x[j] = (sorted.indexOf(value as number) + 0.5) / sorted.length;
        else if (kind === "categorical" && spec.type === "choice") x[j] = choiceIndex(spec, value);
        else x[j] = toUnit(spec, value) ?? 0.5;
      }
      // Single-valued parameters must hold their one value too.
      for (const { name, spec } of space)
        if (singleValued(spec) && (!Object.hasOwn(params, name) || !isInSpace(spec, params[name])))
          return undefined;
      return x;
    },
    decode(x) {
      const params: Params = {};
      const byParam = new Map<number, number>();
      coords.forEach((c, j) => {
        byParam.set(c.param, j);
      });
      space.forEach(({ name, spec }, param) => {
        const j = byParam.get(param);
        if (j === undefined) {
          params[name] = spec.type === "choice" ? (spec.values[0] ?? null) : fromUnit(spec, 0);
          return;
        }
        const c = coords[j] as Coordinate;
        const v = x[j] ?? 0;
        params[name] =
          c.kind === "categorical" && spec.type === "choice"
            ? (spec.values[Math.min(c.levels - 1, Math.max(0, Math.round(v)))] ?? null)
            : valueAt(param, v);
      });
      return params;
    },
    snap(x) {
      for (let j = 0; j < coords.length; j++) {
        const c = coords[j] as Coordinate;
        const v = x[j] ?? 0;
        if (c.kind === "categorical") {
          x[j] = Math.min(c.levels - 1, Math.max(0, Math.round(v)));
          continue;
        }
        const clamped = Math.min(1, Math.max(0, v));
        if (!c.discrete) {
          x[j] = clamped;
          continue;
        }
        const sorted = ordered.get(c.param);
        if (sorted) {
          const i = Math.min(sorted.length - 1, Math.floor(clamped * sorted.length));
          x[j] = (i + 0.5) / sorted.length;
        } else {
          const spec = space[c.param]?.spec as ParamSpec;
          x[j] = toUnit(spec, fromUnit(spec, clamped)) ?? clamped;
        }
      }
    },
  };
}

/** The scored and unscored trials of a history, as model coordinates. */
export interface Observations {
  /** Coordinates of the scored trials the model learns from. */
  x: Float64Array[];
  /** Their scores, oriented so that larger is better (negated for metric_mode min). */
  y: number[];
  /** Their positions in the history (larger = more recent). */
  at: number[];
  /**
   * Coordinates of trials in the space without a score that the samplers should not crowd:
   * running ones (pending: their result is coming) and failed or timed-out ones (pruned ones
   * are observations at the worst score, once there is one).
   */
  pending: Float64Array[];
  /** paramsKey of every trial of the history, whatever its status (never proposed again). */
  tried: Set<string>;
}

/**
 * Splits a history for a model. A completed trial with a finite score and params in the
 * space is an observation; a trial in the space with no usable score is pending (the
 * samplers treat it like a point of the current wave: gp believes the model's own prediction
 * there, tpe counts it among the bad points, so the next proposals keep away from it); a
 * trial outside the space only counts as tried.
 *
 * Budgets (successive halving): scores at different budgets are not comparable, so only the
 * trials of one budget are observations: the highest budget with at least `minPerBudget`
 * scored trials, else the budget with the most; trials of other budgets count as tried.
 */
export function observe(
  encoding: Encoding,
  history: readonly TrialRecord[],
  metricMode: MetricMode,
  minPerBudget = 5,
): Observations {
  const sign = metricMode === "min" ? -1 : 1;
  const tried = new Set(history.map((record) => paramsKey(encoding.space, record.params)));
  const scored = (r: TrialRecord) =>
    r.status === "completed" && typeof r.primary_score === "number" && Number.isFinite(r.primary_score);
  const budgetOf = (r: TrialRecord) => (typeof r.budget === "number" ? r.budget : Number.NaN);
  const counts = new Map<number, number>();
  for (const r of history) if (scored(r)) counts.set(budgetOf(r), (counts.get(budgetOf(r)) ?? 0) + 1);
  let budget = Number.NaN;
  if (counts.size > 1) {
    const entries = [...counts.entries()];
    const enough = entries
      .filter(([b, n]) => n >= minPerBudget && !Number.isNaN(b))
      .sort((a, b) => b[0] - a[0]);
    budget = enough[0]?.[0] ?? entries.sort((a, b) => b[1] - a[1])[0]?.[0] ?? Number.NaN;
  } else if (counts.size === 1) {
    budget = [...counts.keys()][0] ?? Number.NaN;
  }
  const sameBudget = (r: TrialRecord) => Object.is(budgetOf(r), budget) || budgetOf(r) === budget;

  const obs: Observations = { x: [], y: [], at: [], pending: [], tried };
  const pruned: Array<[Float64Array, number]> = [];
  history.forEach((record, i) => {
    const x = encoding.encode(record.params);
    if (x === undefined) return;
    if (scored(record) && sameBudget(record)) {
      obs.x.push(x);
      obs.y.push(sign * (record.primary_score as number));
      obs.at.push(i);
    } else if (record.status === "pruned" && sameBudget(record)) {
      pruned.push([x, i]);
    } else if (!scored(record)) {
      obs.pending.push(x);
    }
  });
  // A pruned trial was stopped because its curve was losing: it is learnt as poor, at the
  // worst score observed (before any score, it is pending like a running trial).
  const worst = obs.y.length > 0 ? minOf(obs.y) : undefined;
  for (const [x, i] of pruned) {
    if (worst === undefined) obs.pending.push(x);
    else {
      obs.x.push(x);
      obs.y.push(worst);
      obs.at.push(i);
    }
  }
  return obs;
}
