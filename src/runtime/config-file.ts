import { createHash } from "node:crypto";
import path from "node:path";
import { type Document, LineCounter, parseDocument, visit } from "yaml";
import { type ConfigNeeds, type SweepConfig, validateConfig } from "../core/config/config.js";
import { type ConfigFormat, importConfig, isWandb, sourcePath } from "../core/config/import.js";
import { InputError } from "../core/errors.js";
import { isObject } from "../core/json.js";
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
): Pick<LoadedConfig, "config" | "format" | "notes"> & { raw: unknown } {
  const doc = parseYaml(text, file);
  let data = documentData(doc, file);
  // W&B reads its sweep files with PyYAML, whose YAML 1.1 booleans include yes/no/on/off. A
  // W&B file's document is read again with them, as W&B reads it, and what that changes is said.
  const wandb = isWandb(data) || (isObject(data) && !("search_space" in data) && isWandb(data.sweep));
  const yaml11Notes: string[] = [];
  if (wandb) {
    const pyyamlStrings = readAsPyyaml(doc);
    const asWandb = documentData(doc, file);
    const changed = differences(data, asWandb, "");
    if (changed.length > 0)
      yaml11Notes.push(
        `${file}: read with YAML 1.1 booleans, as W&B's loader reads it: ${changed.slice(0, 3).join("; ")}${changed.length > 3 ? `; and ${changed.length - 3} more` : ""}`,
      );
    // Numbers PyYAML reads as text (it needs a dot, and a signed exponent): kept as numbers
    // here, where W&B would refuse the file, and said.
    if (pyyamlStrings.length > 0)
      yaml11Notes.push(
        `${file}: ${pyyamlStrings.slice(0, 3).join(", ")}${pyyamlStrings.length > 3 ? ` and ${pyyamlStrings.length - 3} more` : ""} read as numbers; W&B's loader (PyYAML) reads them as text and refuses the file: write 1.0e-5, not 1e-5`,
      );
    data = asWandb;
  }
  const imported = importConfig(data, file, { intsAsBigInt: true });
  imported.notes.unshift(...yaml11Notes);
  if (imported.problems.length > 0) throw InputError.fromProblems(imported.problems);
  const result = validateConfig(imported.raw, file, needs);
  if (!result.ok) {
    // Name the field as the user's file spells it (a W&B sweep has parameters, not search_space).
    throw InputError.fromProblems(
      result.problems.map((p) => ({ ...p, path: sourcePath(imported.format, p.path) })),
    );
  }
  return { config: result.value, format: imported.format, notes: imported.notes, raw: imported.raw };
}

/** Where two readings of a document differ, as `path: a → b` (bigints as numbers). */
function differences(a: unknown, b: unknown, at: string): string[] {
  const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences(a[k], b[k], at ? `${at}.${k}` : k));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length)
    return a.flatMap((x, i) => differences(x, b[i], `${at}.${i}`));
  return show(a) === show(b) ? [] : [`${at || "the document"}: ${show(a)} is ${show(b)}`];
}

/** What PyYAML reads as a number: an int (decimal, 0x, 0o, 0b) or a float with a dot (its exponent signed), .inf, .nan. */
const pyyamlNumber =
  /^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?0o?[0-7_]+|[-+]?0b[01_]+|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** PyYAML's booleans beyond YAML 1.2's true/false (it leaves y and n strings, unlike YAML 1.1's spec). */
const pyyamlBoolean = /^(?:yes|Yes|YES|on|On|ON|no|No|NO|off|Off|OFF)$/;

/**
 * A YAML (JSON included) document, whole numbers as bigints (which keeps `1` and `1.0`
 * apart, as W&B's parameter inference needs). Throws an InputError naming the line of the
 * first error.
 */
function parseYaml(text: string, file: string): Document {
  // The line counter gives errors their line (linePos is filled only for pretty errors).
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, intAsBigInt: true, lineCounter });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first ? lineCounter.linePos(first.pos[0]).line : undefined;
    const reason = first?.message.split("\n")[0] ?? "invalid YAML";
    throw new InputError(`${file}${line ? `:${line}` : ""}: not valid YAML: ${reason}`);
  }
  if (doc.contents === null) {
    // An empty file, or one holding only comments: say so rather than "got null".
    throw new InputError(`${file}: is empty; expected a sweep config (a mapping with search_space)`);
  }
  return doc;
}

/** A parsed document's data; too many alias expansions (a "billion laughs" document) is an InputError. */
function documentData(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new InputError(
      `${file}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Reads a document as PyYAML would where it matters to W&B: an unquoted yes/no/on/off value
 * becomes a boolean (in place). Returns the numbers PyYAML would read as text (`1e-5`).
 */
function readAsPyyaml(doc: Document): string[] {
  const pyyamlStrings: string[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (node.type !== "PLAIN") return;
      const source = node.source;
      if (
        (typeof node.value === "number" || typeof node.value === "bigint") &&
        typeof source === "string" &&
        !pyyamlNumber.test(source)
      )
        pyyamlStrings.push(source);
      // (A key stays text: a parameter named `on` is named on.)
      if (key !== "key" && typeof node.value === "string" && pyyamlBoolean.test(node.value))
        node.value = /^(?:yes|on)$/i.test(node.value);
    },
  });
  return pyyamlStrings;
}
