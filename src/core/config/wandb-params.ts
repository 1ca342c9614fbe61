/**
 * W&B's `parameters` as a search space (see wandb-import.ts): each parameter with W&B's
 * meaning, nested groups as dotted names, and the values W&B's grid visits; and the helpers
 * for values read from a W&B document (bigints from YAML, a `__proto__` key).
 */
import { type Problem, quote as quoteJson } from "../errors.js";
import { canonicalJson, isObject } from "../json.js";
import { cleanNumber } from "./space.js";

/**
 * Sets an own property, also for the key `__proto__` (a YAML or JSON document may hold one):
 * plain assignment would replace the object's prototype instead, and the keys of the value
 * would then pass for keys of the config.
 */
export function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `quote` for a value that may hold bigints (whole numbers of a YAML document read with intAsBigInt). */
export function quote(value: unknown): string {
  return quoteJson(plainCopy(value, new Set()));
}

/** The value with bigints as numbers (for messages only; a recursive value is cut at the repeat). */
function plainCopy(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "object" || value === null || ancestors.has(value)) return value;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => plainCopy(item, ancestors));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) setOwn(out, key, plainCopy(item, ancestors));
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/** A number or a bigint as a number (bigint bounds and exponents from YAML). */
export const numeric = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;

/** The most points a W&B grid may have here (all of them run when `run_cap` is absent). */
export const maxGridPoints = 100_000;

export type IsInteger = (v: unknown) => boolean;

/**
 * W&B's `parameters` as a search space: a nested `parameters` flattened into dotted names
 * (`optimizer.lr`, as W&B's agent names them), each parameter translated; under grid, each
 * becomes the list of values W&B's grid visits.
 */
export function translateParameters(
  value: unknown,
  file: string,
  problems: Problem[],
  notes: string[],
  isInteger: IsInteger,
  grid: boolean,
): unknown {
  const space: Record<string, unknown> = {};
  const walk = (group: unknown, prefix: string, path: string) => {
    if (!isObject(group)) {
      problems.push({ file, path, message: `got ${quote(group)}; expected a mapping of parameter names` });
      return;
    }
    for (const [name, spec] of Object.entries(group)) {
      const at = `${path}.${name}`;
      if (!isObject(spec)) {
        problems.push({
          file,
          path: at,
          message: `got ${quote(spec)}; expected a mapping such as {values: [...]} or {distribution, min, max}`,
        });
        continue;
      }
      if ("parameters" in spec) {
        const others = Object.keys(spec).filter((k) => k !== "parameters");
        if (others.length > 0)
          problems.push({
            file,
            path: `${at}.${others[0]}`,
            message: "a nested parameters group holds only parameters",
          });
        else walk(spec.parameters, `${prefix}${name}.`, `${at}.parameters`);
        continue;
      }
      const translated = translateParameter(spec, at, file, problems, notes, isInteger, grid);
      if (translated) setOwn(space, `${prefix}${name}`, translated);
    }
  };
  walk(value, "", "parameters");
  return space;
}

/** The keys a W&B parameter may have (W&B sweep configuration, "parameters"). */
const wandbParameterKeys = [
  "values",
  "value",
  "distribution",
  "probabilities",
  "min",
  "max",
  "mu",
  "sigma",
  "q",
  "a",
  "b",
];

/** A categorical parameter: its distinct values, and weights where W&B draws some more often. */
function categorical(
  spec: Record<string, unknown>,
  path: string,
  file: string,
  problems: Problem[],
  notes: string[],
  grid: boolean,
): Record<string, unknown> | undefined {
  const values = spec.values;
  if (!Array.isArray(values) || values.length === 0) {
    problems.push({
      file,
      path: `${path}.values`,
      message: `got ${quote(values)}; expected a non-empty list`,
    });
    return undefined;
  }
  const probabilities = spec.probabilities;
  if (probabilities !== undefined) {
    if (grid) {
      problems.push({
        file,
        path: `${path}.probabilities`,
        message: "W&B's grid refuses probabilities (every point of a grid runs once)",
      });
      return undefined;
    }
    if (
      !Array.isArray(probabilities) ||
      probabilities.length !== values.length ||
      probabilities.some(
        (p) => !(typeof (numeric(p) ?? Number.NaN) === "number" && (numeric(p) as number) >= 0),
      )
    ) {
      problems.push({
        file,
        path: `${path}.probabilities`,
        message: `got ${quote(probabilities)}; expected one number >= 0 per value`,
      });
      return undefined;
    }
  }
  // Duplicate values are weights in a random or bayes draw; a grid visits each point once.
  const distinct: unknown[] = [];
  const weights: number[] = [];
  const keys = new Map<string, number>();
  values.forEach((v, i) => {
    const key = canonicalJson(plainCopy(v, new Set()));
    const w = probabilities === undefined ? 1 : (numeric((probabilities as unknown[])[i]) as number);
    const k = keys.get(key);
    if (k === undefined) {
      keys.set(key, distinct.length);
      distinct.push(v);
      weights.push(w);
    } else weights[k] = (weights[k] as number) + w;
  });
  const repeated = distinct.length < values.length;
  if (repeated)
    notes.push(
      grid
        ? `${file}: ${path}.values: ${values.length - distinct.length} repeated value(s) dropped: W&B's grid visits each point once`
        : `${file}: ${path}.values: repeated values are drawn as often as they are listed (weights ${weights.join(", ")})`,
    );
  const weighted = !grid && (probabilities !== undefined || repeated);
  return { type: "choice", values: distinct, ...(weighted ? { weights } : {}) };
}

function translateParameter(
  spec: Record<string, unknown>,
  path: string,
  file: string,
  problems: Problem[],
  notes: string[],
  isInteger: IsInteger,
  grid: boolean,
): Record<string, unknown> | undefined {
  const unknown = Object.keys(spec).filter((key) => !wandbParameterKeys.includes(key));
  if (unknown.length > 0) {
    problems.push({
      file,
      path: `${path}.${unknown[0]}`,
      message: `unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => quote(k)).join(", ")}; expected one of ${wandbParameterKeys.join(", ")}`,
    });
    return undefined;
  }
  let distribution = spec.distribution;
  if (distribution === undefined) {
    if ("value" in spec) distribution = "constant";
    else if ("values" in spec) distribution = "categorical";
    else if (isInteger(spec.min) && isInteger(spec.max)) distribution = "int_uniform";
    else distribution = "uniform"; // W&B infers uniform for float bounds.
  }
  const bounds = { min: spec.min, max: spec.max };
  const gridRefused = () => {
    problems.push({
      file,
      path: `${path}.distribution`,
      message: `got ${quote(distribution)} under method: grid; W&B's grid takes categorical, constant, int_uniform or q_uniform parameters (a continuous range has no grid points): use random or bayes, or list values`,
    });
    return undefined;
  };
  switch (distribution) {
    case "categorical":
    case "categorical_w_probabilities":
      return categorical(spec, path, file, problems, notes, grid);
    case "constant":
      // Any value, passed to the trainer as it is (a one-value choice).
      return { type: "choice", values: [spec.value] };
    case "int_uniform": {
      if (!grid) return { type: "randint", ...bounds };
      const min = numeric(spec.min);
      const max = numeric(spec.max);
      for (const [key, v] of [
        ["min", min],
        ["max", max],
      ] as const)
        if (v === undefined || !Number.isInteger(v)) {
          problems.push({
            file,
            path: `${path}.${key}`,
            message: `got ${quote(spec[key])}; expected a whole number`,
          });
          return undefined;
        }
      if (min === undefined || max === undefined) return undefined;
      if (max < min) {
        problems.push({
          file,
          path: `${path}.max`,
          message: `got ${max}, below min ${min}; expected max >= min`,
        });
        return undefined;
      }
      if (max - min + 1 > maxGridPoints) {
        problems.push({
          file,
          path,
          message: `int_uniform [${min}, ${max}] has ${max - min + 1} values, more than a grid of ${maxGridPoints} points`,
        });
        return undefined;
      }
      // W&B's grid visits every whole number from min to max.
      return { type: "choice", values: Array.from({ length: max - min + 1 }, (_, k) => min + k) };
    }
    case "q_uniform": {
      const q = numeric(spec.q) ?? 1;
      if (!grid) return { type: "quniform", ...bounds, q };
      const min = numeric(spec.min);
      const max = numeric(spec.max);
      if (min === undefined || max === undefined || !(q > 0) || max <= min) {
        problems.push({
          file,
          path,
          message: `got min ${quote(spec.min)}, max ${quote(spec.max)}, q ${quote(spec.q)}; expected min < max and q > 0`,
        });
        return undefined;
      }
      // W&B's grid takes numpy's arange(min, max, q): from min in steps of q, max excluded.
      const count = Math.ceil((max - min) / q);
      if (count > maxGridPoints) {
        problems.push({
          file,
          path,
          message: `q_uniform from ${min} to ${max} in steps of ${q} has ${count} values, more than a grid of ${maxGridPoints} points`,
        });
        return undefined;
      }
      return {
        type: "choice",
        values: Array.from({ length: count }, (_, k) => cleanNumber(min + k * q, 12)),
      };
    }
    case "uniform":
      return grid ? gridRefused() : { type: "uniform", ...bounds };
    case "log_uniform_values":
      return grid ? gridRefused() : { type: "loguniform", ...bounds };
    case "q_log_uniform_values":
      return grid ? gridRefused() : { type: "qloguniform", ...bounds, q: spec.q ?? 1 };
    case "log_uniform":
    case "q_log_uniform": {
      if (grid) return gridRefused();
      // W&B's log_uniform takes natural-log exponents as bounds: e^min..e^max.
      const min = numeric(spec.min);
      const max = numeric(spec.max);
      const bad = min === undefined ? "min" : max === undefined ? "max" : undefined;
      if (bad) {
        problems.push({
          file,
          path: `${path}.${bad}`,
          message: `${spec[bad] === undefined ? "missing" : `got ${quote(spec[bad])}`}; ${distribution} needs numeric exponents (natural-log bounds)`,
        });
        return undefined;
      }
      if (min === undefined || max === undefined) return undefined;
      // e^x is a positive finite double only for x in about (-745, 709.78).
      for (const [key, exponent] of [
        ["min", min],
        ["max", max],
      ] as const) {
        const value = Math.exp(exponent);
        if (!(value > 0 && Number.isFinite(value))) {
          problems.push({
            file,
            path: `${path}.${key}`,
            message: `got ${exponent}; ${distribution} bounds are natural-log exponents and e^${exponent} is not a positive finite number (use log_uniform_values for plain bounds)`,
          });
          return undefined;
        }
      }
      const type = distribution === "log_uniform" ? "loguniform" : "qloguniform";
      notes.push(
        `${file}: ${path}: ${distribution} exponents [${min}, ${max}] became ${type} values [e^${min}, e^${max}]`,
      );
      return type === "loguniform"
        ? { type, min: Math.exp(min), max: Math.exp(max) }
        : { type, min: Math.exp(min), max: Math.exp(max), q: spec.q ?? 1 };
    }
    case "normal":
    case "q_normal":
    case "log_normal":
    case "q_log_normal":
    case "beta":
    case "q_beta": {
      if (grid) return gridRefused();
      // W&B's defaults: mu 0, sigma 1, a 1, b 1, q 1.
      const q = distribution.startsWith("q_") ? { q: numeric(spec.q) ?? 1 } : {};
      const extra = Object.keys(spec).filter(
        (k) =>
          !["distribution", "q", ...(distribution.endsWith("beta") ? ["a", "b"] : ["mu", "sigma"])].includes(
            k,
          ),
      );
      if (extra.length > 0) {
        problems.push({
          file,
          path: `${path}.${extra[0]}`,
          message: `${distribution} takes ${distribution.endsWith("beta") ? "a and b" : "mu and sigma"}${distribution.startsWith("q_") ? " and q" : ""}, not ${extra.join(", ")} (W&B refuses it)`,
        });
        return undefined;
      }
      if (distribution.endsWith("beta"))
        return { type: "beta", a: numeric(spec.a) ?? 1, b: numeric(spec.b) ?? 1, ...q };
      return {
        type: distribution.endsWith("log_normal") ? "lognormal" : "normal",
        mu: numeric(spec.mu) ?? 0,
        sigma: numeric(spec.sigma) ?? 1,
        ...q,
      };
    }
    case "inv_log_uniform":
    case "inv_log_uniform_values": {
      if (grid) return gridRefused();
      // X = exp(-U), U uniform on [min, max] (exponents): log-uniform on [e^-max, e^-min]; the
      // _values form gives those values as its bounds.
      const min = numeric(spec.min);
      const max = numeric(spec.max);
      if (min === undefined || max === undefined) {
        problems.push({
          file,
          path,
          message: `got min ${quote(spec.min)}, max ${quote(spec.max)}; expected numbers`,
        });
        return undefined;
      }
      const bounds =
        distribution === "inv_log_uniform" ? { min: Math.exp(-max), max: Math.exp(-min) } : { min, max };
      notes.push(
        `${file}: ${path}: ${distribution} [${min}, ${max}] is log-uniform on [${bounds.min}, ${bounds.max}] (1/X log-uniform is X log-uniform), so loguniform`,
      );
      return { type: "loguniform", ...bounds };
    }
    default:
      problems.push({
        file,
        path: `${path}.distribution`,
        message: `got ${quote(distribution)}; expected one of categorical, constant, uniform, int_uniform, log_uniform_values, log_uniform, q_uniform, q_log_uniform_values, q_log_uniform, normal, q_normal, log_normal, q_log_normal, inv_log_uniform, inv_log_uniform_values, beta, q_beta`,
      });
      return undefined;
  }
}
