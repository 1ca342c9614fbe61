import { existsSync } from "node:fs";
import path from "node:path";
import { Document, isMap, isScalar, type YAMLMap } from "yaml";
import { InputError, UsageError } from "../../core/errors.js";
import { parseConfigText } from "../../runtime/config-file.js";
import { readTextFile, writeFileAtomic } from "../../runtime/files.js";
import { type Command, fromCwd, parseFlags } from "../command.js";

const help = `Usage: tunix-rt import FILE [--out F] [--force]

Translates a sweep file of another format (a W&B sweep, an M34 tuning job) into a tunix-rt
config, each note on what was translated written as a comment beside what it concerns, so
you see the translation and own it. The config is checked as a sweep would check it.

  --out F    write it to F (for example training/sweep.yaml); default: print it
  --force    write over an existing F

Exit: 0 translated, 2 a problem with the file (printed as file: path: message).`;

/** `tunix-rt import`: another format's sweep file as a tunix-rt config, with its notes as comments. */
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, {
      values: ["out"],
      switches: ["force"],
      positionals: true,
    });
    if (positionals.length !== 1)
      throw new UsageError(
        `expected one sweep file, got ${positionals.length === 0 ? "none" : positionals.length}`,
      );
    const file = positionals[0] as string;
    const text = await readTextFile(fromCwd(ctx, file), "config", file);
    const loaded = parseConfigText(text, file);
    const yaml = importedYaml(loaded.raw, loaded.notes, file, loaded.format);
    if (values.out === undefined) {
      ctx.stdout(yaml);
      return 0;
    }
    const out = fromCwd(ctx, values.out);
    if (existsSync(out) && !values.force)
      throw new InputError(`${values.out}: exists; give --force to write over it`);
    await writeFileAtomic(out, yaml);
    ctx.stderr(
      `tunix-rt import: wrote ${path.relative(ctx.cwd, out) || out} (${loaded.notes.length} note${loaded.notes.length === 1 ? "" : "s"} as comments); run it with tunix-rt sweep --config ${values.out}\n`,
    );
    return 0;
  },
};

/**
 * The translated config as YAML, each note a comment above the key it concerns (a W&B
 * `parameters.a.parameters.b` note above search_space's `a.b`, `run_cap` above num_samples,
 * ...), the rest above the whole document.
 */
export function importedYaml(raw: unknown, notes: readonly string[], file: string, format: string): string {
  const doc = new Document(raw);
  const top: string[] = [`Translated by tunix-rt import from ${file} (${format}).`];
  const prefix = `${file}: `;
  for (const note of notes) {
    const body = note.startsWith(prefix) ? note.slice(prefix.length) : note;
    const colon = body.indexOf(": ");
    const where = colon > 0 ? body.slice(0, colon) : "";
    const target = where ? keyOf(doc, where) : undefined;
    if (target) target.commentBefore = [target.commentBefore, ` ${body}`].filter(Boolean).join("\n");
    else top.push(body);
  }
  doc.commentBefore = top.map((line) => ` ${line}`).join("\n");
  return doc.toString({ lineWidth: 0 });
}

/** The key node a note's path (in the source file's terms) concerns in the translated document. */
function keyOf(doc: Document, where: string): { commentBefore?: string | null } | undefined {
  const root = doc.contents;
  if (!isMap(root)) return undefined;
  const parts = where.split(".");
  const top = parts[0] ?? "";
  const renamed: Record<string, string> = {
    run_cap: "num_samples",
    method: "sampler",
    program: "trainer",
    command: "trainer",
    early_terminate: "pruning",
    name: root.has("run_version") ? "run_version" : "name",
  };
  if (top === "parameters") {
    // parameters.a.parameters.b.values -> search_space's "a.b" (the longest name it has).
    const names = parts.slice(1).filter((p, i) => !(p === "parameters" && i % 2 === 1));
    const space = root.get("search_space", true);
    if (!isMap(space)) return undefined;
    for (let n = names.length; n > 0; n--) {
      const key = pairKey(space, names.slice(0, n).join("."));
      if (key) return key;
    }
    return undefined;
  }
  return pairKey(root, renamed[top] ?? top);
}

function pairKey(map: YAMLMap, name: string): { commentBefore?: string | null } | undefined {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === name);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}
