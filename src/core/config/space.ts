// The search space: each parameter as a mapping between a unit value u in [0, 1) and the
// parameter's value, so samplers draw or model in the unit cube and never need to know the
// parameter types.
//
// Numeric formatting (what a trial's params hold, so plan.json and evidence read cleanly and
// compare exactly after a JSON round trip):
// - uniform, loguniform: rounded to 10 significant digits (`cleanNumber`), then kept within
//   [min, max]; 10 digits is a relative step of 1e-10, far finer than any hyperparameter
//   matters, and it turns 0.07500000000000001 into 0.075.
// - quniform, qloguniform: k * q computed as (k * m) / 10^d where q = m / 10^d (d = the
//   decimal places of q as written), so 3 * 0.1 is 0.3, not 0.30000000000000004.
// - randint: whole numbers; choice: the listed value itself (number, string or boolean).

import { sameJson } from "../json.js";
import type { Params, ParamValue } from "../types.js";
import { betaCdf, betaQuantile, normalCdf, normalQuantile } from "./distributions.js";
import type { ParamSpec, ShapedParam } from "./params.js";

/** One parameter of the space: its name and spec. */
export interface SpaceParam {
  name: string;
  spec: ParamSpec;
}

/**
 * A search space in its canonical order: the config's key order. Params objects, keys for
 * deduplication and sampler draws all follow this order, so a plan is stable byte for byte.
 */
export type SearchSpace = readonly SpaceParam[];

/** The search space of a config's `search_space`, in the config's key order. */
export function searchSpaceOf(searchSpace: Readonly<Record<string, ParamSpec>>): SearchSpace {
  // Parameter names start with a letter or '_' (config validation), so object key order is
  // insertion order: no integer-like keys jump ahead.
  return Object.entries(searchSpace).map(([name, spec]) => ({ name, spec }));
}

/** Significant digits kept for uniform and loguniform values. */
export const significantDigits = 10;

/** Rounds a number to `digits` significant digits (exactly as Number.prototype.toPrecision specifies). */
export function cleanNumber(x: number, digits = significantDigits): number {
  if (x === 0 || !Number.isFinite(x)) return x === 0 ? 0 : x;
  return Number(x.toPrecision(digits));
}

/** Decimal places of a number as JavaScript writes it (0.05 -> 2, 2.5e-7 -> 8, 3 -> 0). */
export function decimalPlaces(x: number): number {
  const text = Math.abs(x).toString();
  const [mantissa = "", exponent] = text.split("e");
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return Math.max(0, fraction - (exponent === undefined ? 0 : Number(exponent)));
}

/** k * q written cleanly: (k * m) / 10^d with q = m / 10^d, when that is exact. */
function multipleOf(k: number, q: number): number {
  const d = decimalPlaces(q);
  if (d > 22) return k * q;
  const scale = 10 ** d;
  const m = Math.round(q * scale);
  const product = k * m;
  if (!Number.isSafeInteger(product)) return cleanNumber(k * q, 15);
  // Division of an exact integer by an exact power of ten rounds once: the double nearest
  // the decimal, the same number JSON.parse would give for its text.
  return product / scale;
}

/**
 * The range of k such that k * q lies in [min, max], with a tolerance of 1e-9 for float error
 * (0.3 / 0.1 is 2.9999999999999996). Below 1 the tolerance shrinks with the bound, so that
 * min = 1e-12 with q = 1e10 (min / q = 1e-22) does not let k = 0 in: 0 is far below min in
 * relative terms, and no value at all for a qloguniform. low > high: no multiple in range.
 */
export function multiplesRange(min: number, max: number, q: number): { low: number; high: number } {
  const slack = (x: number) => 1e-9 * Math.min(1, Math.abs(x));
  const a = min / q;
  const b = max / q;
  return { low: Math.ceil(a - slack(a)), high: Math.floor(b + slack(b)) };
}

const clamp = (x: number, low: number, high: number) => Math.min(high, Math.max(low, x));

/** Rounds x to the nearest multiple of q that lies within [min, max]. */
function roundToMultiple(x: number, min: number, max: number, q: number): number {
  const { low, high } = multiplesRange(min, max, q);
  return multipleOf(clamp(Math.round(x / q), low, high), q);
}

/**
 * The parameter value for a unit value u in [0, 1):
 * - uniform: min + u * (max - min);
 * - loguniform: exp(ln min + u * (ln max - ln min)), uniform on the log scale;
 * - randint: floor(min + u * (max - min + 1)), kept at most max (both ends included);
 * - quniform / qloguniform: the uniform / loguniform value rounded to the nearest multiple of
 *   q, kept to the multiples within [min, max];
 * - choice: values[floor(u * n)].
 * u outside [0, 1) is clamped to it.
 */
export function fromUnit(spec: ParamSpec, u: number): ParamValue {
  const v = Number.isFinite(u) ? clamp(u, 0, 1 - Number.EPSILON / 2) : 0;
  switch (spec.type) {
    case "uniform":
      return clamp(cleanNumber(lerp(spec.min, spec.max, v)), spec.min, spec.max);
    case "loguniform":
      return clamp(cleanNumber(logScale(spec.min, spec.max, v)), spec.min, spec.max);
    case "randint":
      return Math.min(spec.max, Math.floor(spec.min + v * (spec.max - spec.min + 1)));
    case "quniform":
      return roundToMultiple(lerp(spec.min, spec.max, v), spec.min, spec.max, spec.q);
    case "qloguniform":
      return roundToMultiple(logScale(spec.min, spec.max, v), spec.min, spec.max, spec.q);
    case "choice":
      return (spec.values[choiceCell(spec, v)] ?? null) as ParamValue;
    case "normal":
    case "lognormal":
    case "beta":
      return shapedValue(spec, v);
  }
}

/**
 * A normal, lognormal or beta parameter's value at unit value u: its quantile (u kept 1e-12
 * from 0 and 1, so the normal's is finite), rounded to a multiple of q when it has one.
 */
function shapedValue(spec: ShapedParam, u: number): number {
  const p = clamp(u, 1e-12, 1 - 1e-12);
  const x = spec.type === "beta" ? betaQuantile(p, spec.a, spec.b) : spec.mu + spec.sigma * normalQuantile(p);
  const value = spec.type === "lognormal" ? Math.exp(x) : x;
  return spec.q === undefined ? cleanNumber(value) : multipleOf(Math.round(value / spec.q), spec.q);
}

/** The unit value of a normal, lognormal or beta parameter's value: its CDF there. */
function shapedUnit(spec: ShapedParam, value: number): number {
  if (spec.type === "beta") return betaCdf(value, spec.a, spec.b);
  if (spec.type === "lognormal") return value > 0 ? normalCdf((Math.log(value) - spec.mu) / spec.sigma) : 0;
  return normalCdf((value - spec.mu) / spec.sigma);
}

/** A choice's cells in [0, 1]: the k-th value's is [edges[k], edges[k + 1]), sized by its weight. */
function choiceEdges(spec: Extract<ParamSpec, { type: "choice" }>): number[] {
  const n = spec.values.length;
  const weights = spec.weights?.length === n ? spec.weights : undefined;
  if (!weights) return Array.from({ length: n + 1 }, (_, k) => k / n);
  const total = weights.reduce((a, b) => a + b, 0);
  const edges = [0];
  let sum = 0;
  for (const w of weights) {
    sum += w;
    edges.push(sum / total);
  }
  edges[n] = 1;
  return edges;
}

/** The index of the choice value whose cell holds u (a value of weight 0 has none). */
function choiceCell(spec: Extract<ParamSpec, { type: "choice" }>, u: number): number {
  if (!spec.weights) return Math.min(spec.values.length - 1, Math.floor(u * spec.values.length));
  const edges = choiceEdges(spec);
  for (let k = 0; k < spec.values.length; k++) if (u < (edges[k + 1] as number)) return k;
  return spec.values.length - 1;
}

/** The index of a choice's value (compared as JSON: a mapping's key order does not matter), or -1. */
export function choiceIndex(spec: Extract<ParamSpec, { type: "choice" }>, value: unknown): number {
  return spec.values.findIndex((x) => sameJson(x, value));
}

/**
 * min + u * (max - min); when max - min overflows (bounds near ±1.8e308) the weighted form,
 * which stays finite, so the draw is still spread over [min, max] rather than Infinity or NaN.
 */
function lerp(min: number, max: number, u: number): number {
  const width = max - min;
  return Number.isFinite(width) ? min + u * width : min * (1 - u) + max * u;
}

function logScale(min: number, max: number, u: number): number {
  const low = Math.log(min);
  return Math.exp(low + u * (Math.log(max) - low));
}

/**
 * The unit value of a parameter value, the inverse of `fromUnit` (for samplers that model
 * the history): the position within [min, max] (on the log scale for the log types), or the
 * middle of the value's cell for randint and choice, so `fromUnit(toUnit(x))` gives x back.
 * Returns undefined for a value that is not in the space (`isInSpace`).
 */
export function toUnit(spec: ParamSpec, value: unknown): number | undefined {
  if (!isInSpace(spec, value)) return undefined;
  const below1 = (u: number) => clamp(u, 0, 1 - Number.EPSILON / 2);
  switch (spec.type) {
    case "choice": {
      // The middle of the value's cell (its weight's share of [0, 1] with weights).
      const edges = choiceEdges(spec);
      const k = choiceIndex(spec, value);
      return ((edges[k] as number) + (edges[k + 1] as number)) / 2;
    }
    case "randint":
      return ((value as number) - spec.min + 0.5) / (spec.max - spec.min + 1);
    case "uniform":
    case "quniform":
      if (spec.max === spec.min) return 0.5;
      // Halved when the width overflows (bounds near ±1.8e308), as lerp does the other way.
      return Number.isFinite(spec.max - spec.min)
        ? below1(((value as number) - spec.min) / (spec.max - spec.min))
        : below1(((value as number) / 2 - spec.min / 2) / (spec.max / 2 - spec.min / 2));
    case "loguniform":
    case "qloguniform": {
      if (spec.max === spec.min) return 0.5;
      const low = Math.log(spec.min);
      return below1((Math.log(value as number) - low) / (Math.log(spec.max) - low));
    }
    case "normal":
    case "lognormal":
    case "beta":
      return below1(shapedUnit(spec, value as number));
  }
}

/**
 * Whether a value belongs to a parameter's space: a number within [min, max] (a whole number
 * for randint, a multiple of q for the q types, within a relative 1e-9) or one of a choice's
 * values (compared with ===).
 */
export function isInSpace(spec: ParamSpec, value: unknown): boolean {
  if (spec.type === "choice") return choiceIndex(spec, value) >= 0;
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (spec.type === "normal" || spec.type === "lognormal" || spec.type === "beta") {
    if (spec.type === "lognormal" && value < 0) return false;
    if (spec.type === "beta" && (value < 0 || value > 1)) return false;
    if (spec.q === undefined) return true;
    const k = value / spec.q;
    return Math.abs(k - Math.round(k)) <= 1e-9 * Math.max(1, Math.abs(k));
  }
  if (spec.type === "quniform" || spec.type === "qloguniform") {
    // The space holds the multiples k * q with k in multiplesRange, which is what samplers
    // propose: 9 * 0.001 (0.009) is in [0.009000000000000001, ...] though a hair below it.
    const k = value / spec.q;
    const n = Math.round(k);
    if (Math.abs(k - n) > 1e-9 * Math.max(1, Math.abs(k))) return false;
    const { low, high } = multiplesRange(spec.min, spec.max, spec.q);
    return n >= low && n <= high;
  }
  if (value < spec.min || value > spec.max) return false;
  return spec.type !== "randint" || Number.isInteger(value);
}

/** Whether every parameter of the space has a value in it (extra keys are ignored). */
export function paramsInSpace(space: SearchSpace, params: Readonly<Params>): boolean {
  return space.every(({ name, spec }) => Object.hasOwn(params, name) && isInSpace(spec, params[name]));
}

/** A params object in the canonical order, from unit values (one per parameter, in order). */
export function paramsFromUnits(space: SearchSpace, units: readonly number[]): Params {
  const params: Params = {};
  space.forEach(({ name, spec }, i) => {
    params[name] = fromUnit(spec, units[i] ?? 0);
  });
  return params;
}

/**
 * A string that is equal for two params objects exactly when they give every parameter of
 * the space the same value (key order and extra keys do not matter). Used to recognise a
 * point already tried.
 */
export function paramsKey(space: SearchSpace, params: Readonly<Params>): string {
  return JSON.stringify(
    space.map(({ name }) => (Object.hasOwn(params, name) ? params[name] : "\u0000missing")),
  );
}

/**
 * The values a grid visits for one parameter, in increasing order (choice: in the listed
 * order), at most `points` of them for the continuous types:
 * - choice: every value;
 * - randint, quniform, qloguniform: every allowed value when there are at most `points`,
 *   else `points` values spread evenly (on the log scale for qloguniform), duplicates removed;
 * - uniform: `points` evenly spaced values from min to max, both included;
 * - loguniform: `points` values evenly spaced on the log scale, both ends included.
 * A parameter with min = max has one value.
 */
export function gridValues(spec: ParamSpec, points: number): ParamValue[] {
  if (!Number.isSafeInteger(points) || points < 2)
    throw new RangeError(`grid points per parameter must be >= 2, got ${points}`);
  if (spec.type === "choice") return [...spec.values] as ParamValue[];
  if (spec.type === "normal" || spec.type === "lognormal" || spec.type === "beta")
    // No bounds: `points` quantiles, evenly spaced in probability.
    return [...new Set(Array.from({ length: points }, (_, i) => fromUnit(spec, (i + 0.5) / points)))];
  if (spec.min === spec.max) return [fromUnit(spec, 0)];
  const fractions = Array.from({ length: points }, (_, i) => i / (points - 1));
  const unique = (values: number[]) => [...new Set(values)];
  switch (spec.type) {
    case "uniform":
      return unique(
        fractions.map((f) => clamp(cleanNumber(lerp(spec.min, spec.max, f)), spec.min, spec.max)),
      );
    case "loguniform":
      return unique(
        fractions.map((f) => clamp(cleanNumber(logScale(spec.min, spec.max, f)), spec.min, spec.max)),
      );
    case "randint": {
      const size = spec.max - spec.min + 1;
      if (size <= points) return Array.from({ length: size }, (_, i) => spec.min + i);
      return unique(fractions.map((f) => spec.min + Math.round(f * (size - 1))));
    }
    case "quniform":
    case "qloguniform": {
      const { low, high } = multiplesRange(spec.min, spec.max, spec.q);
      if (high - low + 1 <= points)
        return Array.from({ length: high - low + 1 }, (_, i) => multipleOf(low + i, spec.q));
      if (spec.type === "quniform")
        return unique(fractions.map((f) => multipleOf(low + Math.round(f * (high - low)), spec.q)));
      // Log-spaced between the lowest and highest multiple, each rounded to a multiple.
      const lowest = multipleOf(low, spec.q);
      const highest = multipleOf(high, spec.q);
      return unique(
        fractions.map((f) => roundToMultiple(logScale(lowest, highest, f), spec.min, spec.max, spec.q)),
      );
    }
  }
}

/** A parameter value as text (argv, logs, tables): a list or mapping as JSON, anything else as JavaScript writes it. */
export function paramText(value: unknown): string {
  return value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
}
