import { execFile } from "node:child_process";
import path from "node:path";

/**
 * The repository root that config paths, the trainer's working directory and the output
 * folders (runs/, submission_runs/, submission/) are relative to (DESIGN.md, "Sweep config"):
 * the git top level of `cwd`; outside git, `GITHUB_WORKSPACE` when `cwd` lies inside it (a
 * runner's workspace that is not a checkout); else `cwd` itself.
 */
export async function repositoryRoot(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const top = await gitTopLevel(cwd);
  if (top) return top;
  const workspace = env.GITHUB_WORKSPACE;
  if (workspace && isInside(path.resolve(workspace), path.resolve(cwd))) return path.resolve(workspace);
  return path.resolve(cwd);
}

function gitTopLevel(cwd: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["rev-parse", "--show-toplevel"],
      { cwd, timeout: 10_000, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } },
      (error, stdout) => {
        const top = String(stdout).trim();
        resolve(error || top === "" ? null : path.resolve(top));
      },
    );
  });
}

/** Whether `target` is `root` or lies below it. */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}
