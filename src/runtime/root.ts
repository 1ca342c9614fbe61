import path from "node:path";
import { gitTopLevel } from "./git.js";

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

/** Whether `target` is `root` or lies below it. */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}
