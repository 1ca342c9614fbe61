import { execFile } from "node:child_process";

/** The commit checked out in a folder. */
export interface HeadCommit {
  /** Full sha. */
  sha: string;
  /** Abbreviated sha as `git rev-parse --short` gives it (7+ characters, unique in the repository). */
  short: string;
}

/**
 * The HEAD commit of the git repository containing `cwd`, or null when there is none (not a
 * repository, no commit yet, git not installed): callers then name the build `nogit`.
 */
export async function headCommit(cwd: string): Promise<HeadCommit | null> {
  const sha = await git(cwd, ["rev-parse", "--verify", "HEAD"]);
  const short = sha && (await git(cwd, ["rev-parse", "--short", "HEAD"]));
  return sha && short ? { sha, short } : null;
}

function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    // argv, never a shell; a hung git (a lock, a credential prompt) must not hang packaging.
    execFile(
      "git",
      args,
      { cwd, timeout: 30_000, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } },
      (error, stdout) => {
        const out = String(stdout).trim();
        resolve(error || !/^[0-9a-f]{4,64}$/.test(out) ? null : out);
      },
    );
  });
}

/**
 * The top level of the git working tree that holds `dir` (`git rev-parse --show-toplevel`),
 * or null outside one (or without git).
 */
export function gitTopLevel(dir: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["rev-parse", "--show-toplevel"],
      { cwd: dir, timeout: 30_000, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } },
      (error, stdout) => {
        const out = String(stdout).replace(/\r?\n$/, "");
        resolve(error || out === "" ? null : out);
      },
    );
  });
}
