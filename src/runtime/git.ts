import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import { maxListedFiles, type WorktreeState } from "../core/evidence/source.js";
import { sha256OfFile, tempSuffix } from "./files.js";

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

/**
 * The HEAD commit of the git repository containing `cwd`, or null when there is none (not a
 * repository, no commit yet, git not installed): callers then name the build `nogit`.
 */
export async function headCommit(cwd: string): Promise<HeadCommit | null> {
  // One git: the full sha, then the short one (`--short` applies to the names after it).
  const out = (await gitOutput(cwd, ["rev-parse", "HEAD", "--short", "HEAD"]))
    ?.toString("utf8")
    .trim()
    .split("\n");
  const [sha, short] = out ?? [];
  return sha && short && /^[0-9a-f]{40,64}$/.test(sha) && /^[0-9a-f]{4,64}$/.test(short)
    ? { sha, short }
    : null;
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
  return (await sourceOf(root, { exclude }))?.worktree ?? null;
}

/**
 * The commit checked out at `root` and the working tree's state (`worktreeState`), from one
 * `git status --porcelain=v2 --branch` (its `branch.oid` line is HEAD), and a `git diff` only
 * when the tree is dirty: a sweep takes this before every trial. Null outside git or before
 * the first commit.
 */
export async function sourceOf(
  root: string,
  { exclude = [] }: { exclude?: readonly string[] } = {},
): Promise<{ commit: string; worktree: WorktreeState } | null> {
  const pathspecs = [".", ...toolOutputs, ...exclude.map((p) => `:(exclude,literal)${p}`)];
  const status = await gitOutput(root, [
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--untracked-files=all",
    "--",
    ...pathspecs,
  ]);
  if (status === null) return null;
  const entries = status.toString("utf8").split("\0");
  let commit: string | undefined;
  const changed: string[] = [];
  const untracked: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as string;
    if (entry === "") continue;
    if (entry.startsWith("# branch.oid ")) {
      const oid = entry.slice("# branch.oid ".length);
      if (/^[0-9a-f]{40,64}$/.test(oid)) commit = oid;
      continue;
    }
    if (entry.startsWith("#")) continue;
    // Ordinary (1), renamed or copied (2), unmerged (u) entries: the path follows a fixed
    // number of space-separated fields (it may hold spaces itself); a rename's old path is the
    // next entry. Untracked (?) and ignored (!): the path follows the mark.
    const fields = entry[0] === "1" ? 8 : entry[0] === "2" ? 9 : entry[0] === "u" ? 10 : 1;
    let at = 0;
    for (let f = 0; f < fields && at >= 0; f++) at = entry.indexOf(" ", at) + 1 || -1;
    if (at <= 0) continue;
    const file = entry.slice(at);
    if (entry[0] === "!") continue;
    changed.push(file);
    if (entry[0] === "?") untracked.push(file);
    if (entry[0] === "2") i++;
  }
  // No commit yet ("(initial)"), or not a repository: no source to record.
  if (commit === undefined) return null;
  if (changed.length === 0)
    return { commit, worktree: { dirty: false, changed: 0, files: [], diff_sha256: null } };
  const diff = await gitOutput(root, ["diff", "HEAD", "--binary", "--", ...pathspecs]);
  if (diff === null) return null;
  const hash = createHash("sha256").update(diff);
  for (const file of untracked.sort())
    hash.update(`\0${file}\0`).update(await untrackedDigest(path.join(root, file)));
  return {
    commit,
    worktree: {
      dirty: true,
      changed: changed.length,
      files: changed.slice(0, maxListedFiles),
      diff_sha256: hash.digest("hex"),
    },
  };
}

/**
 * The SHA-256 of an untracked file, streamed, and kept for as long as the file's size, time
 * and inode stay the same: a sweep asks before every trial, and an untracked checkpoint of a
 * few GB must not be read again each time. An unreadable file hashes as empty.
 */
const untrackedDigests = new Map<string, { key: string; digest: string }>();
const emptyDigest = createHash("sha256").digest("hex");
async function untrackedDigest(file: string): Promise<string> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return emptyDigest;
  const key = `${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}`;
  const known = untrackedDigests.get(file);
  if (known?.key === key) return known.digest;
  const digest = await sha256OfFile(file).catch(() => emptyDigest);
  untrackedDigests.set(file, { key, digest });
  return digest;
}
