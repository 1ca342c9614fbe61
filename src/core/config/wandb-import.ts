/**
 * Weights & Biases sweep files, read with W&B's meanings (W&B's sweep configuration reference
 * and its agent): `method`, `metric`, `parameters` (nested groups as dotted names, any JSON
 * value as a category, repeated values and `probabilities` as weights, constants of any
 * type), grid as W&B's grid, `run_cap`, `early_terminate`, `command` / `program` as the
 * trainer, `name` as the run_version. See docs/config.md, "W&B sweeps".
 */

import type { Problem } from "../errors.js";
import { isObject } from "../json.js";
import { isSafeRunVersion, metricModeRule, runVersionRule } from "./config.js";
import type { ImportedConfig, ImportOptions } from "./imported.js";
import { pythonStr, wandbArgMacros } from "./wandb-args.js";
import { maxGridPoints, quote, setOwn, translateParameters } from "./wandb-params.js";

const wandbMethods: Record<string, string> = { random: "random", grid: "grid", bayes: "auto" };

/**
 * How many trials a random or bayes sweep without `run_cap` runs. W&B's own runs until it is
 * stopped; a sweep here needs a number, and the import says which.
 */
export const wandbDefaultRunCap = 20;

/** W&B keys with no tunix-rt meaning; each dropped with a note when present. */
const wandbDropped: Record<string, string> = {
  project: "W&B project has no tunix-rt meaning",
  entity: "W&B entity has no tunix-rt meaning",
  description: "kept nowhere",
  controller: "W&B's sweep controller; tunix-rt plans the trials itself",
};

/** W&B's agent's values for its command macros that do not depend on the trial. */
const constantMacros: Record<string, string> = { env: "/usr/bin/env", interpreter: "python" };

/** W&B's default command, when a sweep gives `program` and no `command`. */
const defaultCommand = ["env", "interpreter", "program", "args"].map((m) => `\${${m}}`);

/**
 * A W&B sweep file in tunix-rt's form, with W&B's meanings (see docs/config.md, "W&B sweeps"):
 * every parameter construct of W&B's sweep configuration that tunix-rt can sample exactly,
 * grid as W&B's grid, `command` as the trainer's argv with W&B's macros, `name` as the
 * run_version. What changes meaning or is dropped gets a note; what cannot be kept is a
 * problem that says why.
 */
export function fromWandb(
  doc: Record<string, unknown>,
  file: string,
  options: ImportOptions,
): ImportedConfig {
  const notes: string[] = [];
  const problems: Problem[] = [];
  const raw: Record<string, unknown> = {};
  // W&B infers int_uniform from integer bounds; a YAML `1.0` is a float there.
  const isInteger = (v: unknown) => typeof v === "bigint" || (!options.intsAsBigInt && Number.isInteger(v));
  const method = doc.method;
  const unusual = unusualFile(doc);
  if (!unusual && method === undefined) {
    problems.push({ file, path: "method", message: "missing; W&B requires one of random, grid, bayes" });
    return { format: "wandb", raw, notes, problems };
  }
  if (unusual) {
    problems.push({ file, path: unusual.path, message: unusual.message });
    return { format: "wandb", raw, notes, problems };
  }
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
        raw.search_space = translateParameters(value, file, problems, notes, isInteger, method === "grid");
        break;
      case "run_cap":
        raw.num_samples = value;
        break;
      case "program":
      case "command":
      case "name":
        break; // below, with the keys they depend on
      default:
        if (key in wandbDropped) notes.push(`${file}: ${key}: dropped (${wandbDropped[key]})`);
        // tunix-rt keys (run_version, trainer, evalset, ...) may sit beside W&B ones.
        else setOwn(raw, key, value);
    }
  }
  if (problems.length > 0) return { format: "wandb", raw, notes, problems };
  const translation: Translation = { doc, raw, file, notes, problems };
  sweepSize(translation);
  trainerOf(translation);
  nameAndProvenance(doc, raw, file, notes);
  return { format: "wandb", raw, notes, problems };
}

/**
 * Files that look like W&B sweeps but are something else: said plainly, with what to do.
 */
export function unusualFile(doc: Record<string, unknown>): { path: string; message: string } | undefined {
  if (doc.method === "custom" || "scheduler" in doc || "job" in doc || "queue" in doc)
    return {
      path: "method" in doc && doc.method === "custom" ? "method" : "scheduler" in doc ? "scheduler" : "job",
      message:
        "a W&B Launch sweep (method: custom, a scheduler such as the Optuna scheduler job, or a job and queue): W&B Launch runs a scheduler job that hands runs to a queue, which tunix-rt does not do; write method: random, grid or bayes, and a trainer section (or program/command) that runs the training script",
    };
  if ("tune" in doc || "search_alg" in doc)
    return {
      path: "tune" in doc ? "tune" : "search_alg",
      message:
        "a Ray Tune or hyperopt search configuration (the old W&B tune format): tunix-rt reads W&B's parameters section or its own search_space; write the space there",
    };
  return undefined;
}

/** One W&B document's translation under way: the document, the config being built, what it says. */
interface Translation {
  doc: Record<string, unknown>;
  raw: Record<string, unknown>;
  file: string;
  notes: string[];
  problems: Problem[];
}

/** How many trials run: W&B's run_cap, the whole grid without it, a stated default otherwise. */
function sweepSize({ doc, raw, file, notes, problems }: Translation): void {
  if (doc.method === "grid") {
    let points = 1;
    for (const spec of Object.values((raw.search_space ?? {}) as Record<string, { values?: unknown[] }>))
      points *= spec.values?.length ?? 1;
    if (points > maxGridPoints && doc.run_cap === undefined) {
      problems.push({
        file,
        path: "parameters",
        message: `the grid has ${points} points, more than the ${maxGridPoints} tunix-rt runs; give run_cap, or fewer values`,
      });
      return;
    }
    if (doc.run_cap === undefined) {
      raw.num_samples = points;
      notes.push(`${file}: method: grid runs every one of its ${points} points, as W&B's grid does`);
    } else
      notes.push(
        `${file}: run_cap: ${quote(doc.run_cap)} of the grid's ${points} points run, in tunix-rt's order (shuffled by the seed), where W&B takes them in its own order`,
      );
    return;
  }
  if (doc.run_cap === undefined) {
    raw.num_samples = wandbDefaultRunCap;
    notes.push(
      `${file}: run_cap: not given; W&B runs until the sweep is stopped, tunix-rt runs ${wandbDefaultRunCap} trials (give run_cap to choose)`,
    );
  }
}

/**
 * The trainer: a `trainer` section as written; else W&B's `command` (or its default command
 * with `program`) as the argv W&B's agent runs, its macros kept for each trial
 * (src/core/config/wandb-args.ts).
 */
function trainerOf({ doc, raw, file, notes, problems }: Translation): void {
  const command = doc.command;
  const program = doc.program;
  if ("trainer" in doc) {
    if (command !== undefined || program !== undefined)
      notes.push(
        `${file}: ${command !== undefined ? "command" : "program"}: not used; the trainer section runs the trials`,
      );
    return;
  }
  if (command === undefined && program === undefined) return;
  const items: unknown = command === undefined ? defaultCommand : command;
  if (
    !Array.isArray(items) ||
    items.some((c) => typeof c !== "string" && typeof c !== "number" && typeof c !== "bigint")
  ) {
    problems.push({
      file,
      path: "command",
      message: `got ${quote(command)}; expected a list of strings (W&B's command is an argv)`,
    });
    return;
  }
  const argv: string[] = [];
  // A number in the list (`- 8`) is an argument as Python's str() writes it.
  const elements = items.map((c: unknown) =>
    typeof c === "string" ? c : pythonStr(Number(c), typeof c === "number" && !Number.isInteger(c)),
  );
  for (const [i, element] of elements.entries()) {
    const macro = /^\$\{([A-Za-z_]+)(?::([A-Za-z_][A-Za-z0-9_]*))?\}$/.exec(element);
    // A literal brace is a placeholder's in tunix-rt: doubled, it stays a brace.
    if (!macro) {
      if (element.includes("${"))
        problems.push({
          file,
          path: `command.${i}`,
          message: `got ${quote(element)}; a W&B macro is a whole element, one of \${env}, \${interpreter}, \${program}, \${args}, \${args_no_hyphens}, \${args_no_boolean_flags}, \${args_json}, \${args_json_file}, \${envvar:NAME}`,
        });
      argv.push(element.replace(/[{}]/g, (c) => c + c));
      continue;
    }
    const [, name = "", variable] = macro;
    if (name === "program") {
      if (typeof program !== "string" || program === "") {
        problems.push({
          file,
          path: "program",
          message: `got ${quote(program)}; the command uses \${program}, so program must name the training script`,
        });
        return;
      }
      argv.push(program.replace(/[{}]/g, (c) => c + c));
    } else if (name in constantMacros && variable === undefined) argv.push(constantMacros[name] as string);
    else if (name === "envvar" && variable !== undefined) argv.push(`{wandb:envvar:${variable}}`);
    else if ((wandbArgMacros as readonly string[]).includes(name) && variable === undefined)
      argv.push(`{wandb:${name}}`);
    else {
      problems.push({
        file,
        path: `command.${i}`,
        message: `got ${quote(element)}; expected one of W&B's macros \${env}, \${interpreter}, \${program}, \${args}, \${args_no_hyphens}, \${args_no_boolean_flags}, \${args_json}, \${args_json_file}, \${envvar:NAME}`,
      });
      return;
    }
  }
  raw.trainer = { command: argv };
  notes.push(
    `${file}: ${command === undefined ? "program" : "command"}: runs as W&B's agent would run it (\${interpreter} is python, \${env} /usr/bin/env, parameters in W&B's formatting); to be scored, the trainer writes predictions.jsonl to $TUNIX_RT_OUTPUT_DIR, and wandb.config gets no values without W&B's agent (read the arguments, or $TUNIX_RT_PARAMS_FILE)`,
  );
}

/** `name` as the run_version where it can be one; the model and dataset as the file gives them, else null. */
function nameAndProvenance(
  doc: Record<string, unknown>,
  raw: Record<string, unknown>,
  file: string,
  notes: string[],
): void {
  const name = doc.name;
  if (name !== undefined) {
    raw.name = name;
    if (raw.run_version === undefined) {
      if (typeof name === "string" && isSafeRunVersion(name)) raw.run_version = name;
      else
        notes.push(
          `${file}: name: ${quote(name)} is not a run_version (${runVersionRule}), so the evidence folder keeps the default name: give run_version`,
        );
    }
  }
  for (const [key, what] of [
    ["base_model_id", "model"],
    ["dataset_key", "dataset"],
  ] as const) {
    if (raw[key] !== undefined) continue;
    raw[key] = null;
    notes.push(
      `${file}: ${key}: not given; the evidence records the ${what} as null (give ${key} to name it)`,
    );
  }
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
  } else if (typeof name === "string" && name !== "") {
    // The trainer's own number: recorded for each trial (the pruning metric too, with
    // early_terminate), never what trials are ranked by.
    raw.tracked_metric = { name, mode: goal === "maximize" ? "max" : "min" }; // W&B minimizes by default
    notes.push(
      `${file}: metric: ${quote(name)}${goal === undefined ? "" : ` (${goal})`} is recorded as tracked_metric, each trial's last value of it in metrics.jsonl (a trainer that logs only to W&B leaves it null); trials are ranked by primary_score, graded from each trial's predictions against the evalset, highest first`,
    );
  } else {
    problems.push({
      file,
      path: "metric.name",
      message: `got ${quote(name)}; expected the name of the metric`,
    });
  }
  for (const key of Object.keys(value)) {
    if (key !== "name" && key !== "goal") notes.push(`${file}: metric.${key}: dropped (no tunix-rt meaning)`);
  }
}
