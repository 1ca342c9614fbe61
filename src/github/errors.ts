/**
 * GitHub API failures turned into one-line errors a user can act on: what tunix-rt was doing,
 * what GitHub answered, and (for 403/404) which permission or setting the caller must grant.
 */
import { TunixError } from "../core/errors.js";

/** An HTTP error from Octokit, read by shape (several copies of @octokit/request-error may be loaded). */
export interface ApiErrorLike {
  status: number;
  message: string;
  response?: { data?: unknown; headers?: Record<string, unknown> };
}

/** Whether `error` is an HTTP error from Octokit (it has a numeric `status`). */
export function isApiError(error: unknown): error is ApiErrorLike {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { status?: unknown }).status === "number" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

/** Whether `error` is an HTTP error with this status. */
export function hasStatus(error: unknown, status: number): error is ApiErrorLike {
  return isApiError(error) && error.status === status;
}

/** GitHub's own words: `message` and each `errors[].message` of the answer's body. */
export function apiMessages(error: ApiErrorLike): string[] {
  const data = error.response?.data as { message?: unknown; errors?: unknown } | undefined;
  const out: string[] = [];
  if (data && typeof data.message === "string") out.push(data.message);
  if (data && Array.isArray(data.errors)) {
    for (const e of data.errors) {
      if (typeof e === "string") out.push(e);
      else if (e && typeof e === "object") {
        const { message, code, field, resource } = e as Record<string, unknown>;
        if (typeof message === "string") out.push(message);
        else if (typeof code === "string")
          out.push([resource, field, code].filter((x) => typeof x === "string").join(" "));
      }
    }
  }
  if (out.length === 0) out.push(error.message);
  return out;
}

/** A GitHub API call failed; the message says what was being done and what to do. */
export class GitHubApiError extends TunixError {
  constructor(
    message: string,
    /** The HTTP status GitHub answered with (0 when no answer came). */
    readonly status: number,
  ) {
    super(message);
  }
}

/** What was being done when a call failed, for the error message. */
export interface ApiContext {
  /** A phrase: "creating the pull request", "writing the evidence commit". */
  doing: string;
  /** `owner/repo`. */
  repo: string;
  /** The token permission the call needs, as written under `permissions:` ("pull-requests: write"). */
  permission?: string;
  /** One more sentence for a 403 (a repository setting, another token). */
  forbiddenHint?: string;
}

/**
 * Turns anything a GitHub call threw into a GitHubApiError with one line: what tunix-rt was
 * doing, GitHub's status and words, and on 403/404 the permission the workflow must grant.
 * Non-HTTP errors (network) keep their message.
 */
export function describeApiError(error: unknown, context: ApiContext): GitHubApiError {
  if (error instanceof GitHubApiError) return error;
  if (!isApiError(error)) {
    const why = error instanceof Error ? error.message : String(error);
    return new GitHubApiError(`${context.doing} in ${context.repo} failed: ${oneLine(why)}`, 0);
  }
  const said = oneLine(apiMessages(error).join("; "));
  let advice = "";
  if (error.status === 403 || error.status === 404) {
    const grant = context.permission
      ? `the token needs "${context.permission}" (add it under the job's \`permissions:\`, or pass a GitHub App token that has it)`
      : "check the token's permissions";
    advice =
      error.status === 404
        ? `; the repository or object was not found, or the token cannot see it: ${grant}`
        : `; ${grant}`;
    if (error.status === 403 && context.forbiddenHint) advice += `; ${context.forbiddenHint}`;
  } else if (error.status >= 500) {
    advice = "; GitHub kept failing after the retries, try again later (https://www.githubstatus.com)";
  }
  return new GitHubApiError(
    `${context.doing} in ${context.repo} failed: GitHub answered ${error.status} (${said})${advice}`,
    error.status,
  );
}

/** Runs one GitHub call and turns its failure into a GitHubApiError (see describeApiError). */
export async function callGitHub<T>(context: ApiContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw describeApiError(error, context);
  }
}

const oneLine = (s: string) => s.replace(/\s*\r?\n\s*/g, " ").trim();
