/**
 * Reading another commit's files as data, through git's object store: fetch a commit, list
 * what changed between two commits, list a tree, write a blob to a file. Nothing is checked
 * out and no file of that commit is run or interpreted by git (no filters, no hooks), so a
 * pull request's head can be read by a job that must not run its code.
 */
import { execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { InputError } from "../core/errors.js";

/** How a git command is run: where, and what it may have of the environment. */
export interface GitOptions {
  /** The repository (its working tree or git directory). */
  cwd: string;
  /** Extra environment (GIT_CONFIG_* for a fetch's credentials); never argv, which others can read. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before git is killed (default 120 s). */
  timeoutMs?: number;
}

/** The environment git runs with: no prompt, no system or global config, no pager. */
function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_PAGER: "cat",
    // Paths are paths, never globs or pathspec magic.
    GIT_LITERAL_PATHSPECS: "1",
    ...extra,
  };
}

/** Runs git and returns its stdout; a failure is an Error whose message is git's last stderr line. */
export function git(args: readonly string[], options: GitOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      [...args],
      {
        cwd: options.cwd,
        env: gitEnv(options.env),
        encoding: "buffer",
        maxBuffer: 512 * 1024 ** 2,
        timeout: options.timeoutMs ?? 120_000,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const said = stderr.toString("utf8").trim().split("\n").pop() ?? "";
        reject(new Error(`git ${args[0]}: ${said || error.message}`));
      },
    );
  });
}

/** The commit a revision names, or undefined when it does not name one here. */
export async function resolveCommit(rev: string, options: GitOptions): Promise<string | undefined> {
  try {
    const out = (await git(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], options))
      .toString()
      .trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The HTTP header that lets git fetch from `serverUrl` with `token`, as git config passed
 * through the environment (GIT_CONFIG_COUNT/KEY/VALUE): not in argv, not in .git/config.
 * `secret` is the header's value, for the log's mask.
 */
export function tokenEnv(serverUrl: string, token: string): { env: NodeJS.ProcessEnv; secret: string } {
  const basic = Buffer.from(`x-access-token:${token}`, "utf8").toString("base64");
  const secret = `AUTHORIZATION: basic ${basic}`;
  const base = serverUrl.replace(/\/+$/, "");
  return {
    env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `http.${base}/.extraheader`, GIT_CONFIG_VALUE_0: secret },
    secret: basic,
  };
}

/**
 * Fetches a commit's objects from `remote` (depth 1: its tree, not its history), trying each
 * refspec in turn until `sha` is here. Throws an InputError naming what was tried.
 */
export async function fetchCommit(
  sha: string,
  { remote, refspecs, ...options }: GitOptions & { remote: string; refspecs: readonly string[] },
): Promise<void> {
  if (await resolveCommit(sha, options)) return;
  const tried: string[] = [];
  for (const refspec of refspecs) {
    try {
      await git(["fetch", "--no-tags", "--no-recurse-submodules", "--depth=1", remote, refspec], options);
    } catch (error) {
      tried.push(`${refspec} (${(error as Error).message})`);
      continue;
    }
    if (await resolveCommit(sha, options)) return;
    tried.push(`${refspec} (fetched, but not ${sha})`);
  }
  throw new InputError(`cannot fetch commit ${sha} from ${remote}: tried ${tried.join("; ")}`);
}

/** One path that differs between two commits (`git diff --raw`). */
export interface TreeChange {
  /** A (added), M (modified), D (deleted), T (type changed). */
  status: string;
  /** The mode before (000000 when added). */
  oldMode: string;
  /** The mode after (000000 when deleted): 100644/100755 a file, 120000 a link, 160000 a submodule. */
  newMode: string;
  /** The path, relative to the repository root, with `/`. */
  path: string;
}

/** Every path that differs between two commits, renames as a delete and an add. */
export async function treeChanges(base: string, head: string, options: GitOptions): Promise<TreeChange[]> {
  const out = (
    await git(
      ["diff", "--raw", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", base, head, "--"],
      options,
    )
  ).toString("utf8");
  // -z: ":old new oldsha newsha STATUS\0path\0" per path.
  const fields = out.split("\0");
  const changes: TreeChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i] as string;
    const path = fields[i + 1] as string;
    const match = /^:(\d{6}) (\d{6}) [0-9a-f]+ [0-9a-f]+ ([A-Z])\d*$/.exec(meta);
    if (!match) continue;
    changes.push({
      oldMode: match[1] as string,
      newMode: match[2] as string,
      status: match[3] as string,
      path,
    });
  }
  return changes;
}

/** One entry of a tree, listed recursively (`git ls-tree -r --long`). */
export interface TreeEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
  /** Bytes, for a blob. */
  size: number | undefined;
  path: string;
}

/** Every entry under `paths` in a commit's tree (all of it when none), files and links as blobs. */
export async function listTree(
  commit: string,
  paths: readonly string[],
  options: GitOptions,
): Promise<TreeEntry[]> {
  const out = (
    await git(["ls-tree", "-r", "-z", "--long", "--full-tree", commit, "--", ...paths], options)
  ).toString("utf8");
  const entries: TreeEntry[] = [];
  for (const line of out.split("\0")) {
    const match = /^(\d{6}) (blob|tree|commit) ([0-9a-f]+) +(-|\d+)\t(.*)$/s.exec(line);
    if (!match) continue;
    entries.push({
      mode: match[1] as string,
      type: match[2] as TreeEntry["type"],
      sha: match[3] as string,
      size: match[4] === "-" ? undefined : Number(match[4]),
      path: match[5] as string,
    });
  }
  return entries;
}

/** Writes a blob's bytes to `file` as git streams them (no filter, no line-ending change). */
export async function writeBlob(sha: string, file: string, options: GitOptions): Promise<void> {
  const child = spawn("git", ["cat-file", "blob", sha], {
    cwd: options.cwd,
    env: gitEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
    timeout: options.timeoutMs ?? 120_000,
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  await pipeline(child.stdout, createWriteStream(file, { flags: "wx" }));
  const code = await exited;
  if (code !== 0)
    throw new Error(`git cat-file ${sha}: ${stderr.trim().split("\n").pop() || `exit ${code}`}`);
}
