import os from "node:os";
import path from "node:path";
import type { Provenance } from "../core/evidence/aggregate.js";
import type { TrialSource, WorktreeState } from "../core/evidence/source.js";
import type { LoadedConfig } from "./config-file.js";
import { type HeadCommit, headCommit, sourceOf, worktreeState } from "./git.js";
import { isInside } from "./root.js";

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
    /**
     * The commit and working tree when the sweep started (default: now): the evidence takes
     * each trial's from its record, and this only for trials whose records keep none.
     */
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

/**
 * The source a run starts from: a sweep takes it before its first trial (what the evidence
 * says of trials whose records keep none). `exclude`: paths to leave out, relative to `root`.
 */
export async function sourceState(
  root: string,
  { exclude = [] }: { exclude?: readonly string[] } = {},
): Promise<SourceState> {
  return { commit: await headCommit(root), worktree: await worktreeState(root, { exclude }) };
}

/**
 * The source a trial starts from, for its record (`commit_sha`, `worktree`): the trial's own
 * folder is left out when it lies inside the repository, since what the trial writes there
 * is no edit of the code it runs.
 */
export async function trialSource(root: string, trialDir: string): Promise<TrialSource> {
  const relative = path.relative(root, trialDir);
  const exclude = relative !== "" && isInside(root, trialDir) ? [relative.split(path.sep).join("/")] : [];
  // One git for a clean tree (status gives HEAD too): it runs before every trial.
  const source = await sourceOf(root, { exclude });
  return { commit_sha: source?.commit ?? null, worktree: source?.worktree ?? null };
}
