/**
 * zod schemas for action inputs as the runner hands them over: every input is a string, and
 * an input that was not given is "" (or its action.yml default). Each schema turns that
 * string into a typed value or a message in the house form, `got "x"; expected ...`.
 * `readInputs` here is the one place that calls `core.getInput`; each action's `inputs.ts`
 * says which inputs it has and what they become.
 */
import * as core from "@actions/core";
import { z } from "zod";
import { InputError, type Problem, quote } from "../../core/errors.js";
import type { ModeSettings, ReadOptions, SettingsOf } from "./runner.js";

/** A string input; "" (not given) becomes undefined. Surrounding whitespace is dropped. */
export const optionalText = z.string().transform((s) => s.trim() || undefined);

/** A string input that must be given. */
export const requiredText = z
  .string()
  .transform((s) => s.trim())
  .refine((s) => s !== "", { message: "missing; this input is required" });

/** One of a few words; "" gives undefined, or the fallback when there is one. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, fallback?: T[number]) {
  return z.string().transform((raw, ctx): T[number] | undefined => {
    const s = raw.trim();
    if (s === "") return fallback;
    if ((values as readonly string[]).includes(s)) return s as T[number];
    ctx.addIssue({ code: "custom", message: `got ${quote(raw)}; expected ${choices(values)}` });
    return z.NEVER;
  });
}

/** One of a few words, which must be given. */
export function requiredOneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.string().transform((raw, ctx): T[number] => {
    const s = raw.trim();
    if ((values as readonly string[]).includes(s)) return s as T[number];
    ctx.addIssue({
      code: "custom",
      message:
        s === "" ? `missing; expected ${choices(values)}` : `got ${quote(raw)}; expected ${choices(values)}`,
    });
    return z.NEVER;
  });
}

const choices = (values: readonly string[]) =>
  values.length === 2 ? values.join(" or ") : `one of ${values.join(", ")}`;

/** A whole number within bounds; "" gives undefined. */
export function wholeNumber({ min, max }: { min: number; max: number }) {
  return z.string().transform((raw, ctx): number | undefined => {
    const s = raw.trim();
    if (s === "") return undefined;
    const n = Number(s);
    if (/^\d+$/.test(s) && Number.isSafeInteger(n) && n >= min && n <= max) return n;
    ctx.addIssue({
      code: "custom",
      message: `got ${quote(raw)}; expected a whole number from ${min} to ${max}`,
    });
    return z.NEVER;
  });
}

// The YAML 1.2 core schema's booleans, as `core.getBooleanInput` accepts them.
const truthy = ["true", "True", "TRUE"];
const falsy = ["false", "False", "FALSE"];

/** A boolean input: true/false as YAML writes them; "" gives the fallback. */
export function flag(fallback: boolean) {
  return z.string().transform((raw, ctx): boolean => {
    const s = raw.trim();
    if (s === "") return fallback;
    if (truthy.includes(s)) return true;
    if (falsy.includes(s)) return false;
    ctx.addIssue({ code: "custom", message: `got ${quote(raw)}; expected true or false` });
    return z.NEVER;
  });
}

/** A JSON input (a plan's matrix); "" gives undefined. */
export const optionalJson = z.string().transform((raw, ctx): unknown => {
  const s = raw.trim();
  if (s === "") return undefined;
  try {
    return JSON.parse(s);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: `not valid JSON (${(error as Error).message})` });
    return z.NEVER;
  }
});

/** A JSON input that must be given; `what` says what was expected when it is missing. */
export function requiredJson(what: string) {
  return optionalJson.transform((value, ctx): unknown => {
    if (value !== undefined) return value;
    ctx.addIssue({ code: "custom", message: `missing; expected ${what}` });
    return z.NEVER;
  });
}

/** A list of paths: one per line, or separated by spaces or commas; "" gives []. */
export const pathList = z.string().transform((raw) =>
  raw
    .split(/[\n,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== ""),
);

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Secret environment lines, `NAME=value` each (blank lines and `#` comments skipped). Errors
 * name the line, never its text: the text is a secret.
 */
export const secretEnvLines = z.string().transform((raw, ctx): Record<string, string> => {
  const env: Record<string, string> = {};
  const lines = raw.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const at = line.indexOf("=");
    const name = at > 0 ? line.slice(0, at).trim() : "";
    if (!envName.test(name)) {
      ctx.addIssue({
        code: "custom",
        message: `line ${index + 1}: expected NAME=value with NAME made of letters, digits and '_' (the line is not shown: it may hold a secret)`,
      });
      return;
    }
    env[name] = line.slice(at + 1);
  });
  return env;
});

/** The inputs that name a trial step's matrix entry: the config and the entry itself. */
export const matrixEntryInputs = {
  config: optionalText,
  trial: requiredJson(`the matrix entry as JSON (the default is \${{ toJson(matrix) }})`),
};

/** The inputs of a trial's artifact, the same in every step that uploads one. */
export const trialArtifactInputs = {
  upload: flag(true),
  "retention-days": wholeNumber({ min: 1, max: 400 }),
};

/** The settings every trial step shares (mode, trial, config, trial-dir, the artifact's), named as every trial step names them. */
export function trialStepSettings<D extends string | undefined>(
  raw: {
    config?: string | undefined;
    trial: unknown;
    upload: boolean;
    "retention-days"?: number | undefined;
    "trial-dir": D;
  },
  defaultConfig: string,
): {
  mode: "trial";
  config: string;
  trial: unknown;
  upload: boolean;
  retentionDays: number | undefined;
  trialDir: D;
} {
  return {
    mode: "trial",
    trialDir: raw["trial-dir"],
    config: raw.config ?? defaultConfig,
    trial: raw.trial,
    upload: raw.upload,
    retentionDays: raw["retention-days"],
  };
}

/**
 * Parses raw inputs with a schema. Every bad input becomes a problem named the way a
 * workflow writes it (`with.num-samples`), and all of them travel in one InputError.
 */
export function parseInputs<S extends z.ZodType>(
  schema: S,
  raw: Record<string, string>,
  action: string,
): Readonly<z.output<S>> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return Object.freeze(parsed.data);
  const problems: Problem[] = parsed.error.issues.map((issue) => ({
    file: action,
    path: `with.${issue.path.map(String).join(".")}`,
    message: issue.message,
  }));
  throw InputError.fromProblems(problems);
}

/** Reads the inputs a schema names (`core.getInput` of each key) and parses them (`parseInputs`). */
export function readInputs<S extends z.ZodObject>(schema: S, action: string): Readonly<z.output<S>> {
  const raw = Object.fromEntries(Object.keys(schema.shape).map((name) => [name, core.getInput(name)]));
  return parseInputs(schema, raw, action);
}

/** The mode a caller chose (the umbrella's `command`), else the `mode` input, which must be one of `modes`. */
export function readMode<const T extends readonly [string, ...string[]]>(
  modes: T,
  chosen: T[number] | undefined,
  action: string,
): T[number] {
  return chosen ?? readInputs(z.object({ mode: requiredOneOf(modes) }), action).mode;
}

/**
 * The input boundary of an action with modes: a table from mode to the reader of that mode's
 * inputs. The mode is the caller's (the umbrella's `command`) or the `mode` input's, one of
 * the table's keys in their order.
 */
export function readByMode<S extends ModeSettings>(
  defaultAction: string,
  readers: { [M in S["mode"]]: (action: string) => SettingsOf<S, M> },
): (options?: ReadOptions<S["mode"]>) => S {
  const modes = Object.keys(readers) as [S["mode"], ...S["mode"][]];
  return ({ mode, action = defaultAction } = {}) => {
    const read = readers[readMode(modes, mode, action) as S["mode"]] as (action: string) => S;
    return read(action);
  };
}
