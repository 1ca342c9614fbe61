/**
 * The evidence pull request: the evidence folder and the promoted config committed to
 * `tunix-rt/evidence/<run_version>` through the Git database API, then a pull request created
 * or updated. Which files changed in substance is decided in core/evidence/changes.ts;
 * verification is reported on the pull request's head by evidence-check.ts.
 */

import {
  checkRunVersion,
  type EvidenceFile,
  evidenceBranch,
  type PreparedFile,
  prepareFiles,
  sameEvidence,
  volatileEvidenceKeys,
} from "../core/evidence/changes.js";
import { redact } from "../core/redact.js";
import { apiMessages, callGitHub, describeApiError, GitHubApiError, hasStatus } from "./errors.js";
import type { GitHubClient } from "./octokit.js";

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
  files: PreparedFile[];
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
  const changed: PreparedFile[] = [];
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
    substantive = !sameEvidence(file.path, old, file.bytes, p.volatileKeys);
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
