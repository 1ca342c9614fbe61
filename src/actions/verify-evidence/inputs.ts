/** The verify-evidence action's input boundary: the only place that reads its inputs. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { flag, oneOf, optionalText, pathList, readInputs, wholeNumber } from "../shared/input-values.js";
import type { ReadOptions } from "../shared/runner.js";

/** Literal defaults, the same as actions/verify-evidence/action.yml declares (a test compares them). */
export const verifyDefaults = {
  profile: "default",
  "working-directory": ".",
  "require-attestation": "false",
} as const;

/** What is asked of the evidence's signature (attestation.sigstore.json). */
export interface AttestationSettings {
  /** A missing signature is a problem (`require-attestation: true`). */
  required: boolean;
  /** The workflow of this repository that must have signed (`.github/workflows/<file>`), or any of its workflows. */
  signerWorkflow: string | undefined;
  /** Sigstore trusted roots (a file of the workspace's checkout) instead of public-good's. */
  sigstoreRoot: string | undefined;
}

/** Verify folders and zips in a checkout (`path`). */
export interface FolderVerifySettings {
  mode: "verify";
  /** Evidence folders (`submission_runs/<run_version>`) and submission zips, relative to the workspace. */
  paths: readonly string[];
  /** `kaggle` also requires a Gemma model id. */
  profile: "default" | "kaggle";
  /**
   * The checkout to verify in, relative to the workspace (`.`: the workspace): paths are
   * relative to it, the files the evidence names are read from it, annotations name files
   * relative to it, and nothing outside it is read.
   */
  workingDirectory: string;
  attestation: AttestationSettings;
}

/**
 * Verify what a pull request brings (`pull-request`): the workspace is a checkout of its
 * base commit, whose evalset and sweep config are the truth; the head's evidence is read
 * from git's objects as data.
 */
export interface PullRequestVerifySettings {
  mode: "pull-request";
  /** The pull request's number (its head is fetched as refs/pull/<n>/head). */
  pullRequest: number;
  /** The base commit: the workspace's HEAD. */
  baseSha: string;
  /** The head commit whose evidence is verified. */
  headSha: string;
  profile: "default" | "kaggle";
  /** A token that reads the repository, for the fetch of the head (private repositories). */
  token: string | undefined;
  attestation: AttestationSettings;
}

/** What to verify. */
export type VerifySettings = FolderVerifySettings | PullRequestVerifySettings;

const sha = z.string().transform((raw, ctx): string | undefined => {
  const s = raw.trim();
  if (s === "") return undefined;
  if (/^[0-9a-f]{40}$/.test(s)) return s;
  ctx.addIssue({ code: "custom", message: `got ${JSON.stringify(raw)}; expected a full 40-hex commit sha` });
  return z.NEVER;
});

const schema = z.object({
  path: pathList,
  profile: oneOf(["default", "kaggle"], "default"),
  "working-directory": optionalText,
  "pull-request": wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  "base-sha": sha,
  "head-sha": sha,
  token: optionalText,
  "require-attestation": flag(false),
  "signer-workflow": optionalText,
  "sigstore-root": optionalText,
});

/**
 * Reads the verify-evidence action's inputs: with `pull-request`, a pull request's evidence
 * (base-sha and head-sha needed, path not allowed); else the folders and zips of `path`.
 */
export function readVerifyInputs({
  action = "tunix-rt/verify-evidence",
}: ReadOptions<VerifySettings["mode"]> = {}): VerifySettings {
  const raw = readInputs(schema, action);
  const profile = raw.profile ?? "default";
  const workflow = raw["signer-workflow"];
  if (workflow !== undefined && !/^\.github\/workflows\/[^/\s]+\.ya?ml$/.test(workflow))
    throw new InputError(
      `${action}: with.signer-workflow: got ${JSON.stringify(workflow)}; expected a workflow file of this repository, .github/workflows/<name>.yml`,
    );
  const attestation = Object.freeze({
    required: raw["require-attestation"],
    signerWorkflow: workflow,
    sigstoreRoot: raw["sigstore-root"],
  });
  if (raw["pull-request"] !== undefined) {
    const missing = (["base-sha", "head-sha"] as const).filter((name) => raw[name] === undefined);
    if (missing.length > 0)
      throw new InputError(
        `${action}: with.${missing[0]}: missing; a pull request is verified from its base and head commits (github.event.pull_request.base.sha and head.sha)`,
      );
    if (raw.path.length > 0)
      throw new InputError(
        `${action}: with.path: got ${JSON.stringify(raw.path.join(" "))}; with pull-request the evidence folders are the ones the pull request changes, so leave path out`,
      );
    return Object.freeze({
      mode: "pull-request",
      pullRequest: raw["pull-request"],
      baseSha: raw["base-sha"] as string,
      headSha: raw["head-sha"] as string,
      profile,
      token: raw.token,
      attestation,
    });
  }
  if (raw.path.length === 0)
    throw new InputError(
      `${action}: with.path: missing; expected one or more evidence folders or submission zips (or pull-request, to verify a pull request's evidence)`,
    );
  return Object.freeze({
    mode: "verify",
    paths: Object.freeze([...raw.path]),
    profile,
    workingDirectory: raw["working-directory"] ?? verifyDefaults["working-directory"],
    attestation,
  });
}
