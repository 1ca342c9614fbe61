/**
 * What the runner tells every JavaScript action through its environment (not through inputs):
 * the workspace, the repository, the run. Read from the env given, so tests pass their own.
 */
import path from "node:path";
import { InputError } from "../../core/errors.js";

/** The run an action step belongs to. */
export interface RunContext {
  /** The repository checkout (`GITHUB_WORKSPACE`); config and evidence paths are relative to it. */
  workspace: string;
  /** `owner/name` of the repository the workflow runs in, or undefined off GitHub. */
  repository: string | undefined;
  /** The workflow run's id (`GITHUB_RUN_ID`), or undefined off GitHub. */
  runId: number | undefined;
  /** Which attempt of the run this is (`GITHUB_RUN_ATTEMPT`): 2 and up after a re-run; 1 off GitHub. */
  runAttempt: number;
  /** The commit the workflow runs on (`GITHUB_SHA`), or undefined off GitHub. */
  sha: string | undefined;
  /** The REST API's base URL (`GITHUB_API_URL`; GitHub Enterprise Server has its own). */
  apiUrl: string;
  /** The workflow run's page, for summaries and pull request bodies; null off GitHub. */
  runUrl: string | null;
}

/** Reads the run context from an environment (`process.env` on a runner). */
export function runContext(env: NodeJS.ProcessEnv): Readonly<RunContext> {
  const runId = Number(env.GITHUB_RUN_ID);
  const attempt = Number(env.GITHUB_RUN_ATTEMPT);
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository } = env;
  return Object.freeze({
    workspace: path.resolve(env.GITHUB_WORKSPACE || process.cwd()),
    repository: repository || undefined,
    runId: Number.isSafeInteger(runId) && runId > 0 ? runId : undefined,
    runAttempt: Number.isSafeInteger(attempt) && attempt > 0 ? attempt : 1,
    sha: env.GITHUB_SHA || undefined,
    apiUrl: env.GITHUB_API_URL || "https://api.github.com",
    runUrl:
      server && repository && env.GITHUB_RUN_ID
        ? `${server}/${repository}/actions/runs/${env.GITHUB_RUN_ID}`
        : null,
  });
}

/** Owner and name of the repository, for the REST API; throws when the step runs off GitHub. */
export function repositoryParts(context: RunContext, needs: string): { owner: string; repo: string } {
  const [owner, repo, ...rest] = (context.repository ?? "").split("/");
  if (!owner || !repo || rest.length > 0) {
    throw new InputError(
      `${needs} needs the repository: GITHUB_REPOSITORY is ${context.repository === undefined ? "not set" : `"${context.repository}"`}; expected owner/name (it is set on every GitHub runner)`,
    );
  }
  return { owner, repo };
}

/** A path inside the workspace as a repository path (`/` separators), or the absolute path when outside it. */
export function repoPath(context: RunContext, file: string): string {
  const relative = path.relative(context.workspace, path.resolve(context.workspace, file));
  if (relative === "") return ".";
  if (relative.startsWith("..") || path.isAbsolute(relative)) return path.resolve(context.workspace, file);
  return relative.split(path.sep).join("/");
}
