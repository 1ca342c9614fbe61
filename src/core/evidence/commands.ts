/**
 * A trial's params against the command its record says it ran: the sweep config's trainer
 * command, its placeholders filled from the record (params, seed, trial_id, budget), must be
 * that argv, but for `{output_dir}`, which may be any path. So params edited in trials.jsonl
 * after the sweep disagree with the argv that carried them. A W&B command's macros
 * (src/core/config/wandb-args.ts) are expanded from the record's params first; `{wandb:envvar:NAME}`
 * and `{wandb:args_json_file}` (a path in the trial's folder) may be any text, as
 * `{output_dir}` may.
 */

import type { ParamSpec } from "../config/config.js";
import { paramText } from "../config/space.js";
import { expandWandbMacro, type WandbArgMacro, wandbMacroOf } from "../config/wandb-args.js";
import type { Params } from "../types.js";

/** The values the record gives the placeholders; `{output_dir}` is not among them. */
function knownValues(record: {
  trial_id: string;
  params: Readonly<Record<string, unknown>>;
  seed?: unknown;
  budget?: unknown;
}): Map<string, string> {
  const values = new Map<string, string>([["trial_id", record.trial_id]]);
  if (record.seed !== undefined) values.set("seed", String(record.seed));
  if (record.budget !== undefined) values.set("budget", String(record.budget));
  for (const [name, value] of Object.entries(record.params)) values.set(name, paramText(value));
  return values;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Where a record's argv is not its template filled from the record, in words; undefined when
 * it is (or when the record says too little to tell: no argv, a placeholder without a value).
 */
export function commandMismatch(
  configured: readonly string[],
  record: { trial_id: string; params: Readonly<Record<string, unknown>>; seed?: unknown; budget?: unknown },
  argv: unknown,
  space: Readonly<Record<string, ParamSpec>> = {},
): string | undefined {
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === "string")) return undefined;
  const values = knownValues(record);
  const template = expandMacros(configured, record.params as Params, space);
  if (argv.length !== template.length)
    return `it ran ${argv.length} arguments; the sweep config's trainer command has ${template.length}`;
  for (const [i, arg] of template.entries()) {
    // The template, literal parts escaped, each placeholder its value (any text for {output_dir}).
    let pattern = "";
    let unknown = false;
    let at = 0;
    for (const m of arg.matchAll(/\{\{|\}\}|\{([^{}]*)\}/g)) {
      pattern += escapeRegex(arg.slice(at, m.index));
      at = (m.index ?? 0) + m[0].length;
      if (m[0] === "{{" || m[0] === "}}") pattern += escapeRegex(m[0][0] as string);
      else if (m[1] === "output_dir") pattern += "[\\s\\S]*";
      else {
        const value = values.get(m[1] ?? "");
        if (value === undefined) unknown = true;
        else pattern += escapeRegex(value);
      }
    }
    pattern += escapeRegex(arg.slice(at));
    if (unknown) continue;
    const ran = argv[i] as string;
    if (!new RegExp(`^${pattern}$`).test(ran)) {
      const names = [...arg.matchAll(/\{([^{}]+)\}/g)]
        .map((m) => m[1] as string)
        .filter((n) => n !== "output_dir");
      const filled = arg.replace(/\{([^{}]+)\}/g, (whole, name: string) =>
        name === "output_dir" ? whole : (values.get(name) ?? whole),
      );
      return `argument ${i} ran ${JSON.stringify(ran)}; ${names.length ? `the record's ${names.join(", ")} give${names.length === 1 ? "s" : ""}` : "the sweep config's trainer command gives"} ${JSON.stringify(filled)}`;
    }
  }
  return undefined;
}

/** The template with each W&B macro replaced by the elements it gives (any text: `{output_dir}`). */
function expandMacros(
  template: readonly string[],
  params: Readonly<Params>,
  space: Readonly<Record<string, ParamSpec>>,
): readonly string[] {
  if (!template.some((arg) => wandbMacroOf(arg) !== undefined)) return template;
  const literal = (text: string) => text.replace(/[{}]/g, (c) => c + c);
  return template.flatMap((arg) => {
    const macro = wandbMacroOf(arg);
    if (macro === undefined) return [arg];
    if (macro.startsWith("envvar:") || macro === "args_json_file") return ["{output_dir}"];
    return expandWandbMacro(macro as WandbArgMacro, params, space, "").map(literal);
  });
}
