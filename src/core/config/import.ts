import type { Problem } from "../errors.js";
import { isObject } from "../json.js";
import { oneLineProblem } from "./config.js";
import type { ConfigFormat, ImportedConfig, ImportOptions } from "./imported.js";
import { rayMeanings } from "./ray-import.js";
import { fromWandb, unusualFile } from "./wandb-import.js";
import { setOwn } from "./wandb-params.js";

export type { ConfigFormat, ImportedConfig, ImportOptions } from "./imported.js";

/**
 * Recognises the format of a parsed config document and translates it:
 * - a Weights & Biases sweep (top-level `parameters`, and `method` or `metric`);
 * - an M34 tuning job as the M34 API returns it (`search_space_json`, `id`, `status`, ...);
 * - anything else is taken as tunix-rt's own format (an M34 job *payload* already is one).
 */
export function importConfig(doc: unknown, file: string, options: ImportOptions = {}): ImportedConfig {
  let imported: ImportedConfig;
  // A W&B sweep kept under a `sweep:` key (as some projects' config files hold it).
  const wrapped = isObject(doc) && !("search_space" in doc) && isWandb(doc.sweep) ? doc.sweep : undefined;
  const foreign = isWandb(doc) || wrapped ? undefined : foreignFile(doc);
  if (isWandb(doc)) {
    imported = fromWandb(doc, file, options);
  } else if (wrapped && isObject(doc)) {
    imported = fromWandb(wrapped, file, options);
    const others = Object.keys(doc).filter((k) => k !== "sweep");
    imported.notes.unshift(
      `${file}: sweep: the W&B sweep under this key is read${others.length ? `; the file's other keys (${others.join(", ")}) are not` : ""}`,
    );
  } else if (foreign) {
    imported = { format: "wandb", raw: {}, notes: [], problems: [{ file, ...foreign }] };
  } else if (isObject(doc) && "search_space_json" in doc && !("search_space" in doc)) {
    imported = fromM34Job(doc, file);
  } else {
    imported = { format: "tunix-rt", raw: doc, notes: [], problems: [] };
    // An M28/M34 payload that says it is Ray Tune's: its types carry Ray's meanings.
    if (isObject(doc) && doc.mode === "ray") {
      const { mode: _mode, ...rest } = doc;
      imported.raw = rest;
      imported.notes.push(
        `${file}: mode: "ray": the search space carries Ray Tune's meanings (randint excludes its upper bound)`,
      );
    }
  }
  const problems: Problem[] = [];
  if (imported.format !== "wandb" && isObject(imported.raw)) {
    // Ray's types, wherever they appear; Ray's randint where the file says it is Ray's.
    const ray = isObject(doc) && doc.mode === "ray";
    const at = imported.format === "m34-job" ? "search_space_json" : "search_space";
    const space = rayMeanings(imported.raw.search_space, ray, file, at, imported.notes, problems);
    if (space !== undefined) imported.raw = { ...imported.raw, search_space: space };
  }
  const raw = plainNumbers(imported.raw, file, "", problems, new Set());
  return {
    ...imported,
    raw,
    notes: imported.notes.map((note) => oneLineProblem({ file: "", path: "", message: note }).message),
    problems: [...imported.problems, ...problems].map(oneLineProblem),
  };
}

/**
 * A file that is not a sweep config but holds one, or is another tool's: what it is and what
 * to do, instead of "search_space: missing".
 */
function foreignFile(doc: unknown): { path: string; message: string } | undefined {
  if (!isObject(doc) || "search_space" in doc) return undefined;
  // A Launch sweep or the old tune format, with or without W&B's keys.
  const unusual = unusualFile(doc);
  if (unusual) return unusual;
  const hydra = doc.hydra;
  if (isObject(hydra) && isObject(hydra.sweeper))
    return {
      path: "hydra.sweeper",
      message:
        "a Hydra sweeper plugin config: the W&B sweep it embeds goes in a sweep file of its own (method, metric, parameters), which tunix-rt reads",
    };
  const holder = Object.keys(doc).find((k) => isWandb(doc[k]));
  if (holder !== undefined)
    return {
      path: holder,
      message: `holds a W&B sweep beside other keys; put the sweep in a file of its own (or alone under sweep:), which tunix-rt reads`,
    };
  if ("parameters" in doc && !("method" in doc))
    return { path: "method", message: "missing; a W&B sweep needs one of random, grid, bayes" };
  return undefined;
}

/** Whether a document is a W&B sweep: top-level `parameters`, and `method` or `metric`, and no search_space. */
export function isWandb(doc: unknown): doc is Record<string, unknown> {
  return (
    isObject(doc) && !("search_space" in doc) && "parameters" in doc && ("method" in doc || "metric" in doc)
  );
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
