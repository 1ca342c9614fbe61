/**
 * Verification reported on a commit (the evidence pull request's head): a check run with one
 * annotation per problem, or a commit status when the token cannot write checks, or nothing
 * (with a note naming the permission) when it cannot write either.
 */
import type { Problem } from "../core/errors.js";
import { formatProblem } from "../core/errors.js";
import { redact } from "../core/redact.js";
import { apiMessages, callGitHub, describeApiError, hasStatus } from "./errors.js";
import type { GitHubClient } from "./octokit.js";
import { problemAnnotations } from "./summary.js";

/** What `reportCheck` needs. */
export interface ReportCheckOptions {
  owner: string;
  repo: string;
  /** The commit to report on (the evidence pull request's head). */
  headSha: string;
  /** The check's name (also the commit status's context). */
  name: string;
  valid: boolean;
  /** Markdown shown on the check's page (clipped to GitHub's 65,535 characters). */
  summary: string;
  problems: readonly Problem[];
  /** Link from the check or status (the workflow run). */
  detailsUrl?: string;
  /** Makes absolute problem paths relative for annotations (default: they are used as given). */
  repoRoot?: string;
  /** Secret values redacted from everything sent (token shapes are redacted always). */
  secrets?: readonly string[];
  /** The most annotations to send, 50 per request (default 500); the summary lists every problem anyway. */
  maxAnnotations?: number;
}

/** Where the verification result went. */
export interface ReportCheckResult {
  /**
   * `check-run`; `commit-status` when check runs were refused (a personal access token, or a
   * token without `checks: write`); `none` when commit statuses were refused too.
   */
  kind: "check-run" | "commit-status" | "none";
  /** The check run's or status's id; null with `none`. */
  id: number | null;
  /** Where the check run or status links to; null with `none`. */
  url: string | null;
  /** One line for the job summary when the result is not a check run: the fallback taken and why. */
  note?: string;
}

const annotationsPerRequest = 50;

/**
 * Reports verification on a commit as a completed check run (conclusion `success` or
 * `failure`) with one failure annotation per problem (path relative to the repository, the
 * problem's line or 1). GitHub takes at most 50 annotations per request: the first 50 go with
 * `checks.create`, the rest in batches through `checks.update`, which appends them.
 *
 * Only GitHub Apps may create check runs (GITHUB_TOKEN is the GitHub Actions app's token), so
 * a personal access token gets 403 ("You must authenticate via a GitHub App."), as does a
 * token without `checks: write`. The result then goes to a commit status of the same name
 * (context = `name`, description = a one-line count), which needs `statuses: write`. When that
 * is refused too (403, or 404 from a fine-grained token that cannot see commit statuses),
 * nothing is reported: the result is `none` with a note naming the permission, not an error,
 * since the evidence is already committed and its pull request open. Any other failure throws.
 * Pull requests opened with `GITHUB_TOKEN` start no workflows, which is why the aggregate job
 * reports this itself.
 */
export async function reportCheck(
  octokit: GitHubClient,
  options: ReportCheckOptions,
): Promise<ReportCheckResult> {
  const { owner, repo, headSha, name, valid } = options;
  const full = `${owner}/${repo}`;
  const secrets = options.secrets ?? [];
  const count = options.problems.length;
  const title = valid ? "Evidence is valid" : `${count} problem${count === 1 ? "" : "s"} in the evidence`;
  const summary = clip(redact(options.summary, secrets), 65_000);
  const annotations = problemAnnotations(options.problems, {
    ...(options.repoRoot === undefined ? {} : { repoRoot: options.repoRoot }),
    secrets,
  })
    .slice(0, options.maxAnnotations ?? 500)
    .map((a) => ({
      path: a.file,
      start_line: a.startLine ?? 1,
      end_line: a.startLine ?? 1,
      annotation_level: "failure" as const,
      message: clip(a.message, 60_000),
      title: clip(a.title, 255),
    }));
  const batches: (typeof annotations)[] = [];
  for (let i = 0; i < annotations.length; i += annotationsPerRequest)
    batches.push(annotations.slice(i, i + annotationsPerRequest));

  let created: { id: number; html_url: string | null; url: string };
  try {
    const { data } = await octokit.rest.checks.create({
      owner,
      repo,
      name,
      head_sha: headSha,
      status: "completed",
      conclusion: valid ? "success" : "failure",
      completed_at: new Date().toISOString(),
      ...(options.detailsUrl ? { details_url: options.detailsUrl } : {}),
      output: { title, summary, annotations: batches[0] ?? [] },
    });
    created = data;
  } catch (error) {
    if (hasStatus(error, 403)) {
      const said = oneLine(apiMessages(error).join("; "));
      return reportStatus(octokit, options, title, `check runs were refused (GitHub answered 403: ${said})`);
    }
    throw describeApiError(error, {
      doing: "creating the check run",
      repo: full,
      permission: "checks: write",
    });
  }
  for (const batch of batches.slice(1)) {
    await callGitHub(
      { doing: "adding annotations to the check run", repo: full, permission: "checks: write" },
      () =>
        octokit.rest.checks.update({
          owner,
          repo,
          check_run_id: created.id,
          output: { title, summary, annotations: batch },
        }),
    );
  }
  return { kind: "check-run", id: created.id, url: created.html_url ?? created.url };
}

/** The commit-status fallback; `refused` says why check runs were not possible. */
async function reportStatus(
  octokit: GitHubClient,
  options: ReportCheckOptions,
  title: string,
  refused: string,
): Promise<ReportCheckResult> {
  const { owner, repo } = options;
  const first = options.problems[0];
  const description = options.valid
    ? title
    : `${title}${first ? `: ${redact(formatProblem(first), options.secrets ?? [])}` : ""}`;
  try {
    const { data } = await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha: options.headSha,
      state: options.valid ? "success" : "failure",
      context: options.name,
      description: clip(description, 140),
      ...(options.detailsUrl ? { target_url: options.detailsUrl } : {}),
    });
    return {
      kind: "commit-status",
      id: data.id,
      url: data.target_url ?? data.url,
      note: `${refused}, so verify went to the commit status "${options.name}" (check runs are created only by GitHub Apps and GITHUB_TOKEN with "checks: write")`,
    };
  } catch (error) {
    if (hasStatus(error, 403) || hasStatus(error, 404)) {
      const said = oneLine(apiMessages(error).join("; "));
      return {
        kind: "none",
        id: null,
        url: null,
        note: `verify was not reported on ${options.headSha.slice(0, 7)}: ${refused}, and the commit status was refused too (GitHub answered ${error.status}: ${said}); grant the token "statuses: write" (a fine-grained personal access token: Commit statuses, read and write), or use GITHUB_TOKEN with "checks: write" or a GitHub App token`,
      };
    }
    throw describeApiError(error, {
      doing: "reporting verification as a commit status",
      repo: `${owner}/${repo}`,
      permission: "statuses: write",
    });
  }
}

const oneLine = (s: string) => s.replace(/\s*\r?\n\s*/g, " ").trim();

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
