/**
 * The bad-input corpus table (test/bad-inputs/cases.yaml): its case type and loader, shared
 * by test/bad-inputs.test.ts and anything that needs the count of cases.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { repoRoot } from "./cli.js";

/** One case of the corpus, as cases.yaml states it. */
export interface BadInputCase {
  /** Unique; also the name of the case's temp folder. */
  id: string;
  /** config, wandb, m34, evalset, predictions, rows, history, trial, evidence, flags. */
  category: string;
  description: string;
  /** The CLI's arguments; `{tmp}` stands for the case's folder (absolute). */
  args: string[];
  /** Files written into the folder: path -> exact text. */
  files?: Record<string, string>;
  /** Files written as Latin-1 bytes (each character one byte): input that is not UTF-8. */
  latin1?: Record<string, string>;
  /** Copied from test/bad-inputs/files: destination path -> source path. */
  copy?: Record<string, string>;
  /** Paths removed after copying (to break a copied fixture). */
  remove?: string[];
  /** Empty folders created. */
  dirs?: string[];
  /** The expected exit code. */
  exit: number;
  /** A fragment of the one error line on stderr. */
  message: string;
  /** A fragment stdout must hold (verify prints its problems there); absent: stdout is empty. */
  stdout?: string;
  /** Whether stdout must be one JSON document (`--json`). */
  json?: boolean;
  /** Files the command is expected to create (a failed trial still writes trial.json). */
  creates?: string[];
}

/** The corpus folder: cases.yaml and the fixtures under files/. */
export const corpusDir = path.join(repoRoot, "test/bad-inputs");
/** Fixtures the cases copy (`copy:`). */
export const fixturesDir = path.join(corpusDir, "files");

/** Reads and checks the table, so a typo in it fails loudly instead of testing nothing. */
export async function loadBadInputCases(): Promise<BadInputCase[]> {
  const doc = parse(await readFile(path.join(corpusDir, "cases.yaml"), "utf8")) as { cases?: unknown };
  if (!Array.isArray(doc?.cases)) throw new Error("cases.yaml: expected a top-level `cases` list");
  const known = new Set([
    "id",
    "category",
    "description",
    "args",
    "files",
    "latin1",
    "copy",
    "remove",
    "dirs",
    "exit",
    "message",
    "stdout",
    "json",
    "creates",
  ]);
  return doc.cases.map((raw: Record<string, unknown>, i: number) => {
    const where = `cases.yaml: cases.${i} (${String(raw?.id)})`;
    for (const key of Object.keys(raw ?? {}))
      if (!known.has(key)) throw new Error(`${where}: unknown key ${key}`);
    for (const key of ["id", "category", "description", "message"])
      if (typeof raw[key] !== "string" || raw[key] === "")
        throw new Error(`${where}: ${key} must be a string`);
    if (!Array.isArray(raw.args) || !raw.args.every((a) => typeof a === "string"))
      throw new Error(`${where}: args must be a list of strings`);
    if (!Number.isInteger(raw.exit)) throw new Error(`${where}: exit must be a whole number`);
    return raw as unknown as BadInputCase;
  });
}
