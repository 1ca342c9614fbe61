// Settings of one training run, from (lowest to highest precedence) built-in defaults, the
// trial contract's environment, the params file named by TUNIX_RT_PARAMS_FILE, and flags.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A problem with the user's input: reported as one line, exit code 2 (DESIGN.md exit codes). */
export class InputError extends Error {}

/** The four M34 hyperparameters, by their names in the search space and params file. */
export const PARAM_NAMES = /** @type {const} */ ([
  "learning_rate",
  "per_device_batch_size",
  "weight_decay",
  "warmup_steps",
]);

/** Defaults: a configuration that trains well at the default budget. */
export const DEFAULTS = {
  learning_rate: 0.03,
  per_device_batch_size: 8,
  weight_decay: 0.01,
  warmup_steps: 100,
  budget: 1500,
  seed: 42,
};

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The project's evalset for this trainer, found next to this folder so runs by hand work anywhere. */
export const DEFAULT_EVALSET = path.join(HERE, "..", "evalsets", "example_eval.jsonl");

/** Flags and the setting each one fills; `--steps` and `--per-device-batch-size` are aliases. */
const FLAGS = {
  "--learning-rate": "learning_rate",
  "--batch-size": "per_device_batch_size",
  "--per-device-batch-size": "per_device_batch_size",
  "--weight-decay": "weight_decay",
  "--warmup-steps": "warmup_steps",
  "--budget": "budget",
  "--steps": "budget",
  "--seed": "seed",
  "--output-dir": "output_dir",
  "--evalset": "evalset",
};

export const USAGE = `usage: node training/example/train.mjs [options]
  --learning-rate X    peak AdamW step size (> 0)                 [params file, default ${DEFAULTS.learning_rate}]
  --batch-size N       problems per minibatch (whole, >= 1)       [params file, default ${DEFAULTS.per_device_batch_size}]
  --weight-decay X     decoupled AdamW weight decay (>= 0)        [params file, default ${DEFAULTS.weight_decay}]
  --warmup-steps N     steps of linear learning-rate warmup (>= 0)[params file, default ${DEFAULTS.warmup_steps}]
  --budget N           training steps (alias --steps)             [TUNIX_RT_BUDGET, default ${DEFAULTS.budget}]
  --seed N             seed of weights and batch order            [TUNIX_RT_SEED, default ${DEFAULTS.seed}]
  --output-dir DIR     where predictions, metrics, checkpoint go  [TUNIX_RT_OUTPUT_DIR, required]
  --evalset FILE       JSONL of {id, prompt, ...} to answer       [TUNIX_RT_EVALSET, default training/evalsets/example_eval.jsonl]
Params file: TUNIX_RT_PARAMS_FILE (JSON with ${PARAM_NAMES.join(", ")}). Flags win over it.
  --no-resume          ignore TUNIX_RT_RESUME_FROM and train from step 0 (a trainer that cannot resume)
Resume: TUNIX_RT_RESUME_FROM=DIR holding a checkpoint.json written by this trainer.`;

/**
 * @typedef {object} Settings
 * @property {number} learning_rate        peak step size of AdamW
 * @property {number} per_device_batch_size problems per minibatch
 * @property {number} weight_decay          decoupled weight decay factor
 * @property {number} warmup_steps          steps over which the step size rises linearly to its peak
 * @property {number} budget                total training steps
 * @property {number} seed                  seed of the weights and the batch order
 * @property {string} output_dir            folder for predictions.jsonl, metrics.jsonl, checkpoint.json
 * @property {string} evalset               JSONL file of items to answer
 * @property {string | null} resume_from    folder holding a checkpoint.json to continue from
 * @property {boolean} ignored_resume       TUNIX_RT_RESUME_FROM was set and --no-resume ignored it
 * @property {boolean} help                 print usage and exit
 */

/**
 * Reads the settings. Throws InputError for an unknown flag, a missing value, an unreadable
 * or malformed params file, or a value of the wrong kind or out of range.
 * @param {string[]} argv the arguments after the script name
 * @param {Record<string, string | undefined>} env
 * @returns {Settings}
 */
export function readSettings(argv, env) {
  /** @type {Record<string, unknown>} */
  const raw = {};
  /** @type {Record<string, string>} where each raw value came from, for messages */
  const source = {};
  const set = (key, value, from) => {
    raw[key] = value;
    source[key] = from;
  };

  const fromEnv = [
    ["TUNIX_RT_OUTPUT_DIR", "output_dir"],
    ["TUNIX_RT_SEED", "seed"],
    ["TUNIX_RT_EVALSET", "evalset"],
    ["TUNIX_RT_BUDGET", "budget"],
  ];
  for (const [name, key] of fromEnv) {
    const value = env[name];
    if (value !== undefined && value !== "") set(key, value, name);
  }

  const paramsFile = env.TUNIX_RT_PARAMS_FILE;
  if (paramsFile) {
    for (const [key, value] of Object.entries(readParamsFile(paramsFile)))
      set(key, value, `${paramsFile}: ${key}`);
  }

  let help = false;
  let noResume = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--no-resume") {
      noResume = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS[/** @type {keyof typeof FLAGS} */ (flag)];
    if (!key) throw new InputError(`unknown argument ${JSON.stringify(arg)}; see --help`);
    let value;
    if (flag !== arg) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      // "--budget --seed 3" means a forgotten value, not a budget of "--seed".
      if (value === undefined || value.startsWith("--")) throw new InputError(`${flag}: missing value`);
    }
    set(key, value, flag);
  }
  if (help) return /** @type {Settings} */ ({ ...DEFAULTS, help: true });

  const number = (key, check, expected) => {
    if (!(key in raw)) return DEFAULTS[/** @type {keyof typeof DEFAULTS} */ (key)];
    const value = toNumber(raw[key]);
    if (value === null || !check(value)) {
      throw new InputError(`${source[key]}: got ${JSON.stringify(raw[key])}; expected ${expected}`);
    }
    return value;
  };
  const whole = (min, max) => (v) => Number.isInteger(v) && v >= min && v <= max;
  const settings = {
    learning_rate: number("learning_rate", (v) => v > 0 && v <= 10, "a number in (0, 10]"),
    per_device_batch_size: number("per_device_batch_size", whole(1, 4096), "a whole number from 1 to 4096"),
    weight_decay: number("weight_decay", (v) => v >= 0 && v <= 10, "a number in [0, 10]"),
    warmup_steps: number("warmup_steps", whole(0, 1e7), "a whole number >= 0"),
    budget: number("budget", whole(0, 1e7), "a whole number of steps >= 0"),
    seed: number("seed", whole(0, 2 ** 32 - 1), "a whole number from 0 to 4294967295"),
    output_dir: typeof raw.output_dir === "string" ? raw.output_dir : "",
    evalset: typeof raw.evalset === "string" ? raw.evalset : DEFAULT_EVALSET,
    resume_from: env.TUNIX_RT_RESUME_FROM && !noResume ? env.TUNIX_RT_RESUME_FROM : null,
    ignored_resume: Boolean(env.TUNIX_RT_RESUME_FROM) && noResume,
    help: false,
  };
  if (!settings.output_dir)
    throw new InputError("no output folder: pass --output-dir DIR or set TUNIX_RT_OUTPUT_DIR");
  return settings;
}

/**
 * Reads the params file: a JSON object whose keys are among PARAM_NAMES. An unknown key is an
 * error, so a misspelt search-space name cannot silently leave a default in place.
 * @param {string} file
 */
function readParamsFile(file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`${file}: cannot read the params file (TUNIX_RT_PARAMS_FILE): ${reason(error)}`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: not valid JSON: ${reason(error)}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError(`${file}: expected a JSON object of parameters`);
  }
  for (const key of Object.keys(value)) {
    if (!PARAM_NAMES.includes(/** @type {any} */ (key))) {
      throw new InputError(
        `${file}: ${key}: unknown parameter; this trainer takes ${PARAM_NAMES.join(", ")}`,
      );
    }
  }
  return value;
}

/**
 * A number from a JSON number or a decimal string ("0.01", "1e-3", " 4 "); null otherwise.
 * Stricter than Number(), which reads "" as 0 and "0x10" as 16.
 * @param {unknown} value
 */
function toNumber(value) {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value !== "string") return null;
  const text = value.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return null;
  const number = Number(text);
  return Number.isFinite(number) ? number : null;
}

/** @param {unknown} error */
export function reason(error) {
  const code = /** @type {{ code?: string }} */ (error)?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
