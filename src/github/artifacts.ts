/**
 * The sweep's artifacts in the current workflow run: each trial job uploads its folder as
 * `tunix-rt-trial-<sweep_id>-<trial_id>` (DESIGN.md "Names"), each wave's plan job uploads
 * `tunix-rt-wave-<sweep_id>-<wave>` (the history it planned from and its plan), and later
 * jobs list and download them. Everything goes through the runner's own artifact service
 * (the runtime token that @actions/artifact reads for the current run), not the public REST
 * API: no `actions: read`, nothing counted against the token's REST rate limit. The
 * artifact client is passed in: `DefaultArtifactClient` of @actions/artifact on a runner,
 * a ten-line fake in tests.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { messageOf, TunixError } from "../core/errors.js";
import { sameJson } from "../core/json.js";

/**
 * Why the run's GitHub has no artifact service for the sweep, or undefined where it has one.
 * The service behind @actions/artifact 2 (artifacts v4) is on github.com and GHE.com, not on
 * GitHub Enterprise Server: there the client refuses every call, and a sweep's jobs would
 * have no way to pass records on. The hosts are the client's own rule.
 */
export function artifactServiceProblem(serverUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(serverUrl).hostname.toLowerCase();
  } catch {
    return undefined; // not a URL: the client decides
  }
  if (host === "github.com" || host.endsWith(".ghe.com") || host.endsWith(".localhost")) return undefined;
  return `GITHUB_SERVER_URL is ${serverUrl}: GitHub Enterprise Server has no artifacts v4 service (@actions/artifact 2), which the sweep's jobs pass their plans and trial records through; run the sweep workflow on github.com or GHE.com, or sweep on one machine with \`tunix-rt sweep\``;
}

/** Throws where the run's GitHub has no artifact service (`artifactServiceProblem`). */
export function assertArtifactService(serverUrl: string): void {
  const problem = artifactServiceProblem(serverUrl);
  if (problem) throw new TunixError(problem);
}

/**
 * @actions/artifact's client of the runner's artifact service. It is the biggest part of the
 * bundle, so it loads only when a step uploads or downloads. On a GitHub without the service
 * it throws, before the step does any work that would be lost.
 */
export async function runnerArtifactClient(serverUrl: string): Promise<ArtifactClientLike> {
  assertArtifactService(serverUrl);
  const { DefaultArtifactClient } = await import("@actions/artifact");
  return new DefaultArtifactClient();
}

/** The artifact of one trial (DESIGN.md, "Names"). */
export function trialArtifactName(sweepId: string, trialId: string): string {
  return `tunix-rt-trial-${sweepId}-${trialId}`;
}

/** The artifact a wave's plan job leaves: the history it planned from and what it planned. */
export function waveArtifactName(sweepId: string, wave: number): string {
  return `tunix-rt-wave-${sweepId}-${wave}`;
}

/** Where an artifact lives when it is not the current run's (the client's option; tunix-rt never needs it). */
export interface ArtifactFindBy {
  token: string;
  workflowRunId: number;
  repositoryOwner: string;
  repositoryName: string;
}

/** An artifact as the client lists it. */
export interface ArtifactSummary {
  name: string;
  id: number;
  size?: number;
  createdAt?: Date;
}

/**
 * The part of @actions/artifact's `DefaultArtifactClient` tunix-rt uses (same signatures, so the
 * real client fits; so does a fake).
 */
export interface ArtifactClientLike {
  uploadArtifact(
    name: string,
    files: string[],
    rootDirectory: string,
    options?: { retentionDays?: number; compressionLevel?: number },
  ): Promise<{ id?: number; size?: number; digest?: string }>;
  deleteArtifact(name: string, options?: { findBy?: ArtifactFindBy }): Promise<{ id: number }>;
  listArtifacts(options?: {
    latest?: boolean;
    findBy?: ArtifactFindBy;
  }): Promise<{ artifacts: ArtifactSummary[] }>;
  downloadArtifact(
    artifactId: number,
    options?: { path?: string; findBy?: ArtifactFindBy },
  ): Promise<{ downloadPath?: string; digestMismatch?: boolean }>;
}

/** The files a trial folder may hold, in upload order (the ones that exist are uploaded). */
export const trialArtifactFiles: readonly string[] = [
  "trial.json",
  "eval_rows.jsonl",
  "output.log",
  "metrics.jsonl",
  "predictions.jsonl",
  "params.json",
];

/** What `uploadFolderArtifact` needs. */
export interface UploadFolderArtifactOptions {
  /** The artifact's name (`trialArtifactName(sweepId, trialId)`). */
  name: string;
  /** The trial folder; files are stored relative to it. */
  dir: string;
  /** File names inside `dir` to upload when present; default `trialArtifactFiles`. */
  files?: readonly string[];
  /** Days GitHub keeps the artifact; default: the repository's setting. */
  retentionDays?: number;
  /**
   * Waits (ms) before each further try when the name is still taken after the earlier
   * attempt's artifact was deleted (default 1 s, 2 s, 4 s, 8 s); a parameter so tests never sleep.
   */
  retryDelays?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

/** An artifact upload or download failed; the message says what to do. */
export class ArtifactError extends TunixError {}

const isConflict = (error: unknown) => /\b409\b|conflict|already exists/i.test(messageOf(error));

/**
 * Uploads a folder's files (those of `files` that exist) as one artifact.
 *
 * Re-runs: "Re-run failed jobs" runs a job again inside the same workflow run, where its
 * earlier attempt's artifact already holds the name, and @actions/artifact v2+ refuses a
 * second artifact of one name in a run (409 Conflict). So when an upload fails and the run's
 * list shows an artifact of this name, that artifact is deleted (the re-run's files supersede
 * it) and the upload is tried again, as upload-artifact's `overwrite: true` does; while the
 * service still answers 409 (the deletion is not visible everywhere at once), it is tried
 * again after each of `retryDelays`. The list is consulted first, since the library does not
 * promise its error text; an error that says 409/Conflict/"already exists" also leads there.
 */
export async function uploadFolderArtifact(
  client: ArtifactClientLike,
  options: UploadFolderArtifactOptions,
): Promise<{ id: number; size: number }> {
  const dir = path.resolve(options.dir);
  const present: string[] = [];
  for (const name of options.files ?? trialArtifactFiles) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (info?.isFile()) present.push(file);
  }
  if (present.length === 0) {
    throw new ArtifactError(
      `${options.dir}: no files to upload (looked for ${(options.files ?? trialArtifactFiles).join(", ")})`,
    );
  }
  const upload = async () => {
    const result = await client.uploadArtifact(
      options.name,
      present,
      dir,
      options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays },
    );
    return { id: result.id ?? 0, size: result.size ?? 0 };
  };
  try {
    return await upload();
  } catch (error) {
    const { artifacts } = await client.listArtifacts().catch(() => ({ artifacts: [] as ArtifactSummary[] }));
    const listed = artifacts.some((a) => a.name === options.name);
    if (!listed && !isConflict(error)) {
      throw new ArtifactError(`uploading artifact ${options.name} failed: ${messageOf(error)}`);
    }
    try {
      await client.deleteArtifact(options.name);
    } catch (deleteError) {
      // Listed but not deletable: report it; not listed (only the message said conflict): try anyway.
      if (listed) {
        throw new ArtifactError(
          `uploading artifact ${options.name} failed (an earlier attempt's artifact holds the name) and deleting that one failed: ${messageOf(deleteError)}`,
        );
      }
    }
    const delays = options.retryDelays ?? [1000, 2000, 4000, 8000];
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 0; ; attempt++) {
      try {
        return await upload();
      } catch (again) {
        const delay = delays[attempt];
        if (delay === undefined || !isConflict(again)) {
          throw new ArtifactError(
            `uploading artifact ${options.name} failed after replacing the earlier attempt's (${attempt + 1} ${attempt === 0 ? "try" : "tries"}): ${messageOf(again)}`,
          );
        }
        await sleep(delay);
      }
    }
  }
}

/** The newest artifact of this run with exactly this name, if any. */
export async function findArtifact(
  client: ArtifactClientLike,
  name: string,
): Promise<ArtifactSummary | undefined> {
  const { artifacts } = await client.listArtifacts({ latest: true });
  return artifacts.find((a) => a.name === name);
}

/** Downloads one artifact into `dir`, naming it in the error when that fails. */
export async function downloadArtifactTo(
  client: ArtifactClientLike,
  artifact: ArtifactSummary,
  dir: string,
): Promise<void> {
  try {
    await client.downloadArtifact(artifact.id, { path: dir });
  } catch (error) {
    throw new ArtifactError(
      `downloading artifact ${artifact.name} (id ${artifact.id}) failed: ${messageOf(error)}`,
    );
  }
}

/** Reads a downloaded artifact's file, or undefined when it is not there. */
export async function readArtifactFile(dir: string, name: string): Promise<string | undefined> {
  return readFile(path.join(dir, name), "utf8").catch(() => undefined);
}

/** A planned trial as an earlier attempt's record must match it. */
export interface TrialIdentity {
  sweep_id: string;
  trial_id: string;
  params: unknown;
}

/**
 * The record an earlier attempt of this run completed for this very trial (same sweep, id and
 * params), from its artifact downloaded into `dir`; undefined when it left none, or one that
 * did not complete (the trial trains again, and its upload replaces the artifact).
 */
export async function completedEarlier<R extends TrialIdentity & { status: string }>(
  client: ArtifactClientLike,
  artifact: ArtifactSummary,
  trial: TrialIdentity,
  dir: string,
): Promise<R | undefined> {
  await downloadArtifactTo(client, artifact, dir);
  const record = JSON.parse((await readArtifactFile(dir, "trial.json")) ?? "null") as R | null;
  const same =
    record?.status === "completed" &&
    record.trial_id === trial.trial_id &&
    record.sweep_id === trial.sweep_id &&
    sameJson(record.params, trial.params);
  return same ? record : undefined;
}

/** What `downloadSweepArtifacts` needs. */
export interface DownloadSweepArtifactsOptions {
  sweepId: string;
  /** Each artifact goes to `dest/<artifact name>/`. */
  dest: string;
  /** Only these trials' artifacts (the ones an earlier download has not fetched); default all. */
  trialIds?: readonly string[];
  /** Downloads at a time (default 4). */
  concurrency?: number;
}

/** One downloaded artifact. */
export interface DownloadedArtifact {
  name: string;
  id: number;
  /** The trial id the name carries. */
  trialId: string;
  dir: string;
}

/**
 * Downloads the trial artifacts of one sweep from the current run: lists the run's
 * artifacts with `latest: true` (a re-run trial's newest artifact wins over its earlier
 * attempt's), keeps those named exactly `tunix-rt-trial-<sweepId>-t<digits>` (so another
 * sweep's, or a sweep whose id merely starts the same, is ignored), only `trialIds` when
 * given, and extracts each into `dest/<artifact name>/`, sorted by name.
 */
export async function downloadSweepArtifacts(
  client: ArtifactClientLike,
  options: DownloadSweepArtifactsOptions,
): Promise<{ downloaded: DownloadedArtifact[] }> {
  const { artifacts } = await client.listArtifacts({ latest: true });
  const prefix = trialArtifactName(options.sweepId, "");
  const only = options.trialIds ? new Set(options.trialIds) : undefined;
  const wanted: Array<ArtifactSummary & { trialId: string }> = [];
  for (const a of artifacts) {
    if (!a.name.startsWith(prefix)) continue;
    const trialId = a.name.slice(prefix.length);
    if (/^t\d{4,}$/.test(trialId) && (only === undefined || only.has(trialId)))
      wanted.push({ ...a, trialId });
  }
  wanted.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const downloaded: DownloadedArtifact[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < wanted.length; i = next++) {
      const a = wanted[i] as (typeof wanted)[number];
      const dir = path.join(options.dest, a.name);
      await downloadArtifactTo(client, a, dir);
      downloaded.push({ name: a.name, id: a.id, trialId: a.trialId, dir });
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, wanted.length)) }, worker),
  );
  downloaded.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { downloaded };
}
