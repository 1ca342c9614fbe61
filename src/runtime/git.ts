import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { maxListedFiles, type WorktreeState } from "../core/source.js";
import { tempSuffix } from "./files.js";

/** The commit checked out in a folder. */
export interface HeadCommit {
  /** Full sha. */
  sha: string;
  /** Abbreviated sha as `git rev-parse --short` gives it (7+ characters, unique in the repository). */
  short: string;
}

/** Runs git in `cwd` (argv, never a shell) and gives its stdout, or null when it fails. */
function gitOutput(cwd: string, args: string[]): Promise<Buffer | null> {
  return new Promise((resolve) => {
    // A hung git (a lock, a credential prompt) must not hang a sweep or packaging.
    execFile(
      "git",
      args,
      {
        cwd,
        timeout: 30_000,
        encoding: "buffer",
        maxBuffer: 256 * 1024 ** 2,
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
      },
      (error, stdout) => resolve(error ? null : stdout),
    );
  });
}

const hex = async (cwd: string, args: string[]) => {
  const out = (await gitOutput(cwd, args))?.toString("utf8").trim();
  return out && /^[0-9a-f]{4,64}$/.test(out) ? out : null;
};

/**
 * The HEAD commit of the git repository containing `cwd`, or null when there is none (not a
 * repository, no commit yet, git not installed): callers then name the build `nogit`.
 */
export async function headCommit(cwd: string): Promise<HeadCommit | null> {
  const sha = await hex(cwd, ["rev-parse", "--verify", "HEAD"]);
  const short = sha && (await hex(cwd, ["rev-parse", "--short", "HEAD"]));
  return sha && short ? { sha, short } : null;
}

/**
 * The top level of the git working tree that holds `dir` (`git rev-parse --show-toplevel`),
 * or null outside one (or without git).
 */
export async function gitTopLevel(dir: string): Promise<string | null> {
  const out = (await gitOutput(dir, ["rev-parse", "--show-toplevel"]))
    ?.toString("utf8")
    .replace(/\r?\n$/, "");
  return out ? path.resolve(out) : null;
}

/**
 * What the tool itself puts into a repository: a sweep's own outputs do not make the tree
 * it ran from dirty (a re-run rewrites the evidence of the last one), nor does the temp file
 * of an atomic write that a crash left behind (`tempSuffix`).
 */
const toolOutputs = [
  ":(exclude)runs",
  ":(exclude)submission",
  ":(exclude)submission_runs",
  ":(exclude,glob)training/configs/*_best.yaml",
  `:(exclude,glob)**/.*${tempSuffix}`,
];

/**
 * Whether the working tree of the repository at `root` differs from its HEAD commit, leaving
 * out the tool's own outputs: the changed paths and one SHA-256 over the change (the binary
 * diff against HEAD, and each untracked file's path and bytes), so two runs can be told to
 * come from the same edits. `exclude` leaves out more paths (a trial's own folder), relative
 * to `root`. Null outside git or before the first commit.
 */
export async function worktreeState(
  root: string,
  { exclude = [] }: { exclude?: readonly string[] } = {},
): Promise<WorktreeState | null> {
  if (!(await headCommit(root))) return null;
  const pathspecs = [".", ...toolOutputs, ...exclude.map((p) => `:(exclude,literal)${p}`)];
  const status = await gitOutput(root, [
    "status",
    "--porcelain=v1",
    "-z",
    "--untracked-files=all",
    "--",
    ...pathspecs,
  ]);
  const diff = await gitOutput(root, ["diff", "HEAD", "--binary", "--", ...pathspecs]);
  if (status === null || diff === null) return null;
  const entries = status.toString("utf8").split("\0").filter(Boolean);
  const changed: string[] = [];
  const untracked: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as string;
    const file = entry.slice(3);
    changed.push(file);
    if (entry.startsWith("??")) untracked.push(file);
    // A rename's entry is followed by its old path.
    if (entry[0] === "R" || entry[0] === "C") i++;
  }
  if (changed.length === 0) return { dirty: false, changed: 0, files: [], diff_sha256: null };
  const hash = createHash("sha256").update(diff);
  for (const file of untracked.sort()) {
    const bytes = await readFile(path.join(root, file)).catch(() => Buffer.alloc(0));
    hash.update(`\0${file}\0`).update(createHash("sha256").update(bytes).digest("hex"));
  }
  return {
    dirty: true,
    changed: changed.length,
    files: changed.slice(0, maxListedFiles),
    diff_sha256: hash.digest("hex"),
  };
}
