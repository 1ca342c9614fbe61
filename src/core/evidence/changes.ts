/**
 * What decides whether evidence changed, with no I/O: the evidence branch's name, the files
 * of an evidence commit checked and hashed as git hashes them, and each file's content as it
 * is compared (volatile keys such as times removed), so that a re-run that changes only
 * timestamps commits nothing.
 */
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { isSafeRunVersion, runVersionRule } from "../config/config.js";
import { InputError } from "../errors.js";

/** The branch evidence of a run version goes to (DESIGN.md, "Names"). */
export function evidenceBranch(runVersion: string): string {
  return `tunix-rt/evidence/${runVersion}`;
}

/** One file to commit: its path from the repository root (`/`-separated) and its bytes. */
export interface EvidenceFile {
  path: string;
  content: string | Buffer;
}

/** A file prepared for committing: its bytes and their git blob SHA. */
export interface PreparedFile {
  path: string;
  bytes: Buffer;
  sha: string;
}

/**
 * Keys (at any depth of a JSON/JSONL/YAML file) whose values change on every run without the
 * evidence changing: times, durations, the workflow run's URL and the aggregating runner's
 * name. Two versions of a file that differ only there count as the same evidence.
 */
export const volatileEvidenceKeys: readonly string[] = [
  "timestamp",
  "date",
  "evaluated_at",
  "started_at",
  "finished_at",
  "created_at",
  "updated_at",
  "duration_s",
  "workflow_run_url",
  "run_url",
  "aggregated_by",
];

/**
 * A file's content for comparison: JSON (`.json`), JSON Lines (`.jsonl`, per line) and YAML
 * (`.yaml`/`.yml`, comments dropped) parsed with every volatile key removed, at any depth;
 * anything else (logs, Markdown, `kaggle_output_log.txt`) as is. Content that does not parse
 * is compared as is.
 */
export function normalizeEvidenceContent(
  filePath: string,
  content: string | Buffer,
  volatileKeys: readonly string[] = volatileEvidenceKeys,
): string {
  const text = typeof content === "string" ? content : content.toString("utf8");
  const drop = new Set(volatileKeys);
  const prune = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(prune);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([k]) => !drop.has(k))
          .map(([k, x]) => [k, prune(x)]),
      );
    }
    return v;
  };
  try {
    if (/\.json$/i.test(filePath)) return JSON.stringify(prune(JSON.parse(text)));
    if (/\.jsonl$/i.test(filePath)) {
      return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.stringify(prune(JSON.parse(line))))
        .join("\n");
    }
    if (/\.ya?ml$/i.test(filePath)) return JSON.stringify(prune(parseYaml(text)));
  } catch {
    // Not parseable: compare the bytes.
  }
  return text;
}

/** The git blob SHA-1 of some bytes (what `git hash-object` prints). */
export function gitBlobSha(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/**
 * Whether a file's new content is the same evidence as the old: equal once each is
 * normalized (`normalizeEvidenceContent`), so only volatile keys differ.
 */
export function sameEvidence(
  filePath: string,
  before: string | Buffer,
  after: string | Buffer,
  volatileKeys: readonly string[] = volatileEvidenceKeys,
): boolean {
  return (
    normalizeEvidenceContent(filePath, before, volatileKeys) ===
    normalizeEvidenceContent(filePath, after, volatileKeys)
  );
}

/** Throws unless the run version may name an evidence branch (the config's rule). */
export function checkRunVersion(runVersion: string): void {
  // The config's rule, which also keeps it a valid git branch name part.
  if (!isSafeRunVersion(runVersion))
    throw new InputError(`runVersion: got ${JSON.stringify(runVersion)}; expected ${runVersionRule}`);
}

/**
 * The files of an evidence commit: each path relative, `/`-separated and listed once (an
 * InputError otherwise), its bytes and their git blob SHA.
 */
export function prepareFiles(files: readonly EvidenceFile[]): PreparedFile[] {
  if (files.length === 0) throw new InputError("files: nothing to commit (the evidence list is empty)");
  const seen = new Set<string>();
  return files.map((f) => {
    const p = f.path;
    if (
      p === "" ||
      p.startsWith("/") ||
      p.includes("\\") ||
      p.split("/").some((s) => s === "" || s === "." || s === "..")
    ) {
      throw new InputError(`files: path ${JSON.stringify(p)}: expected a relative path with '/' separators`);
    }
    if (seen.has(p)) throw new InputError(`files: path ${JSON.stringify(p)} is listed twice`);
    seen.add(p);
    const bytes = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, "utf8");
    return { path: p, bytes, sha: gitBlobSha(bytes) };
  });
}
