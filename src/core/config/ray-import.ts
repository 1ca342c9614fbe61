/**
 * Ray Tune's search-space types as the original project's M28/M34 payloads write them
 * (`{type, min, max, q}`), with Ray's meanings. Ray's randint and lograndint exclude their
 * upper bound, where tunix-rt's randint (DESIGN.md) includes it: a payload that says it is
 * Ray's (`mode: ray`, as the M34 API's jobs do) has its randint read as Ray reads it. The
 * types only Ray has (qrandint, lograndint, qlograndint, grid_search) are Ray's wherever
 * they appear.
 */
import type { Problem } from "../errors.js";
import { quote } from "../errors.js";
import { isObject } from "../json.js";

/** The search space with Ray's types in tunix-rt's terms; each change a note. */
export function rayMeanings(
  space: unknown,
  ray: boolean,
  file: string,
  at: string,
  notes: string[],
  problems: Problem[],
): unknown {
  if (!isObject(space)) return space;
  const out: Record<string, unknown> = {};
  let changed = false;
  for (const [name, spec] of Object.entries(space)) {
    const path = `${at}.${name}`;
    const translated = isObject(spec) ? rayParam(spec, ray, file, path, notes, problems) : spec;
    changed ||= translated !== spec;
    Object.defineProperty(out, name, {
      value: translated,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  // Unchanged, the very object: a document that holds itself is still named where it does.
  return changed ? out : space;
}

const whole = (v: unknown): number | undefined => {
  const n = typeof v === "bigint" ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) ? n : undefined;
};

function rayParam(
  spec: Record<string, unknown>,
  ray: boolean,
  file: string,
  path: string,
  notes: string[],
  problems: Problem[],
): unknown {
  const { type, ...rest } = spec;
  /** Ray's [min, max): whole numbers min..max-1. */
  const exclusive = (then: (max: number) => Record<string, unknown>, what: string) => {
    const min = whole(rest.min);
    const max = whole(rest.max);
    if (min === undefined || max === undefined || max - 1 < min) {
      problems.push({
        file,
        path,
        message: `got min ${quote(rest.min)}, max ${quote(rest.max)}; Ray Tune's ${what} takes whole numbers with min < max (max excluded)`,
      });
      return spec;
    }
    notes.push(
      `${file}: ${path}: Ray Tune's ${what} [${min}, ${max}) excludes its upper bound, so ${max - 1} is the largest value`,
    );
    return then(max - 1);
  };
  switch (type) {
    case "randint":
      return ray ? exclusive((max) => ({ ...rest, type: "randint", max }), "randint") : spec;
    case "lograndint":
      return exclusive((max) => ({ type: "qloguniform", min: rest.min, max, q: 1 }), "lograndint");
    case "qrandint":
    case "qlograndint":
      // Ray's q forms include the upper bound: multiples of q (1 by default) within [min, max].
      notes.push(
        `${file}: ${path}: Ray Tune's ${type} is ${type === "qrandint" ? "quniform" : "qloguniform"} with q ${quote(rest.q ?? 1)}`,
      );
      return {
        type: type === "qrandint" ? "quniform" : "qloguniform",
        min: rest.min,
        max: rest.max,
        q: rest.q ?? 1,
      };
    case "grid_search":
      notes.push(
        `${file}: ${path}: Ray Tune's grid_search runs every value num_samples times, crossed with the other parameters; here it is a choice (sampler: grid runs every combination once)`,
      );
      return { type: "choice", values: rest.values };
    default:
      return spec;
  }
}
