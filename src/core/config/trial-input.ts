import { type Problem, quote } from "../errors.js";
import { isObject } from "../json.js";
import type { PlannedTrial } from "../types.js";
import { oneLineProblem, type SweepConfig } from "./config.js";
import { choiceIndex } from "./space.js";

/**
 * Checks a trial as a matrix entry carries it (`{sweep_id, trial_id, seed, params, budget?}`)
 * against the config's search space: every parameter present, no unknown one, and values of
 * the right kind. Extra keys of the entry (a workflow may add its own) are ignored.
 */
export function parsePlannedTrial(
  value: unknown,
  config: SweepConfig,
  file: string,
): { ok: true; trial: PlannedTrial } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = (path: string, message: string) => problems.push({ file, path, message });
  if (!isObject(value))
    return {
      ok: false,
      problems: [
        {
          file,
          path: "",
          message: `got ${quote(value)}; expected a trial object {sweep_id, trial_id, seed, params}`,
        },
      ],
    };
  const { sweep_id, trial_id, seed, params, budget, repeat_of, wave } = value;
  // It names folders (runs/<sweep_id>/) and artifacts: one safe path segment.
  if (typeof sweep_id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(sweep_id))
    at("sweep_id", `${got(sweep_id)}; expected the sweep's id (a UUID: letters, digits, '.', '_', '-')`);
  if (typeof trial_id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(trial_id)) {
    at("trial_id", `${got(trial_id)}; expected an id like "t0003" (letters, digits, '.', '_', '-')`);
  }
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0)
    at("seed", `${got(seed)}; expected a whole number >= 0`);
  if (budget !== undefined && (typeof budget !== "number" || !(budget > 0)))
    at("budget", `got ${quote(budget)}; expected a number > 0`);
  // It names the wave's artifact a pruned trial job reads the earlier curves from.
  if (wave !== undefined && (typeof wave !== "number" || !Number.isInteger(wave) || wave < 1 || wave > 1000))
    at(
      "wave",
      `got ${quote(wave)}; expected the wave the trial was planned in, a whole number from 1 to 1000`,
    );
  if (
    repeat_of !== undefined &&
    (typeof repeat_of !== "string" || repeat_of === "" || repeat_of === trial_id)
  )
    at("repeat_of", `got ${quote(repeat_of)}; expected the id of the trial this one runs again`);
  if (!isObject(params)) at("params", `${got(params)}; expected an object of parameter values`);
  else {
    for (const name of Object.keys(config.search_space)) {
      if (!Object.hasOwn(params, name)) at(`params.${name}`, `missing; the search space has ${name}`);
    }
    for (const [name, v] of Object.entries(params)) {
      // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
      const spec = Object.hasOwn(config.search_space, name) ? config.search_space[name] : undefined;
      if (!spec)
        at(
          `params.${name}`,
          `unknown parameter; expected one of ${Object.keys(config.search_space).join(", ")}`,
        );
      else if (spec.type !== "choice" && (typeof v !== "number" || !Number.isFinite(v)))
        at(`params.${name}`, `got ${quote(v)}; expected a number (${spec.type})`);
      else if (spec.type === "randint" && !Number.isInteger(v))
        at(`params.${name}`, `got ${quote(v)}; expected a whole number (randint)`);
      else if (spec.type === "choice" && choiceIndex(spec, v) < 0)
        at(
          `params.${name}`,
          `got ${quote(v)}; expected one of ${spec.values.map((c) => JSON.stringify(c)).join(", ")}`,
        );
    }
  }
  // A key may hold a line break ("a\nb" is valid JSON): keep each problem one line.
  if (problems.length) return { ok: false, problems: problems.map(oneLineProblem) };
  return { ok: true, trial: value as unknown as PlannedTrial };
}

/** "missing" or "got <value>", for a field's message. */
function got(value: unknown): string {
  return value === undefined ? "missing" : `got ${quote(value)}`;
}
