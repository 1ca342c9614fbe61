/**
 * The evidence pull request: the evidence folder and the promoted config committed to
 * `tunix-rt/evidence/<run_version>` through the Git database API, then a pull request created
 * or updated; and verification reported on the pull request's head as a check run (or a
 * commit status when the token cannot write checks).
 */
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { isSafeRunVersion, runVersionRule } from "../core/config.js";
import type { Problem } from "../core/errors.js";
import { formatProblem, InputError } from "../core/errors.js";
import { redact } from "../core/redact.js";
import { apiMessages, callGitHub, describeApiError, GitHubApiError, hasStatus } from "./errors.js";
import type { GitHubClient } from "./octokit.js";
import { problemAnnotations } from "./summary.js";

/** The branch evidence of a run version goes to (DESIGN.md, "Names"). */
export function evidenceBranch(runVersion: string): string {
  return `tunix-rt/evidence/${runVersion}`;
}

/** One file to commit: its path from the repository root (`/`-separated) and its bytes. */
export interface EvidenceFile {
  path: string;
  content: string | Buffer;
}

/** What `publishEvidence` needs. */
export interface PublishEvidenceOptions {
  owner: string;
  repo: string;
  /** The branch the pull request targets; default: the repository's default branch (one more request). */
  base?: string;
  /** The run version: names the branch `tunix-rt/evidence/<runVersion>`. */
  runVersion: string;
  /** The files to commit (the evidence folder's files and the promoted config). */
  files: readonly EvidenceFile[];
  /** Pull request title and body (Markdown: the leaderboard and a link to the workflow run). */
  title: string;
  body: string;
  commitMessage: string;
  /** Secret values redacted from the title and body (token shapes are redacted always). */
  secrets?: readonly string[];
  /** Keys whose values are ignored when deciding whether evidence changed; default `volatileEvidenceKeys`. */
  volatileKeys?: readonly string[];
  /**
   * Folders the evidence owns whole (the evidence folder, its charts/): a file there on the
   * branch that `files` no longer holds (a chart an earlier sweep drew) is deleted.
   */
  ownedFolders?: readonly string[];
}

/** What `publishEvidence` did. */
export interface PublishEvidenceResult {
  /**
   * `created`: this call opened the pull request. `updated`: it pushed a new commit to the
   * branch of an already open pull request. `unchanged`: the branch already held this
   * evidence (timestamps and run URLs aside), so no commit was made; an open pull request's
   * title and body were still refreshed.
   */
  operation: "created" | "updated" | "unchanged";
  /**
   * The pull request's number and web URL. Null only when no pull request is open or was ever
   * opened for the branch and the base branch already holds this evidence (nothing to propose).
   */
  number: number | null;
  url: string | null;
  /**
   * Whether a pull request of the branch is open now, with `headSha` as its head. Only then is
   * verify reported on `headSha`: otherwise it is the base branch's head (no branch) or the head
   * of a merged branch, where a check would mean nothing (or show on the base branch).
   */
  open: boolean;
  /** The commit the branch points at now (the pull request's head when `open`), else the base's head. */
  headSha: string;
  branch: string;
  /** Whether this call made a commit. */
  committed: boolean;
}

/**
 * Keys (at any depth of a JSON/JSONL/YAML file) whose values change on every run without the
 * evidence changing: times, durations, the workflow run's URL and the aggregating runner's
 * name. Two versions of a file that differ only there count as the same evidence.
 */
export const volatileEvidenceKeys: readonly string[] = [
  "timestamp",
  "date",
  "evaluated_at",
  "started_at",
  "finished_at",
  "created_at",
  "updated_at",
  "duration_s",
  "workflow_run_url",
  "run_url",
  "aggregated_by",
];

/**
 * A file's content for comparison: JSON (`.json`), JSON Lines (`.jsonl`, per line) and YAML
 * (`.yaml`/`.yml`, comments dropped) parsed with every volatile key removed, at any depth;
 * anything else (logs, Markdown, `kaggle_output_log.txt`) as is. Content that does not parse
 * is compared as is.
 */
export function normalizeEvidenceContent(
  filePath: string,
  content: string | Buffer,
  volatileKeys: readonly string[] = volatileEvidenceKeys,
): string {
  const text = typeof content === "string" ? content : content.toString("utf8");
  const drop = new Set(volatileKeys);
  const prune = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(prune);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([k]) => !drop.has(k))
          .map(([k, x]) => [k, prune(x)]),
      );
    }
    return v;
  };
  try {
    if (/\.json$/i.test(filePath)) return JSON.stringify(prune(JSON.parse(text)));
    if (/\.jsonl$/i.test(filePath)) {
      return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.stringify(prune(JSON.parse(line))))
        .join("\n");
    }
    if (/\.ya?ml$/i.test(filePath)) return JSON.stringify(prune(parseYaml(text)));
  } catch {
    // Not parseable: compare the bytes.
  }
  return text;
}

/** The git blob SHA-1 of some bytes (what `git hash-object` prints). */
export function gitBlobSha(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** A file prepared for committing. */
interface Prepared {
  path: string;
  bytes: Buffer;
  sha: string;
}

/** A tree entry as `git.getTree` lists it. */
interface TreeItem {
  path?: string;
  type?: string;
  sha?: string;
}

/** Everything one publishing needs, threaded through the steps. */
interface Publishing {
  octokit: GitHubClient;
  owner: string;
  repo: string;
  full: string;
  base: string;
  branch: string;
  files: Prepared[];
  commitMessage: string;
  volatileKeys: readonly string[];
  ownedFolders: readonly string[];
}

/** What the commit step did. */
interface CommitOutcome {
  committed: boolean;
  headSha: string;
  /** False when the branch does not exist (the base already held the evidence). */
  branchExists: boolean;
}

const gitWrite = "contents: write";
const prWrite = "pull-requests: write";
const prHint =
  'for GITHUB_TOKEN, also turn on the repository setting "Allow GitHub Actions to create and approve pull requests" (Settings > Actions > General > Workflow permissions; off by default)';
const maxBody = 65_000;

/**
 * Commits evidence to `tunix-rt/evidence/<runVersion>` and opens or updates its pull request.
 *
 * The commit goes through the Git database API (blobs, a tree on the parent's tree, a commit,
 * then the ref), never through a local git: GitHub signs such commits when the token is a
 * bot's or an app's (`GITHUB_TOKEN`, a GitHub App token) because no author is passed, so
 * branches that require signed commits accept them. The parent is the branch's head when the
 * branch exists (history is kept, and a person's commits on it survive), else the base
 * branch's head; the ref moves only by fast-forward (never forced): if another push lands
 * between reading the head and moving the ref, the whole step is redone once from the new
 * head, and a second conflict is an error.
 *
 * No commit is made when every file equals the branch's (or, without a branch, the base's)
 * version once volatile keys are ignored (`normalizeEvidenceContent`); files whose bytes are
 * equal are not re-sent. The pull request is then found with `pulls.list` (head
 * `owner:branch`, open) and its title/body refreshed, or created; a 422 "already exists" from
 * a concurrent run is answered by updating the pull request that run opened.
 *
 * Errors are GitHubApiError with one line naming the permission to grant: `contents: write`
 * for the commit, `pull-requests: write` (and the repository setting that lets Actions create
 * pull requests) for the pull request.
 */
export async function publishEvidence(
  octokit: GitHubClient,
  options: PublishEvidenceOptions,
): Promise<PublishEvidenceResult> {
  const { owner, repo } = options;
  const full = `${owner}/${repo}`;
  checkRunVersion(options.runVersion);
  const files = prepareFiles(options.files);
  const base =
    options.base ??
    (
      await callGitHub(
        { doing: "reading the repository's default branch", repo: full, permission: "contents: read" },
        () => octokit.rest.repos.get({ owner, repo }),
      )
    ).data.default_branch;
  const p: Publishing = {
    octokit,
    owner,
    repo,
    full,
    base,
    branch: evidenceBranch(options.runVersion),
    files,
    commitMessage: options.commitMessage,
    volatileKeys: options.volatileKeys ?? volatileEvidenceKeys,
    ownedFolders: options.ownedFolders ?? [],
  };
  let outcome: CommitOutcome | undefined;
  for (let attempt = 1; outcome === undefined; attempt++) outcome = await commitEvidence(p, attempt >= 2);

  const secrets = options.secrets ?? [];
  const title = redact(options.title, secrets).slice(0, 256);
  const body = clipBody(redact(options.body, secrets));
  const pull = await ensurePullRequest(p, outcome, title, body);
  return { ...pull, headSha: outcome.headSha, branch: p.branch, committed: outcome.committed };
}

function checkRunVersion(runVersion: string): void {
  // The config's rule, which also keeps it a valid git branch name part.
  if (!isSafeRunVersion(runVersion))
    throw new InputError(`runVersion: got ${JSON.stringify(runVersion)}; expected ${runVersionRule}`);
}

function prepareFiles(files: readonly EvidenceFile[]): Prepared[] {
  if (files.length === 0) throw new InputError("files: nothing to commit (the evidence list is empty)");
  const seen = new Set<string>();
  return files.map((f) => {
    const p = f.path;
    if (
      p === "" ||
      p.startsWith("/") ||
      p.includes("\\") ||
      p.split("/").some((s) => s === "" || s === "." || s === "..")
    ) {
      throw new InputError(`files: path ${JSON.stringify(p)}: expected a relative path with '/' separators`);
    }
    if (seen.has(p)) throw new InputError(`files: path ${JSON.stringify(p)} is listed twice`);
    seen.add(p);
    const bytes = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, "utf8");
    return { path: p, bytes, sha: gitBlobSha(bytes) };
  });
}

/** The commit a branch points at, or null when the branch does not exist. */
async function branchSha(p: Publishing, branch: string): Promise<string | null> {
  try {
    const { data } = await p.octokit.rest.git.getRef({
      owner: p.owner,
      repo: p.repo,
      ref: `heads/${branch}`,
    });
    return data.object.sha;
  } catch (error) {
    if (hasStatus(error, 404)) return null;
    throw describeApiError(error, {
      doing: `reading branch ${branch}`,
      repo: p.full,
      permission: "contents: read",
    });
  }
}

/**
 * Writes the commit when the evidence changed. Returns undefined when the ref moved under us
 * and this was not the last try (the caller starts over from the new head).
 */
async function commitEvidence(p: Publishing, lastTry: boolean): Promise<CommitOutcome | undefined> {
  const { octokit, owner, repo } = p;
  const baseSha = await branchSha(p, p.base);
  if (baseSha === null) {
    throw new GitHubApiError(
      `publishing evidence in ${p.full} failed: the base branch "${p.base}" does not exist`,
      404,
    );
  }
  const headSha = await branchSha(p, p.branch);
  const parentSha = headSha ?? baseSha;
  const read = {
    doing: `reading commit ${parentSha.slice(0, 7)}`,
    repo: p.full,
    permission: "contents: read",
  };
  const parent = await callGitHub(read, () =>
    octokit.rest.git.getCommit({ owner, repo, commit_sha: parentSha }),
  );
  const parentTree = parent.data.tree.sha;
  const tree = new TreeReader(p, parentTree);

  // Which files differ in bytes, and whether any differs in substance.
  const changed: Prepared[] = [];
  let substantive = false;
  for (const file of p.files) {
    const entry = await tree.entry(file.path);
    if (entry?.type === "blob" && entry.sha === file.sha) continue;
    changed.push(file);
    if (substantive) continue;
    if (entry?.type !== "blob" || !entry.sha) {
      substantive = true;
      continue;
    }
    const old = await tree.blob(entry.sha);
    substantive =
      normalizeEvidenceContent(file.path, old, p.volatileKeys) !==
      normalizeEvidenceContent(file.path, file.bytes, p.volatileKeys);
  }
  // Files of the folders the evidence owns that it no longer holds: removed.
  const kept = new Set(p.files.map((f) => f.path));
  const stale: string[] = [];
  for (const folder of p.ownedFolders) {
    for (const item of (await tree.list(folder)) ?? []) {
      const file = `${folder}/${item.path}`;
      if (item.type === "blob" && !kept.has(file)) stale.push(file);
    }
  }
  if (stale.length) substantive = true;
  if (!substantive) return { committed: false, headSha: parentSha, branchExists: headSha !== null };

  // Blobs one by one: GitHub asks for content-creating requests to be made serially.
  const write = { doing: `writing the evidence commit to ${p.branch}`, repo: p.full, permission: gitWrite };
  const entries: Array<{ path: string; mode: "100644"; type: "blob"; sha: string | null }> = stale.map(
    (path) => ({
      path,
      mode: "100644",
      type: "blob",
      sha: null,
    }),
  );
  for (const file of changed) {
    const blob = await callGitHub(write, () =>
      octokit.rest.git.createBlob({
        owner,
        repo,
        content: file.bytes.toString("base64"),
        encoding: "base64",
      }),
    );
    entries.push({ path: file.path, mode: "100644", type: "blob", sha: blob.data.sha });
  }
  const newTree = await callGitHub(write, () =>
    octokit.rest.git.createTree({ owner, repo, base_tree: parentTree, tree: entries }),
  );
  // No author or committer: GitHub then signs the commit for a bot or app token.
  const commit = await callGitHub(write, () =>
    octokit.rest.git.createCommit({
      owner,
      repo,
      message: p.commitMessage,
      tree: newTree.data.sha,
      parents: [parentSha],
    }),
  );
  try {
    if (headSha) {
      await octokit.rest.git.updateRef({
        owner,
        repo,
        ref: `heads/${p.branch}`,
        sha: commit.data.sha,
        force: false,
      });
    } else {
      await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${p.branch}`, sha: commit.data.sha });
    }
  } catch (error) {
    // 422: not a fast-forward, or the branch appeared meanwhile: another push won the race.
    if (hasStatus(error, 422) && !lastTry) return undefined;
    throw describeApiError(error, { ...write, doing: `moving branch ${p.branch}` });
  }
  return { committed: true, headSha: commit.data.sha, branchExists: true };
}

/** Reads the files of one tree: one directory listing per folder on the way, never the whole tree. */
class TreeReader {
  private readonly dirs = new Map<string, Promise<TreeItem[] | null>>();

  constructor(
    private readonly p: Publishing,
    private readonly root: string,
  ) {}

  /** The entries of a folder, or null when there is none. */
  list(dirPath: string): Promise<TreeItem[] | null> {
    return this.dir(dirPath);
  }

  /** The entry at a path, or undefined. */
  async entry(filePath: string): Promise<TreeItem | undefined> {
    const slash = filePath.lastIndexOf("/");
    const items = await this.dir(slash < 0 ? "" : filePath.slice(0, slash));
    const name = filePath.slice(slash + 1);
    return items?.find((e) => e.path === name);
  }

  /** A blob's bytes. */
  async blob(sha: string): Promise<Buffer> {
    const { owner, repo, full } = this.p;
    const { data } = await callGitHub(
      { doing: `reading blob ${sha.slice(0, 7)}`, repo: full, permission: "contents: read" },
      () => this.p.octokit.rest.git.getBlob({ owner, repo, file_sha: sha }),
    );
    return Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
  }

  private dir(dirPath: string): Promise<TreeItem[] | null> {
    let found = this.dirs.get(dirPath);
    if (!found) {
      found = this.fetch(dirPath);
      this.dirs.set(dirPath, found);
    }
    return found;
  }

  private async fetch(dirPath: string): Promise<TreeItem[] | null> {
    let sha = this.root;
    if (dirPath !== "") {
      const slash = dirPath.lastIndexOf("/");
      const parent = await this.dir(slash < 0 ? "" : dirPath.slice(0, slash));
      const entry = parent?.find((e) => e.path === dirPath.slice(slash + 1));
      if (entry?.type !== "tree" || !entry.sha) return null;
      sha = entry.sha;
    }
    const { owner, repo, full } = this.p;
    const { data } = await callGitHub(
      { doing: `reading tree ${sha.slice(0, 7)}`, repo: full, permission: "contents: read" },
      () => this.p.octokit.rest.git.getTree({ owner, repo, tree_sha: sha }),
    );
    return data.tree;
  }
}

/** A pull request as this module reads it. */
interface PullLike {
  number: number;
  html_url: string;
  title: string;
  body: string | null;
}

async function findPull(p: Publishing, state: "open" | "all"): Promise<PullLike | undefined> {
  const { data } = await callGitHub(
    { doing: "looking for the evidence pull request", repo: p.full, permission: "pull-requests: read" },
    () =>
      p.octokit.rest.pulls.list({
        owner: p.owner,
        repo: p.repo,
        head: `${p.owner}:${p.branch}`,
        state,
        sort: "created",
        direction: "desc",
        per_page: 10,
      }),
  );
  return data[0];
}

/** Opens or refreshes the pull request for the branch. */
async function ensurePullRequest(
  p: Publishing,
  outcome: CommitOutcome,
  title: string,
  body: string,
): Promise<Pick<PublishEvidenceResult, "operation" | "number" | "url" | "open">> {
  const onOpen = async (pull: PullLike) => {
    await refreshPull(p, pull, title, body);
    return {
      operation: outcome.committed ? "updated" : "unchanged",
      number: pull.number,
      url: pull.html_url,
      open: true,
    } as const;
  };
  // The latest pull request of the branch, whatever its state: what "nothing to propose" points at.
  const nothingToPropose = async () => {
    const last = await findPull(p, "all");
    return {
      operation: "unchanged",
      number: last?.number ?? null,
      url: last?.html_url ?? null,
      open: false,
    } as const;
  };

  const open = await findPull(p, "open");
  if (open) return onOpen(open);
  if (!outcome.branchExists) return nothingToPropose();
  try {
    const { data } = await p.octokit.rest.pulls.create({
      owner: p.owner,
      repo: p.repo,
      title,
      head: p.branch,
      base: p.base,
      body,
    });
    return { operation: "created", number: data.number, url: data.html_url, open: true };
  } catch (error) {
    if (hasStatus(error, 422)) {
      const said = apiMessages(error).join(" ");
      if (/already exists/i.test(said)) {
        const raced = await findPull(p, "open");
        if (raced) return onOpen(raced);
      }
      // The branch holds nothing the base lacks (its pull request was merged already).
      if (/no commits between/i.test(said)) return nothingToPropose();
    }
    throw describeApiError(error, {
      doing: "creating the pull request",
      repo: p.full,
      permission: prWrite,
      forbiddenHint: prHint,
    });
  }
}

async function refreshPull(p: Publishing, pull: PullLike, title: string, body: string): Promise<void> {
  const same = (a: string | null, b: string) => (a ?? "").replace(/\r\n/g, "\n") === b.replace(/\r\n/g, "\n");
  if (same(pull.title, title) && same(pull.body, body)) return;
  await callGitHub(
    {
      doing: `updating pull request #${pull.number}`,
      repo: p.full,
      permission: prWrite,
      forbiddenHint: prHint,
    },
    () =>
      p.octokit.rest.pulls.update({ owner: p.owner, repo: p.repo, pull_number: pull.number, title, body }),
  );
}

function clipBody(body: string): string {
  if (body.length <= maxBody) return body;
  return `${body.slice(0, maxBody)}\n\n(The rest is left out: GitHub limits a pull request body to 65,536 characters. The full leaderboard is in the evidence folder.)\n`;
}

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
