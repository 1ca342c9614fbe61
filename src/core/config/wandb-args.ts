/**
 * The argv macros of a W&B sweep's `command:`, as W&B's agent expands them, so that a trainer
 * written for `wandb agent` runs unchanged. An imported command keeps each macro as a whole
 * argv element `{wandb:NAME}` (a parameter name holds no ':', so none can be mistaken for one):
 *
 * - `{wandb:args}`: `--name=value` per parameter;
 * - `{wandb:args_no_hyphens}`: `name=value`;
 * - `{wandb:args_no_boolean_flags}`: `--name=value`, a boolean as `--name` when true and
 *   nothing when false;
 * - `{wandb:args_json}`: one element, the parameters as JSON (a dotted name nested, as W&B
 *   nests `a.b`);
 * - `{wandb:args_json_file}`: one element, the path of a file holding that JSON (the trial
 *   folder's `wandb-args.json`, written before the trainer starts);
 * - `{wandb:envvar:NAME}`: the value of the environment variable NAME (empty when unset).
 *
 * Parameters come in the order of their names, as W&B's agent orders them, and values are
 * written as Python writes them (`str()`): True/False, None, floats in Python's repr (1e-05,
 * 3.0), lists and mappings as Python literals; the JSON as Python's `json.dumps`. What is a
 * float comes from the parameter's type (uniform and its kin always; a q type when q is not
 * a whole number; a choice's number when it is not whole): tunix-rt keeps numbers, not
 * Python's int/float, so a choice value written `1.0` is passed as `1`.
 */

import { isObject } from "../json.js";
import type { Params, ParamValue } from "../types.js";
import type { ParamSpec } from "./params.js";

/** The macros that stand for the parameters. */
export const wandbArgMacros = [
  "args",
  "args_no_hyphens",
  "args_no_boolean_flags",
  "args_json",
  "args_json_file",
] as const;
export type WandbArgMacro = (typeof wandbArgMacros)[number];

/** The file `{wandb:args_json_file}` names, in the trial's folder. */
export const wandbArgsFile = "wandb-args.json";

/** The macro of an argv element (`{wandb:args}` → "args"), or undefined. */
export function wandbMacroOf(arg: string): WandbArgMacro | `envvar:${string}` | undefined {
  const m = /^\{wandb:([A-Za-z_:][A-Za-z0-9_:]*)\}$/.exec(arg);
  if (!m) return undefined;
  const name = m[1] as string;
  if ((wandbArgMacros as readonly string[]).includes(name)) return name as WandbArgMacro;
  if (/^envvar:[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return name as `envvar:${string}`;
  return undefined;
}

/** Whether a placeholder name is a W&B macro (`wandb:...`), valid or not. */
export const isWandbPlaceholder = (name: string): boolean => name.startsWith("wandb:");

/** A float as Python's repr writes it: shortest digits, exponent below 1e-4 or from 1e16, `.0` when whole. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const [mantissa = "", exponent = "0"] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(exponent);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fraction = digits.slice(exp + 1);
  return `${sign}${whole}.${fraction || "0"}`;
}

/** A string as Python's repr writes it: single quotes unless it holds one and no double quote. */
function pythonString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** A value as Python's `str()` writes it (`repr()` inside lists and mappings); `float` for a number that is one. */
export function pythonStr(value: ParamValue, float = false, inside = false): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number")
    return float || !Number.isInteger(value) ? pythonFloat(value) : String(value);
  if (typeof value === "string") return inside ? pythonString(value) : value;
  if (Array.isArray(value)) return `[${value.map((v) => pythonStr(v, false, true)).join(", ")}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pythonString(k)}: ${pythonStr(v, false, true)}`)
    .join(", ")}}`;
}

/** A value as Python's `json.dumps` writes it: ", " and ": " between items, non-ASCII as \uXXXX. */
export function pythonJson(value: unknown, float = false): string {
  if (value === null || value === undefined) return "null";
  if (isObject(value) && floatKeys.has(value)) return pythonJson(value.float, true);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number")
    return Number.isFinite(value)
      ? float || !Number.isInteger(value)
        ? pythonFloat(value)
        : String(value)
      : pythonFloat(value).replace("nan", "NaN").replace("inf", "Infinity");
  if (typeof value === "string")
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  if (Array.isArray(value)) return `[${value.map((v) => pythonJson(v)).join(", ")}]`;
  if (isObject(value))
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`)
      .join(", ")}}`;
  return "null";
}

// Numbers that are floats by their parameter's type, boxed while the JSON is built.
const floatKeys = new WeakSet<object>();

/** Whether a parameter's values are Python floats in W&B (see the module comment). */
export function isFloatParam(spec: ParamSpec | undefined, value: ParamValue): boolean {
  if (typeof value !== "number" || !spec) return false;
  switch (spec.type) {
    case "uniform":
    case "loguniform":
      return true;
    case "quniform":
    case "qloguniform":
      return !Number.isInteger(spec.q);
    case "normal":
    case "lognormal":
    case "beta":
      return spec.q === undefined || !Number.isInteger(spec.q);
    case "randint":
      return false;
    default:
      return !Number.isInteger(value);
  }
}

/**
 * The argv elements a macro gives for a trial's params (`space` for the float rule; `jsonFile`
 * the path `args_json_file` names).
 */
export function expandWandbMacro(
  macro: WandbArgMacro,
  params: Readonly<Params>,
  space: Readonly<Record<string, ParamSpec>>,
  jsonFile: string,
): string[] {
  const names = Object.keys(params).sort();
  const str = (name: string) => {
    const v = params[name] as ParamValue;
    return pythonStr(v, isFloatParam(space[name], v));
  };
  switch (macro) {
    case "args":
      return names.map((n) => `--${n}=${str(n)}`);
    case "args_no_hyphens":
      return names.map((n) => `${n}=${str(n)}`);
    case "args_no_boolean_flags":
      return names.flatMap((n) => {
        const v = params[n];
        if (typeof v === "boolean") return v ? [`--${n}`] : [];
        return [`--${n}=${str(n)}`];
      });
    case "args_json":
      return [wandbArgsJson(params, space)];
    case "args_json_file":
      return [jsonFile];
  }
}

/** The params as `${args_json}` gives them: dotted names nested (`a.b` → {"a": {"b": ...}}), as Python's json.dumps writes them. */
export function wandbArgsJson(params: Readonly<Params>, space: Readonly<Record<string, ParamSpec>>): string {
  return pythonJson(nestedParams(params, space));
}

/** Dotted names as nested mappings, in name order; a float-typed number boxed so pythonJson writes it as a float. */
function nestedParams(params: Readonly<Params>, space: Readonly<Record<string, ParamSpec>>) {
  const root: Record<string, unknown> = {};
  for (const name of Object.keys(params).sort()) {
    const parts = name.split(".");
    let at = root;
    for (const part of parts.slice(0, -1)) {
      const next = at[part];
      if (!isObject(next)) {
        const made: Record<string, unknown> = {};
        Object.defineProperty(at, part, {
          value: made,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        at = made;
      } else at = next;
    }
    const value = params[name] as ParamValue;
    const leaf = parts.at(-1) as string;
    const boxed = isFloatParam(space[name], value) ? floatBox(value as number) : value;
    Object.defineProperty(at, leaf, { value: boxed, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

/** A float kept apart from a whole number of the same value while the JSON is written. */
function floatBox(value: number): unknown {
  const box = { float: value };
  floatKeys.add(box);
  return box;
}
