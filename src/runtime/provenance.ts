import os from "node:os";
import path from "node:path";
import type { Provenance } from "../core/aggregate.js";
import type { LoadedConfig } from "./config-file.js";
import { headCommit } from "./git.js";

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
    now = new Date(),
  }: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    toolkit: string;
    sampler: string | null;
    seed: number;
    now?: Date;
  },
): Promise<Omit<Provenance, "bestRunId" | "runVersion" | "bestConfigPath">> {
  const commit = await headCommit(cwd);
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
  };
}
