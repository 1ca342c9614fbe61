import os from "node:os";
import path from "node:path";
import type { Provenance, WorktreeState } from "../core/aggregate.js";
import type { LoadedConfig } from "./config-file.js";
import { type HeadCommit, headCommit, worktreeState } from "./git.js";

/** The workflow run's URL when running on GitHub Actions, else null. */
export function workflowRunUrl(env: NodeJS.ProcessEnv): string | null {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : null;
}

/** Everything the evidence records about where it came from, read from this machine. */
export async function collectProvenance(
  loaded: LoadedConfig,
  {
    cwd,
    env,
    toolkit,
    sampler,
    seed,
    source,
    now = new Date(),
  }: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    toolkit: string;
    sampler: string | null;
    seed: number;
    /** The commit and working tree the trials ran from, taken when they started (default: now). */
    source?: SourceState;
    now?: Date;
  },
): Promise<Omit<Provenance, "bestRunId" | "runVersion" | "bestConfigPath">> {
  const { commit, worktree } = source ?? (await sourceState(cwd));
  return {
    configPath: path.relative(cwd, loaded.absolutePath).split(path.sep).join("/"),
    configSha256: loaded.sha256,
    commit: commit?.sha ?? null,
    timestamp: now.toISOString(),
    toolkit: `tunix-rt ${toolkit}`,
    runner: env.RUNNER_NAME || os.hostname(),
    workflowRunUrl: workflowRunUrl(env),
    sampler,
    seed,
    worktree,
  };
}

/** The commit checked out and how the working tree differs from it. */
export interface SourceState {
  commit: HeadCommit | null;
  worktree: WorktreeState | null;
}

/** The source a run starts from: a sweep takes it before its first trial. */
export async function sourceState(root: string): Promise<SourceState> {
  return { commit: await headCommit(root), worktree: await worktreeState(root) };
}
