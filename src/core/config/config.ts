import { z } from "zod";
import { type Problem, quote } from "../errors.js";
import { canonicalJson } from "../json.js";
import { escapeControlCharacters } from "../json-text.js";
import { finite, isShaped, ParamSchema } from "./params.js";
import { PruningSchema } from "./pruning.js";
import { type SamplerName, samplerNames } from "./sampler-names.js";
import { multiplesRange } from "./space.js";
import { isWandbPlaceholder, wandbArgMacros, wandbMacroOf } from "./wandb-args.js";
import { issueToProblem } from "./zod-problems.js";

export { isShaped, ParamSchema, type ParamSpec, paramTypes, type ShapedParam } from "./params.js";

/** How a trial's trainer runs: an argv (never a shell string), a timeout and extra env. */
export const TrainerSchema = z.strictObject({
  /** argv; `{name}` placeholders name a parameter or trial_id, output_dir, seed, budget. */
  command: z.array(z.string()).min(1),
  /** Minutes before the trainer and its process group are stopped (fractions allowed). */
  timeout_minutes: z.number().positive().default(120),
  /** Extra environment for the trainer; values may use the same placeholders. */
  env: z.record(z.string(), z.string()).default({}),
});

/**
 * Successive halving across waves (multi-fidelity): every configuration first runs at
 * `min_budget`; the best 1/eta of a rung go on at eta times the budget, up to `max_budget`
 * (the last rung runs exactly `max_budget`). The trainer sees the budget as `{budget}` and
 * `TUNIX_RT_BUDGET`. See src/core/search/fidelity.ts.
 */
export const FidelitySchema = z.strictObject({
  /** Budget of rung 0 (steps, epochs, ... as the trainer reads it); > 0. */
  min_budget: finite.positive(),
  /** Budget of the last rung; >= min_budget. */
  max_budget: finite.positive(),
  /** Reduction factor: rung r+1 runs the best 1/eta of rung r at eta times its budget; > 1. */
  eta: finite.gt(1).default(3),
  /**
   * Whether a promoted trial is told its parent's folder (`TUNIX_RT_RESUME_FROM`) to resume
   * from its checkpoint; a trainer that cannot resume ignores it and starts over.
   */
  resume: z.boolean().default(true),
});

/**
 * Re-evaluation before promotion: once the search is through, the `top_k` configurations
 * the recommendation rule rates best run `repeats` more times each, with new trainer seeds
 * (each a trial of its own, `repeat_of` its original); the promoted configuration is then the
 * one with the best mean over its runs. See src/core/search/recommend.ts.
 */
export const ReevaluateSchema = z.strictObject({
  /** How many configurations run again; 1..32. */
  top_k: z.number().int().min(1).max(32),
  /** How many more runs each of them gets; 1..16. */
  repeats: z.number().int().min(1).max(16),
});

/**
 * The sweep config: the keys and defaults of the M34 tuning payload and `SweepConfig`, plus
 * what a pipeline needs (DESIGN.md, "Sweep config"). Unknown keys are errors.
 */
export const SweepConfigSchema = z.strictObject({
  name: z.string().min(1).default("Tuning Sweep"),
  /** Evidence goes to `submission_runs/<run_version>/`; also a branch and file name part. */
  run_version: z.string().default("m34_v1"),
  /** null: the config does not say (an imported W&B file); the evidence records null. */
  dataset_key: z.string().nullable().default("dev-reasoning-v2"),
  /** null: the config does not say (an imported W&B file); the evidence records null. */
  base_model_id: z.string().nullable().default("google/gemma-3-1b-it"),
  /** What the trials' primary_score measures, for the record (the M34 default). */
  metric_name: z.string().default("answer_correctness"),
  /**
   * Kept from the M34 payload, where it is always max: primary_score is higher-is-better by
   * definition (the share of correct answers), so "min" is refused (`checkMetricMode`).
   */
  metric_mode: z.enum(["max", "min"]).default("max"),
  num_samples: z.number().int().min(1).default(5),
  /** Becomes the matrix's max-parallel. */
  max_concurrent_trials: z.number().int().min(1).default(1),
  /** null: no limit (a sweep succeeds when one trial completes). */
  max_failed_trials: z.number().int().min(0).nullable().default(null),
  /**
   * Without max_failed_trials, the sweep stops when this many trials have failed and none
   * has completed (a trainer that fails every trial would fail the rest too); 0: never.
   */
  early_stop_failures: z.number().int().min(0).default(3),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(42),
  sampler: z.enum(samplerNames).default("auto"),
  /**
   * The sweep runs as this many waves of ceil(num_samples / waves) trials; wave k+1 is
   * proposed from the results of waves 1..k (1: every trial is planned at once). With
   * `fidelity`, it splits rung 0 into waves; the later rungs follow as waves of their own.
   * Absent: a local sweep plans each trial when a worker frees up, from every result so far;
   * on GitHub the waves follow the runners (`scheduledWaves`).
   */
  waves: z.number().int().min(1).optional(),
  /** Successive halving across waves; absent: every trial runs at the trainer's own budget. */
  fidelity: FidelitySchema.optional(),
  /**
   * How the best (promoted) configuration is chosen: "model", by the model's estimate of
   * each configuration's true score (scores are noisy: the best single observation is
   * partly luck); "best_observed", the trial with the best primary_score. See
   * src/core/search/recommend.ts.
   */
  recommend: z.enum(["model", "best_observed"]).default("model"),
  /** Run the best configurations again before promoting one; absent: no re-evaluation. */
  reevaluate: ReevaluateSchema.optional(),
  /** Stop losing trials while they train, from metrics.jsonl (src/core/search/pruning.ts); absent: none. */
  pruning: PruningSchema.optional(),
  /**
   * A number of the trainer's own in metrics.jsonl (`val_loss`, ...), recorded for each trial
   * as `tracked_metric: {name, value}` (its last value; null when it never wrote one) and
   * shown on the leaderboard; never what trials are ranked by (that is primary_score).
   */
  tracked_metric: z
    .strictObject({ name: z.string().min(1), mode: z.enum(["max", "min"]).default("max") })
    .optional(),
  /** Path of the evalset (JSONL), relative to the repository root. */
  evalset: z.string().min(1).optional(),
  search_space: z.record(z.string(), ParamSchema),
  trainer: TrainerSchema.optional(),
});

/** A validated sweep config, defaults filled in. */
export type SweepConfig = z.infer<typeof SweepConfigSchema>;
/** The `fidelity` section of a validated config. */
export type FidelityConfig = z.infer<typeof FidelitySchema>;

/** The most rungs a fidelity ladder may have (min_budget * eta^r up to max_budget). */
export const maxRungs = 32;
/** The trainer section of a validated config. */
export type TrainerConfig = z.infer<typeof TrainerSchema>;

/**
 * Names every trainer argv may use besides the parameters (the trial contract). A search-space
 * parameter may be named `seed` (W&B sweeps tune one): `{seed}` then gives the tuned value,
 * and the trial's own seed is still TUNIX_RT_SEED and `seed` in trial.json.
 */
export const contractPlaceholders = ["trial_id", "output_dir", "seed", "budget"] as const;
/** The contract placeholders no parameter may be named after. */
const reservedNames: readonly string[] = ["trial_id", "output_dir", "budget"];
/** What a parameter name may be, as W&B's sweep schema has it. */
export const paramNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Result of a validation stage: the value, or every problem found. */
export type Result<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

/** What a command needs of a config beyond the search space. */
export interface ConfigNeeds {
  /** Commands that run trials need `trainer`. */
  trainer?: boolean;
  /** Commands that grade trials need `evalset`. */
  evalset?: boolean;
}

/**
 * Validates an already-parsed config document in stages: schema, then cross-field rules.
 * `file` is only used to name the file in problems.
 */
export function validateConfig(raw: unknown, file: string, needs: ConfigNeeds = {}): Result<SweepConfig> {
  const parsed = SweepConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => oneLineProblem(issueToProblem(issue, file, knownKeys))),
    };
  }
  const config = parsed.data;
  const problems = [
    ...checkSearchSpace(config, file),
    ...checkRunVersion(config, file),
    ...checkTrainer(config, file),
    ...checkWaves(config, file),
    ...checkMetricMode(config, file),
  ];
  if (needs.trainer && !config.trainer) {
    problems.push({
      file,
      path: "trainer",
      message: "missing; this command runs trials and needs trainer.command",
    });
  }
  if (needs.evalset && !config.evalset) {
    problems.push({
      file,
      path: "evalset",
      message: "missing; this command grades trials and needs an evalset path",
    });
  }
  return problems.length
    ? { ok: false, problems: problems.map(oneLineProblem) }
    : { ok: true, value: config };
}

/**
 * A problem whose path and message hold no raw line break or other control character: keys
 * and placeholder names come from the user's file as they are (a YAML key may be "a\nb"), and
 * a problem is shown as one line (`file: path: message`), so they are written as `\u000a`.
 */
export function oneLineProblem(problem: Problem): Problem {
  return {
    ...problem,
    path: escapeControlCharacters(problem.path),
    message: escapeControlCharacters(problem.message),
  };
}

/** What a run_version may be, as error messages say it. */
export const runVersionRule =
  "letters, digits, '.', '_' or '-' (no '..', at most 100 characters), starting with a letter or digit, not ending in '.' or '.lock'";

/**
 * Whether a run_version is safe everywhere it goes: a folder name, a part of a git branch
 * name (git refuses a part ending in '.' or '.lock') and a part of the zip's name.
 */
export function isSafeRunVersion(v: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(v) && !v.includes("..") && !/\.(lock)?$/.test(v);
}

function checkRunVersion(config: SweepConfig, file: string): Problem[] {
  const v = config.run_version;
  if (!isSafeRunVersion(v)) {
    return [
      {
        file,
        path: "run_version",
        message: `got ${quote(v)}; expected ${runVersionRule}`,
      },
    ];
  }
  return [];
}

/** Why `metric_mode: min` is refused: minimizing primary_score would promote the worst trial. */
export const metricModeRule =
  "primary_score is higher-is-better by definition (the share of correct answers), so a sweep always promotes the highest; remove metric_mode or set it to max";

function checkMetricMode(config: SweepConfig, file: string): Problem[] {
  return config.metric_mode === "min"
    ? [{ file, path: "metric_mode", message: `got "min"; ${metricModeRule}` }]
    : [];
}

function checkSearchSpace(config: SweepConfig, file: string): Problem[] {
  const problems: Problem[] = [];
  const names = Object.keys(config.search_space);
  if (names.length === 0)
    problems.push({ file, path: "search_space", message: "is empty; expected at least one parameter" });
  for (const [name, spec] of Object.entries(config.search_space)) {
    const at = (key: string) => `search_space.${name}${key ? `.${key}` : ""}`;
    if (!paramNamePattern.test(name)) {
      problems.push({
        file,
        path: at(""),
        message: `parameter name ${quote(name)} must be letters, digits, '_', '.' and '-', starting with a letter or '_' (it is a {placeholder})`,
      });
    }
    if (reservedNames.includes(name)) {
      problems.push({
        file,
        path: at(""),
        message: `parameter name ${quote(name)} is reserved by the trial contract`,
      });
    }
    if (spec.type === "choice") {
      const seen = new Set<string>();
      spec.values.forEach((value, i) => {
        const key = canonicalJson(value);
        if (seen.has(key))
          problems.push({
            file,
            path: at(`values.${i}`),
            message: `got ${quote(value)} twice; expected distinct values (give weights to draw one more often)`,
          });
        seen.add(key);
      });
      const weights = spec.weights;
      if (weights && weights.length !== spec.values.length)
        problems.push({
          file,
          path: at("weights"),
          message: `got ${weights.length} weights for ${spec.values.length} values; expected one weight per value`,
        });
      else if (weights && !weights.some((w) => w > 0))
        problems.push({ file, path: at("weights"), message: "are all 0; expected at least one weight > 0" });
      continue;
    }
    if (isShaped(spec)) {
      for (const key of spec.type === "beta" ? (["a", "b"] as const) : (["sigma"] as const)) {
        const v = (spec as unknown as Record<string, number>)[key] as number;
        if (!(v > 0))
          problems.push({ file, path: at(key), message: `got ${v}; ${spec.type} needs ${key} > 0` });
      }
      if (spec.q !== undefined && !(spec.q > 0))
        problems.push({ file, path: at("q"), message: `got ${spec.q}; ${spec.type} needs q > 0` });
      continue;
    }
    if (spec.min > spec.max) {
      problems.push({
        file,
        path: at("max"),
        message: `got ${spec.max}, below min ${spec.min}; expected max >= min`,
      });
    }
    if ((spec.type === "loguniform" || spec.type === "qloguniform") && spec.min <= 0) {
      problems.push({ file, path: at("min"), message: `got ${spec.min}; ${spec.type} needs min > 0` });
    }
    if ((spec.type === "quniform" || spec.type === "qloguniform") && !(spec.q > 0)) {
      problems.push({ file, path: at("q"), message: `got ${spec.q}; ${spec.type} needs q > 0` });
    } else if ((spec.type === "quniform" || spec.type === "qloguniform") && spec.min <= spec.max) {
      // At least one multiple of q must lie in [min, max], or there is nothing to propose; the
      // samplers' own rule (multiplesRange) decides, so what validates can be planned.
      const { low, high } = multiplesRange(spec.min, spec.max, spec.q);
      const steps = Math.max(Math.abs(spec.min), Math.abs(spec.max)) / spec.q;
      if (steps > Number.MAX_SAFE_INTEGER) {
        // k * q is exact only for whole k up to 2^53; beyond it "a multiple of q" means nothing.
        problems.push({
          file,
          path: at("q"),
          message: `got ${spec.q}; too fine for bounds [${spec.min}, ${spec.max}] (more than 2^53 multiples of q); expected a larger q, or type ${spec.type.slice(1)}`,
        });
      } else if (low > high) {
        problems.push({
          file,
          path: at("q"),
          message: `got ${spec.q}; no multiple of q lies in [${spec.min}, ${spec.max}]`,
        });
      }
    }
  }
  return problems;
}

function checkWaves(config: SweepConfig, file: string): Problem[] {
  const problems: Problem[] = [];
  if (config.waves !== undefined && config.waves > config.num_samples) {
    problems.push({
      file,
      path: "waves",
      message: `got ${config.waves}; expected at most num_samples (${config.num_samples}): each wave needs a trial`,
    });
  }
  if (config.reevaluate && config.reevaluate.top_k > config.num_samples) {
    problems.push({
      file,
      path: "reevaluate.top_k",
      message: `got ${config.reevaluate.top_k}; expected at most num_samples (${config.num_samples})`,
    });
  } else if (config.reevaluate && config.reevaluate.top_k * config.reevaluate.repeats > 256) {
    problems.push({
      file,
      path: "reevaluate.repeats",
      message: `got ${config.reevaluate.repeats}; top_k * repeats is ${config.reevaluate.top_k * config.reevaluate.repeats}, over the 256 jobs of one wave`,
    });
  }
  const f = config.fidelity;
  if (!f) return problems;
  if (f.max_budget < f.min_budget) {
    problems.push({
      file,
      path: "fidelity.max_budget",
      message: `got ${f.max_budget}, below min_budget ${f.min_budget}; expected max_budget >= min_budget`,
    });
  } else if (Math.log(f.max_budget / f.min_budget) / Math.log(f.eta) > maxRungs - 1 + 1e-9) {
    problems.push({
      file,
      path: "fidelity.eta",
      message: `got ${f.eta}; from min_budget ${f.min_budget} to max_budget ${f.max_budget} that makes more than ${maxRungs} rungs`,
    });
  }
  return problems;
}

/** The `{name}` placeholders of one string; `{{` and `}}` are literal braces. */
export function placeholdersOf(text: string): string[] {
  const names: string[] = [];
  for (const match of text.replace(/\{\{|\}\}/g, "").matchAll(/\{([^{}]*)\}/g)) names.push(match[1] ?? "");
  return names;
}

/** Fills `{name}` placeholders from `values`; `{{`/`}}` become literal braces. */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, name: string | undefined) => {
    if (whole === "{{") return "{";
    if (whole === "}}") return "}";
    const value = name === undefined ? undefined : values[name];
    if (value === undefined) throw new Error(`unresolved placeholder ${whole}`);
    return value;
  });
}

function checkTrainer(config: SweepConfig, file: string): Problem[] {
  if (!config.trainer) return [];
  const known = new Set<string>([...Object.keys(config.search_space), ...contractPlaceholders]);
  const expected = `expected a parameter (${Object.keys(config.search_space).join(", ")}) or ${contractPlaceholders.join(", ")}`;
  const problems: Problem[] = [];
  const check = (text: string, path: string, argv: boolean) => {
    for (const name of placeholdersOf(text)) {
      if (isWandbPlaceholder(name)) {
        // A W&B macro stands for whole argv elements (src/core/config/wandb-args.ts).
        if (!argv || wandbMacroOf(text) === undefined)
          problems.push({
            file,
            path,
            message: `{${name}}: a W&B macro is a whole argv element, one of ${wandbArgMacros.map((m) => `{wandb:${m}}`).join(", ")} or {wandb:envvar:NAME}`,
          });
      } else if (!known.has(name))
        problems.push({ file, path, message: `unknown placeholder {${name}}; ${expected}` });
    }
  };
  config.trainer.command.forEach((arg, i) => {
    check(arg, `trainer.command.${i}`, true);
  });
  for (const [key, value] of Object.entries(config.trainer.env)) check(value, `trainer.env.${key}`, false);
  if (config.trainer.command[0] === "")
    problems.push({ file, path: "trainer.command.0", message: "is empty; expected the program to run" });
  return problems;
}

/** The keys a mapping of the config may hold, for an unknown key's message. */
function knownKeys(path: readonly PropertyKey[], input: unknown): string {
  if (path.length === 0) return Object.keys(SweepConfigSchema.shape).join(", ");
  if (path[0] === "trainer" && path.length === 1) return Object.keys(TrainerSchema.shape).join(", ");
  if (path[0] === "fidelity" && path.length === 1) return Object.keys(FidelitySchema.shape).join(", ");
  if (path[0] === "reevaluate" && path.length === 1) return Object.keys(ReevaluateSchema.shape).join(", ");
  if (path[0] === "pruning" && path.length === 1) return Object.keys(PruningSchema.shape).join(", ");
  if (path[0] === "search_space" && path.length === 2) {
    // The keys of the parameter's own type, so a `q` on a uniform reads as out of place.
    const type = (input as { type?: unknown } | undefined)?.type;
    const option = ParamSchema.options.find((o) => o.shape.type.value === type);
    if (option) return `${Object.keys(option.shape).join(", ")} (for type ${type})`;
    return "type, min, max, q, values (as the type needs)";
  }
  return "the documented keys";
}

/** The JSON Schema of a sweep config (for editors), generated from the zod schema. */
export function sweepConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(SweepConfigSchema, { io: "input", unrepresentable: "any" }),
    $id: "https://github.com/tunix-rt/tunix-rt/schema/sweep-config.schema.json",
    title: "tunix-rt sweep config",
  };
}

/**
 * What a sweep's trials mean: the parts of a config that decide which configurations are
 * tried and what a trial's score says. A sweep resumes (and may be extended) while these stay
 * the same; a change to any of them asks for a fresh sweep. Left out on purpose: the name,
 * num_samples and waves (raising them extends the sweep), the limits (max_concurrent_trials,
 * max_failed_trials, trainer.timeout_minutes), metric_name and comments. With successive
 * halving num_samples is in: it sizes every rung.
 */
export function trialMeaning(config: SweepConfig): Record<string, unknown> {
  return {
    search_space: config.search_space,
    trainer: config.trainer ? { command: config.trainer.command, env: config.trainer.env } : null,
    evalset: config.evalset ?? null,
    seed: config.seed,
    sampler: config.sampler,
    base_model_id: config.base_model_id,
    dataset_key: config.dataset_key,
    fidelity: config.fidelity ?? null,
    ...(config.fidelity ? { num_samples: config.num_samples } : {}),
    ...(config.pruning ? { pruning: config.pruning } : {}),
  };
}

/** The keys of two `trialMeaning`s that differ, in order. */
export function changedMeaning(before: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])];
  return keys.filter((key) => canonicalJson(before[key]) !== canonicalJson(now[key]));
}

/** Values given on the command line that replace the config's (`sweep --seed/--sampler/--num-samples`). */
export interface SweepOverrides {
  seed?: number | undefined;
  sampler?: SamplerName | undefined;
  numSamples?: number | undefined;
}

/** The config with the command line's values in place of its own. */
export function withOverrides(config: SweepConfig, overrides: SweepOverrides = {}): SweepConfig {
  return {
    ...config,
    ...(overrides.seed === undefined ? {} : { seed: overrides.seed }),
    ...(overrides.sampler === undefined ? {} : { sampler: overrides.sampler }),
    ...(overrides.numSamples === undefined ? {} : { num_samples: overrides.numSamples }),
  };
}
