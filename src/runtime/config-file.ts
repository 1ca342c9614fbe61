import { createHash } from "node:crypto";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { type ConfigNeeds, type SweepConfig, validateConfig } from "../core/config.js";
import { type ConfigFormat, importConfig, sourcePath } from "../core/config-import.js";
import { InputError } from "../core/errors.js";
import { readTextFile } from "./files.js";

/** A config loaded from a file: validated, with where it came from. */
export interface LoadedConfig {
  config: SweepConfig;
  /** The path as the user gave it (used in messages and evidence). */
  file: string;
  /** Absolute path. */
  absolutePath: string;
  format: ConfigFormat;
  /** What a translation from another format could not keep. */
  notes: string[];
  /** SHA-256 of the file's bytes (provenance). */
  sha256: string;
  /** The file's text, as read. */
  text: string;
}

/**
 * Reads, parses (YAML, which includes JSON) and validates a sweep config. Throws an
 * InputError whose message is the first problem, `file: path: message`, and holds all.
 */
export async function loadConfig(
  file: string,
  { cwd, needs = {} }: { cwd: string; needs?: ConfigNeeds },
): Promise<LoadedConfig> {
  const absolutePath = path.resolve(cwd, file);
  const text = await readTextFile(absolutePath, "config", file);
  return {
    ...parseConfigText(text, file, needs),
    file,
    absolutePath,
    sha256: createHash("sha256").update(text).digest("hex"),
    text,
  };
}

/**
 * Parses and validates a sweep config's text (`file` names it in problems): YAML (JSON
 * included), another format translated on load. Throws an InputError as `loadConfig` does.
 */
export function parseConfigText(
  text: string,
  file: string,
  needs: ConfigNeeds = {},
): Pick<LoadedConfig, "config" | "format" | "notes"> {
  // intAsBigInt keeps `1` and `1.0` apart, which W&B's parameter inference needs.
  // The line counter gives errors their line (linePos is filled only for pretty errors).
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, intAsBigInt: true, lineCounter });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first ? lineCounter.linePos(first.pos[0]).line : undefined;
    const reason = first?.message.split("\n")[0] ?? "invalid YAML";
    throw new InputError(`${file}${line ? `:${line}` : ""}: not valid YAML: ${reason}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Too many alias expansions (a "billion laughs" document) and the like.
    throw new InputError(
      `${file}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (doc.contents === null) {
    // An empty file, or one holding only comments: say so rather than "got null".
    throw new InputError(`${file}: is empty; expected a sweep config (a mapping with search_space)`);
  }
  const imported = importConfig(data, file, { intsAsBigInt: true });
  if (imported.problems.length > 0) throw InputError.fromProblems(imported.problems);
  const result = validateConfig(imported.raw, file, needs);
  if (!result.ok) {
    // Name the field as the user's file spells it (a W&B sweep has parameters, not search_space).
    throw InputError.fromProblems(
      result.problems.map((p) => ({ ...p, path: sourcePath(imported.format, p.path) })),
    );
  }
  return { config: result.value, format: imported.format, notes: imported.notes };
}
