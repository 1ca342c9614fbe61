import { metricModeRule, oneLineProblem } from "./config.js";
import { type Problem, quote as quoteJson } from "./errors.js";
import { isObject } from "./json.js";

/** The formats a config file may come in. */
export type ConfigFormat = "tunix-rt" | "wandb" | "m34-job";

/** A config document translated into tunix-rt's own form, with what could not be kept. */
export interface ImportedConfig {
  format: ConfigFormat;
  /** The document in tunix-rt's form, still to be validated. */
  raw: unknown;
  /** One line per thing that was translated with a loss or dropped. */
  notes: string[];
  problems: Problem[];
}

/**
 * Sets an own property, also for the key `__proto__` (a YAML or JSON document may hold one):
 * plain assignment would replace the object's prototype instead, and the keys of the value
 * would then pass for keys of the config.
 */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `quote` for a value that may hold bigints (whole numbers of a YAML document read with intAsBigInt). */
function quote(value: unknown): string {
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

/** How the parsed document represents numbers. */
export interface ImportOptions {
  /**
   * Whole-number literals arrive as bigint and every other number as a number (YAML parsed
   * with `intAsBigInt`), so `1.0` and `1` differ as they do for W&B, which infers
   * `int_uniform` only from integer bounds. Without it, whole numbers count as integers.
   * Either way the translated document holds plain numbers only.
   */
  intsAsBigInt?: boolean;
}

/**
 * Recognises the format of a parsed config document and translates it:
 * - a Weights & Biases sweep (top-level `parameters`, and `method` or `metric`);
 * - an M34 tuning job as the M34 API returns it (`search_space_json`, `id`, `status`, ...);
 * - anything else is taken as tunix-rt's own format (an M34 job *payload* already is one).
 */
export function importConfig(doc: unknown, file: string, options: ImportOptions = {}): ImportedConfig {
  let imported: ImportedConfig;
  if (
    isObject(doc) &&
    !("search_space" in doc) &&
    "parameters" in doc &&
    ("method" in doc || "metric" in doc)
  ) {
    imported = fromWandb(doc, file, options);
  } else if (isObject(doc) && "search_space_json" in doc && !("search_space" in doc)) {
    imported = fromM34Job(doc, file);
  } else {
    imported = { format: "tunix-rt", raw: doc, notes: [], problems: [] };
  }
  const problems: Problem[] = [];
  const raw = plainNumbers(imported.raw, file, "", problems, new Set());
  return {
    ...imported,
    raw,
    notes: imported.notes.map((note) => oneLineProblem({ file: "", path: "", message: note }).message),
    problems: [...imported.problems, ...problems].map(oneLineProblem),
  };
}

/**
 * Where a path of the translated document lies in the file the user wrote, so a problem
 * found by validation names the user's own field: a W&B sweep's `search_space.lr.type` is
 * its `parameters.lr.distribution`, an M34 job's `search_space.lr` its `search_space_json.lr`.
 */
export function sourcePath(format: ConfigFormat, path: string): string {
  const [head = "", ...rest] = path.split(".");
  if (format === "m34-job") return head === "search_space" ? ["search_space_json", ...rest].join(".") : path;
  if (format !== "wandb") return path;
  switch (head) {
    case "search_space":
      if (rest[1] === "type") rest[1] = "distribution";
      return ["parameters", ...rest].join(".");
    case "num_samples":
      return "run_cap";
    case "sampler":
      return "method";
    case "metric_mode":
      return "metric.goal";
    case "metric_name":
      return "metric.name";
    default:
      return path;
  }
}

/**
 * The document with every bigint made a number; one too large to be exact is a problem. A
 * YAML alias inside its own anchor (`a: &x {b: *x}`) makes a document without end: that is a
 * problem too, not a stack overflow.
 */
function plainNumbers(
  value: unknown,
  file: string,
  path: string,
  problems: Problem[],
  ancestors: Set<object>,
): unknown {
  if (typeof value === "bigint") {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) {
      problems.push({
        file,
        path,
        message: `got ${value}; whole numbers must lie within -${Number.MAX_SAFE_INTEGER}..${Number.MAX_SAFE_INTEGER}`,
      });
    }
    return n;
  }
  const at = (key: string | number) => (path ? `${path}.${key}` : String(key));
  if (typeof value !== "object" || value === null) return value;
  if (ancestors.has(value)) {
    problems.push({
      file,
      path,
      message: "holds itself (a YAML alias inside its own anchor); expected a finite document",
    });
    return null;
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value))
      return value.map((item, i) => plainNumbers(item, file, at(i), problems, ancestors));
    if (isObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value))
        setOwn(out, key, plainNumbers(item, file, at(key), problems, ancestors));
      return out;
    }
    return value;
  } finally {
    ancestors.delete(value);
  }
}

/** A number or a bigint as a number (bigint bounds and exponents from YAML). */
const numeric = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;

/** Keys of an M34 job read (`TuningJobRead`) that describe a past job rather than a sweep. */
const m34JobOnlyKeys = [
  "id",
  "status",
  "mode",
  "best_run_id",
  "best_params_json",
  "created_at",
  "started_at",
  "completed_at",
  "trials",
];

function fromM34Job(doc: Record<string, unknown>, file: string): ImportedConfig {
  const notes: string[] = [];
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === "search_space_json") raw.search_space = value;
    else if (m34JobOnlyKeys.includes(key)) {
      if (value !== null && value !== undefined)
        notes.push(`${file}: ${key}: dropped (describes the M34 job, not the sweep)`);
    } else setOwn(raw, key, value);
  }
  return { format: "m34-job", raw, notes, problems: [] };
}

const wandbMethods: Record<string, string> = { random: "random", grid: "grid", bayes: "auto" };

/** W&B keys with no tunix-rt meaning; each dropped with a note when present. */
const wandbDropped: Record<string, string> = {
  program: "tunix-rt runs trainer.command (add a trainer section)",
  command: "W&B command macros are not translated; add a trainer section with an argv",
  project: "W&B project has no tunix-rt meaning",
  entity: "W&B entity has no tunix-rt meaning",
  description: "kept nowhere",
};

function fromWandb(doc: Record<string, unknown>, file: string, options: ImportOptions): ImportedConfig {
  const notes: string[] = [];
  const problems: Problem[] = [];
  const raw: Record<string, unknown> = {};
  // W&B infers int_uniform from integer bounds; a YAML `1.0` is a float there.
  const isInteger = (v: unknown) => typeof v === "bigint" || (!options.intsAsBigInt && Number.isInteger(v));
  for (const [key, value] of Object.entries(doc)) {
    switch (key) {
      case "method": {
        const sampler = typeof value === "string" ? wandbMethods[value] : undefined;
        if (!sampler) {
          problems.push({
            file,
            path: "method",
            message: `got ${quote(value)}; expected one of ${Object.keys(wandbMethods).join(", ")}`,
          });
        } else {
          raw.sampler = sampler;
          if (value === "bayes")
            notes.push(
              `${file}: method: "bayes" runs as sampler "auto": a Gaussian process that proposes each trial from the scores so far, after a Sobol warm-up`,
            );
        }
        break;
      }
      case "metric":
        translateMetric(value, file, raw, problems, notes);
        break;
      case "early_terminate":
        translateEarlyTerminate(value, doc.metric, file, raw, problems, notes);
        break;
      case "parameters":
        raw.search_space = translateParameters(value, file, problems, notes, isInteger);
        break;
      case "name":
        raw.name = value;
        break;
      case "run_cap":
        raw.num_samples = value;
        break;
      default:
        // A trainer section beside `program` replaces it: nothing is lost, nothing to say.
        if (key === "program" && "trainer" in doc) break;
        if (key in wandbDropped) notes.push(`${file}: ${key}: dropped (${wandbDropped[key]})`);
        // tunix-rt keys (run_version, trainer, evalset, ...) may sit beside W&B ones.
        else setOwn(raw, key, value);
    }
  }
  return { format: "wandb", raw, notes, problems };
}

/**
 * W&B `early_terminate: {type: hyperband, min_iter | max_iter + s, eta}` as ASHA pruning with
 * the same meaning: W&B stops a run at a bracket (min_iter * eta^k logged steps, or max_iter /
 * eta^k for k = 1..s) when its metric is not among the best 1/eta there; tunix-rt's rungs are
 * at min_resource * reduction_factor^k of `step` in metrics.jsonl, judged on the sweep's
 * `metric` (its name, and its goal as the mode) as the trainer writes it there.
 */
function translateEarlyTerminate(
  value: unknown,
  metric: unknown,
  file: string,
  raw: Record<string, unknown>,
  problems: Problem[],
  notes: string[],
): void {
  const at = (key: string) => `early_terminate.${key}`;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push({
      file,
      path: "early_terminate",
      message: `got ${quote(value)}; expected {type: hyperband, min_iter, eta}`,
    });
    return;
  }
  // The YAML reader may give whole numbers as bigints.
  const et = Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]),
  ) as Record<string, unknown>;
  if (et.type !== "hyperband") {
    problems.push({
      file,
      path: at("type"),
      message: `got ${quote(et.type)}; expected hyperband (the one type W&B has)`,
    });
    return;
  }
  const positive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;
  const eta = et.eta ?? 3;
  if (!positive(eta) || (eta as number) <= 1) {
    problems.push({ file, path: at("eta"), message: `got ${quote(eta)}; expected a number > 1` });
    return;
  }
  let minResource: number;
  if (et.min_iter !== undefined) {
    if (!positive(et.min_iter)) {
      problems.push({
        file,
        path: at("min_iter"),
        message: `got ${quote(et.min_iter)}; expected a number > 0`,
      });
      return;
    }
    minResource = et.min_iter as number;
  } else if (et.max_iter !== undefined && et.s !== undefined) {
    if (!positive(et.max_iter) || !Number.isInteger(et.s) || (et.s as number) < 1) {
      problems.push({
        file,
        path: at("max_iter"),
        message: `got max_iter ${quote(et.max_iter)}, s ${quote(et.s)}; expected max_iter > 0 and a whole s >= 1`,
      });
      return;
    }
    minResource = (et.max_iter as number) / (eta as number) ** (et.s as number);
  } else {
    problems.push({
      file,
      path: "early_terminate",
      message: "expected min_iter, or max_iter with s (W&B's two ways to place the brackets)",
    });
    return;
  }
  const m = metric !== null && typeof metric === "object" ? (metric as Record<string, unknown>) : {};
  if (typeof m.name !== "string" || m.name === "") {
    problems.push({
      file,
      path: "early_terminate",
      message: "needs the sweep's metric.name: the value logged during training that the brackets judge",
    });
    return;
  }
  raw.pruning = {
    metric: m.name,
    mode: m.goal === "maximize" ? "max" : "min",
    rule: "asha",
    reduction_factor: eta,
    min_resource: minResource,
  };
  notes.push(
    `${file}: early_terminate: hyperband runs as ASHA pruning on ${quote(m.name)} (${m.goal === "maximize" ? "max" : "min"}) from metrics.jsonl, rungs at step ${minResource} × ${eta}^k: the trainer writes {"step", ${quote(m.name)}} lines there`,
  );
}

/** W&B metric names that mean what tunix-rt ranks trials by. */
const rankedMetrics = ["primary_score", "answer_correctness"];

/**
 * A W&B `metric {name, goal}`. tunix-rt ranks trials by primary_score alone, higher first
 * (it is the share of correct answers): a goal is never applied to it the other way round.
 * A metric of that name keeps its name; "minimize" on it is refused. Any other metric
 * (val_loss, ...) is not what the sweep ranks by: it is dropped with a note that says so.
 */
function translateMetric(
  value: unknown,
  file: string,
  raw: Record<string, unknown>,
  problems: Problem[],
  notes: string[],
) {
  if (!isObject(value)) {
    problems.push({ file, path: "metric", message: `got ${quote(value)}; expected {name, goal}` });
    return;
  }
  const { name, goal } = value;
  if (goal !== undefined && goal !== "maximize" && goal !== "minimize") {
    problems.push({
      file,
      path: "metric.goal",
      message: `got ${quote(goal)}; expected maximize or minimize`,
    });
    return;
  }
  if (typeof name === "string" && rankedMetrics.includes(name)) {
    raw.metric_name = name;
    if (goal === "minimize") {
      problems.push({ file, path: "metric.goal", message: `got "minimize" for ${name}; ${metricModeRule}` });
    } else if (goal === undefined) {
      notes.push(
        `${file}: metric.goal: not given (W&B would minimize); ${name} is higher-is-better, so the sweep maximizes it`,
      );
    }
  } else {
    notes.push(
      `${file}: metric: ${quote(name)}${goal === undefined ? "" : ` (${goal})`} is not what tunix-rt ranks by, and is dropped: trials are ranked by primary_score, graded from each trial's predictions against the evalset, highest first`,
    );
  }
  for (const key of Object.keys(value)) {
    if (key !== "name" && key !== "goal") notes.push(`${file}: metric.${key}: dropped (no tunix-rt meaning)`);
  }
}

type IsInteger = (v: unknown) => boolean;

function translateParameters(
  value: unknown,
  file: string,
  problems: Problem[],
  notes: string[],
  isInteger: IsInteger,
): unknown {
  if (!isObject(value)) {
    problems.push({
      file,
      path: "parameters",
      message: `got ${quote(value)}; expected a mapping of parameter names`,
    });
    return {};
  }
  const space: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(value)) {
    const path = `parameters.${name}`;
    if (!isObject(spec)) {
      problems.push({
        file,
        path,
        message: `got ${quote(spec)}; expected a mapping such as {values: [...]} or {distribution, min, max}`,
      });
      continue;
    }
    const translated = translateParameter(spec, path, file, problems, notes, isInteger);
    if (translated) setOwn(space, name, translated);
  }
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
  "parameters",
];

function translateParameter(
  spec: Record<string, unknown>,
  path: string,
  file: string,
  problems: Problem[],
  notes: string[],
  isInteger: IsInteger,
): Record<string, unknown> | undefined {
  if ("parameters" in spec) {
    problems.push({
      file,
      path: `${path}.parameters`,
      message: "nested W&B parameters are not supported; flatten them into top-level names",
    });
    return undefined;
  }
  const unknown = Object.keys(spec).filter((key) => !wandbParameterKeys.includes(key));
  if (unknown.length > 0) {
    problems.push({
      file,
      path: `${path}.${unknown[0]}`,
      message: `unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => quote(k)).join(", ")}; expected one of ${wandbParameterKeys.join(", ")}`,
    });
    return undefined;
  }
  if ("probabilities" in spec)
    notes.push(`${file}: ${path}.probabilities: dropped (choices are drawn uniformly)`);
  if ("value" in spec) {
    notes.push(`${file}: ${path}: a constant becomes a one-value choice`);
    return { type: "choice", values: [spec.value] };
  }
  let distribution = spec.distribution;
  if (distribution === undefined) {
    if ("values" in spec) distribution = "categorical";
    else if (isInteger(spec.min) && isInteger(spec.max)) distribution = "int_uniform";
    else distribution = "uniform"; // W&B infers uniform for float bounds.
  }
  const bounds = { min: spec.min, max: spec.max };
  switch (distribution) {
    case "categorical":
    case "constant":
      return { type: "choice", values: spec.values ?? (spec.value === undefined ? undefined : [spec.value]) };
    case "uniform":
      return { type: "uniform", ...bounds };
    case "int_uniform":
      return { type: "randint", ...bounds };
    case "log_uniform_values":
      return { type: "loguniform", ...bounds };
    case "q_uniform":
      return { type: "quniform", ...bounds, q: spec.q ?? 1 };
    case "q_log_uniform_values":
      return { type: "qloguniform", ...bounds, q: spec.q ?? 1 };
    case "log_uniform":
    case "q_log_uniform": {
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
    default:
      problems.push({
        file,
        path: `${path}.distribution`,
        message: `got ${quote(distribution)}; expected one of categorical, constant, uniform, int_uniform, log_uniform_values, log_uniform, q_uniform, q_log_uniform_values, q_log_uniform (normal-family distributions cannot be translated)`,
      });
      return undefined;
  }
}
