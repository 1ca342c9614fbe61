/**
 * What the runner tells every JavaScript action through its environment (not through inputs):
 * the workspace, the repository, the run, the job summary's file. This module is the one
 * place an action reads the environment; steps get it all from the context they are given.
 * The run itself (repository, run id, commit, API URL) comes from `@actions/github`'s
 * context, as every action of the ecosystem reads it.
 */
import path from "node:path";
import { context as github } from "@actions/github";
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
  /** The branch or tag the workflow runs on (`GITHUB_REF_NAME`), or undefined off GitHub. */
  refName: string | undefined;
  /** The REST API's base URL (`GITHUB_API_URL`; GitHub Enterprise Server has its own). */
  apiUrl: string;
  /** The GitHub the run is on (`GITHUB_SERVER_URL`): https://github.com, a GHE.com or a GHES host. */
  serverUrl: string;
  /** The workflow run's page, for summaries and pull request bodies; null off GitHub. */
  runUrl: string | null;
  /**
   * The step's whole environment: what the trainer inherits (less the runner's own
   * variables), and where secret-looking values are found to redact.
   */
  env: Readonly<NodeJS.ProcessEnv>;
}

/** Reads the run context of this step (`@actions/github`'s context and the runner's variables). */
export function runContext(): Readonly<RunContext> {
  const env = process.env;
  const runId = Number.isSafeInteger(github.runId) && github.runId > 0 ? github.runId : undefined;
  const repository = env.GITHUB_REPOSITORY || undefined;
  return Object.freeze({
    workspace: path.resolve(env.GITHUB_WORKSPACE || process.cwd()),
    repository,
    runId,
    runAttempt: Number.isSafeInteger(github.runAttempt) && github.runAttempt > 0 ? github.runAttempt : 1,
    sha: github.sha || undefined,
    refName: env.GITHUB_REF_NAME || undefined,
    apiUrl: github.apiUrl || "https://api.github.com",
    serverUrl: github.serverUrl || "https://github.com",
    // Off GitHub (no server URL) there is no run page to link to.
    runUrl:
      env.GITHUB_SERVER_URL && repository && runId !== undefined
        ? `${github.serverUrl}/${repository}/actions/runs/${runId}`
        : null,
    env,
  });
}

/** The job summary's file (`GITHUB_STEP_SUMMARY`), or undefined where there is none (a local run). */
export function stepSummaryFile(): string | undefined {
  return process.env.GITHUB_STEP_SUMMARY || undefined;
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
