/**
 * A local stand-in for the GitHub REST API: two node:http servers on 127.0.0.1 (the API host,
 * and a second host standing in for uploads.github.com and for the blob storage that artifact
 * downloads redirect to), repository state kept in memory, and every request validated
 * against GitHub's OpenAPI description (./openapi.ts). A request that breaks the description,
 * or reaches an operation the stand-in does not implement, is recorded; `assertClean()` fails
 * the test when anything was recorded.
 *
 * Covered: the Git database (refs, commits, trees, blobs, with real git SHA-1s), pull
 * requests, check runs, commit statuses, releases and their assets (uploads through the
 * `upload_url` host), and a workflow run's artifacts (list, download through a 302 to a blob
 * URL, delete). Releases: drafts (no tag until published, found by listing, not by tag),
 * publishing (the tag created then), and immutable releases (the repository setting
 * `immutableReleases`: a release published under it refuses asset uploads and deletions with
 * 422, and its tag can never be used again). Tokens: a personal access token (by its prefix) gets GitHub's 403 on the
 * Checks API, which only Apps may write, and its commits are not signed. Faults:
 * `inject(operationId, {status, times})` makes the next requests to an operation fail (422,
 * 403, 500, 502, a secondary rate limit, ...).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type FlatEntry, GitStore, type Person, type TreeEntry } from "./git.js";
import { OpenApiValidator } from "./openapi.js";

/** A pull request as the stand-in keeps it. */
export interface StoredPull {
  number: number;
  id: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  merged: boolean;
  headRef: string;
  baseRef: string;
  createdAt: string;
  updatedAt: string;
  mergeCommitSha: string | null;
}

/** A check run as the stand-in keeps it. */
export interface StoredCheckRun {
  id: number;
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: Array<Record<string, unknown>>;
  detailsUrl: string | null;
}

/** A commit status as the stand-in keeps it. */
export interface StoredStatus {
  id: number;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
}

/** A release asset as the stand-in keeps it. */
export interface StoredAsset {
  id: number;
  name: string;
  label: string | null;
  contentType: string;
  data: Buffer;
  createdAt: string;
}

/**
 * A release as the stand-in keeps it. A draft has no tag yet: GitHub creates the tag (at
 * `target`) when the release is published. A release published while the repository has
 * immutable releases on is immutable: its assets and tag can no longer change, only its name
 * and notes ("Immutable releases", https://docs.github.com/code-security/supply-chain-security/understanding-your-software-supply-chain/immutable-releases).
 */
export interface StoredRelease {
  id: number;
  tag: string;
  /** Branch or commit the tag is created at when the release is published (when the tag is new). */
  target: string;
  name: string;
  body: string;
  draft: boolean;
  immutable: boolean;
  publishedAt: string | null;
  assets: StoredAsset[];
}

/** How `addRelease` stages a release. */
export interface AddReleaseOptions {
  /** A draft (default: published). */
  draft?: boolean;
  /** Published while immutable releases were on (default: the repository's setting). */
  immutable?: boolean;
}

/** A workflow run artifact as the stand-in keeps it. */
export interface StoredArtifact {
  id: number;
  name: string;
  runId: number;
  zip: Buffer;
  createdAt: string;
  expired: boolean;
}

/** What a fault does to the next matching requests. */
export interface Fault {
  /** Status to answer with; omitted: the request is handled normally (after `before`). */
  status?: number;
  /** How many requests it applies to (default 1). */
  times?: number;
  /** GitHub's `message` in the error body (a default per status otherwise). */
  message?: string;
  /** The whole error body, when `message` is not enough (`errors: [...]`). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Runs before the request is answered: a way to stage a race (another run's PR appears). */
  before?: () => void;
}

/** One request as the stand-in saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  host: "api" | "uploads";
  operationId?: string;
  status: number;
  /** The parsed JSON body, when there was one. */
  json?: unknown;
}

interface Reply {
  status: number;
  body?: unknown;
  raw?: Buffer;
  headers?: Record<string, string>;
}

/**
 * Who a token speaks for, read from its prefix as GitHub issues them: `ghs_` an App
 * installation (GITHUB_TOKEN is one, of the GitHub Actions app), `ghp_` and `github_pat_` a
 * person (classic and fine-grained personal access tokens), `gho_`/`ghu_` an OAuth or user
 * token of an app acting for a person. Anything else counts as an App's.
 */
export type TokenKind = "app" | "user";

/** The kind of the token in an `authorization` header. */
export function tokenKind(authorization: string | undefined): TokenKind {
  const token = (authorization ?? "").replace(/^(token|bearer)\s+/i, "");
  return /^(ghp_|github_pat_|gho_|ghu_)/.test(token) ? "user" : "app";
}

interface Context {
  /** Who the request's token speaks for. */
  token: TokenKind;
  repo: StoredRepo;
  params: Record<string, string>;
  query: URLSearchParams;
  json: Record<string, unknown>;
  raw: Buffer;
  contentType: string;
  url: URL;
}

const docs = "https://docs.github.com/rest";
const bot: Omit<Person, "date"> = {
  name: "github-actions[bot]",
  email: "41898282+github-actions[bot]@users.noreply.github.com",
};
const botUser = {
  login: "github-actions[bot]",
  id: 41898282,
  node_id: "MDM6Qm90NDE4OTgyODI=",
  type: "Bot",
  site_admin: false,
  avatar_url: "https://avatars.githubusercontent.com/in/15368?v=4",
  html_url: "https://github.com/apps/github-actions",
  url: "https://api.github.com/users/github-actions%5Bbot%5D",
};

const notFound = (): Reply => ({
  status: 404,
  body: { message: "Not Found", documentation_url: docs, status: "404" },
});
const invalid = (message: string, errors?: unknown[]): Reply => ({
  status: 422,
  body: { message, ...(errors ? { errors } : {}), documentation_url: docs, status: "422" },
});

/** One repository: git objects, refs, pull requests, checks, statuses, releases, artifacts. */
export class StoredRepo {
  readonly git = new GitStore();
  readonly refs = new Map<string, string>();
  readonly pulls: StoredPull[] = [];
  readonly checkRuns: StoredCheckRun[] = [];
  readonly statuses: StoredStatus[] = [];
  readonly releases: StoredRelease[] = [];
  readonly artifacts: StoredArtifact[] = [];
  /**
   * The repository setting "Enable release immutability" (Settings > General > Releases): a
   * release published while it is on is immutable.
   */
  immutableReleases = false;
  /** Tags that an immutable release used: never usable by another release, even after deletion. */
  readonly immutableTags = new Set<string>();

  constructor(
    readonly owner: string,
    readonly name: string,
    readonly defaultBranch: string,
    private readonly ids: () => number,
  ) {}

  /** `owner/name`. */
  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** The commit a branch points at, or undefined. */
  branchHead(branch: string): string | undefined {
    return this.refs.get(`refs/heads/${branch}`);
  }

  /**
   * Commits files onto a branch (created from `from`, default the default branch, when
   * missing), as a person pushing would: for seeding and for staging other people's commits.
   */
  commitFiles(
    branch: string,
    files: Record<string, string | Buffer | null>,
    message = "seed",
    from = this.defaultBranch,
  ): string {
    const parent = this.branchHead(branch) ?? this.branchHead(from);
    const flat = parent ? this.git.flatten(this.commit(parent).tree) : new Map<string, FlatEntry>();
    for (const [p, content] of Object.entries(files)) {
      if (content === null) flat.delete(p);
      else flat.set(p, { mode: "100644", type: "blob", sha: this.git.putBlob(Buffer.from(content)) });
    }
    const person = { name: "Octo Cat", email: "octo@example.com", date: new Date().toISOString() };
    const sha = this.git.putCommit({
      tree: this.git.buildTree(flat),
      parents: parent ? [parent] : [],
      message,
      author: person,
      committer: person,
      verified: false,
    });
    this.refs.set(`refs/heads/${branch}`, sha);
    return sha;
  }

  /** A file's text on a branch, or undefined. */
  readFile(branch: string, filePath: string): string | undefined {
    const head = this.branchHead(branch);
    return head ? this.git.readFile(head, filePath)?.toString("utf8") : undefined;
  }

  /** How many commits a branch's history holds. */
  commitCount(branch: string): number {
    const head = this.branchHead(branch);
    return head ? this.git.countCommits(head) : 0;
  }

  /** The stored commit (throws when missing: a test bug). */
  commit(sha: string) {
    const c = this.git.get(sha, "commit");
    if (!c) throw new Error(`stand-in: no commit ${sha}`);
    return c;
  }

  /** Opens a pull request directly (as another run or a person would). */
  openPull(headRef: string, title = "Evidence", body = "", baseRef = this.defaultBranch): StoredPull {
    const now = new Date().toISOString();
    const pull: StoredPull = {
      number: this.nextNumber(),
      id: this.ids(),
      title,
      body,
      state: "open",
      merged: false,
      headRef,
      baseRef,
      createdAt: now,
      updatedAt: now,
      mergeCommitSha: null,
    };
    this.pulls.push(pull);
    return pull;
  }

  /** Merges a pull request with a merge commit (its branch's changes since the merge base onto the base). */
  mergePull(number: number): string {
    const pull = this.pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`stand-in: no pull request #${number}`);
    const head = this.branchHead(pull.headRef) as string;
    const base = this.branchHead(pull.baseRef) as string;
    let mergeBase: string | undefined;
    const todo = [head];
    while (todo.length && !mergeBase) {
      const s = todo.shift() as string;
      if (this.git.isAncestor(s, base)) mergeBase = s;
      else todo.push(...this.commit(s).parents);
    }
    const before = mergeBase ? this.git.flatten(this.commit(mergeBase).tree) : new Map<string, FlatEntry>();
    const after = this.git.flatten(this.commit(head).tree);
    const result = this.git.flatten(this.commit(base).tree);
    for (const [p, e] of after) if (before.get(p)?.sha !== e.sha) result.set(p, e);
    for (const p of before.keys()) if (!after.has(p)) result.delete(p);
    const person = { name: "Octo Cat", email: "octo@example.com", date: new Date().toISOString() };
    const sha = this.git.putCommit({
      tree: this.git.buildTree(result),
      parents: [base, head],
      message: `Merge pull request #${number}`,
      author: person,
      committer: person,
      verified: true,
    });
    this.refs.set(`refs/heads/${pull.baseRef}`, sha);
    Object.assign(pull, { state: "closed", merged: true, mergeCommitSha: sha, updatedAt: person.date });
    return sha;
  }

  /** Adds a release (default published; its tag made at the default branch's head), with assets already uploaded. */
  addRelease(
    tag: string,
    assets: Record<string, Buffer | string> = {},
    options: AddReleaseOptions = {},
  ): StoredRelease {
    const draft = options.draft ?? false;
    const release: StoredRelease = {
      id: this.ids(),
      tag,
      target: this.defaultBranch,
      name: tag,
      body: "",
      draft,
      immutable: !draft && (options.immutable ?? this.immutableReleases),
      publishedAt: draft ? null : new Date().toISOString(),
      assets: Object.entries(assets).map(([name, data]) => ({
        id: this.ids(),
        name,
        label: null,
        contentType: "application/zip",
        data: Buffer.from(data),
        createdAt: new Date().toISOString(),
      })),
    };
    this.releases.push(release);
    if (!draft) this.publishTag(release);
    return release;
  }

  /**
   * What publishing does to the repository: the tag is created at the release's target when it
   * does not exist yet, and an immutable release's tag is taken for good. Returns false when the
   * target is no branch and no commit.
   */
  publishTag(release: StoredRelease): boolean {
    const ref = `refs/tags/${release.tag}`;
    if (!this.refs.has(ref)) {
      const sha =
        this.branchHead(release.target) ??
        (this.git.get(release.target, "commit") ? release.target : undefined);
      if (!sha) return false;
      this.refs.set(ref, sha);
    }
    if (release.immutable) this.immutableTags.add(release.tag);
    return true;
  }

  /** Adds an artifact to a workflow run; later artifacts get higher ids, as on GitHub. */
  addArtifact(runId: number, name: string, zip: Buffer): StoredArtifact {
    const artifact: StoredArtifact = {
      id: this.ids(),
      name,
      runId,
      zip,
      createdAt: new Date().toISOString(),
      expired: false,
    };
    this.artifacts.push(artifact);
    return artifact;
  }

  /** Pull requests and issues share one sequence of numbers. */
  private nextNumber(): number {
    return this.pulls.length + 1;
  }

  /** Allocates an id from the stand-in's sequence. */
  newId(): number {
    return this.ids();
  }
}

/** How to start the stand-in. */
export interface StandInOptions {
  owner?: string;
  repo?: string;
  defaultBranch?: string;
  /** Files of the first commit on the default branch. */
  files?: Record<string, string | Buffer>;
}

type Handler = (ctx: Context) => Reply;

/** The running stand-in. Start with `RestStandIn.start()`, stop with `close()`. */
export class RestStandIn {
  /** The API root to give Octokit as `baseUrl` (and `GITHUB_API_URL`). */
  apiUrl = "";
  /** The second host: uploads (release assets) and blob storage (artifact zips). */
  uploadsUrl = "";
  /** Every broken rule: OpenAPI violations, unimplemented operations, missing authentication. */
  readonly violations: string[] = [];
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  private readonly repos = new Map<string, StoredRepo>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly validator = OpenApiValidator.shared();
  private readonly servers: Server[] = [];
  private lastId = 1000;
  private readonly handlers: Record<string, Handler>;

  private constructor(options: StandInOptions) {
    const repo = this.addRepo(
      options.owner ?? "octo",
      options.repo ?? "sweeps",
      options.defaultBranch ?? "main",
    );
    repo.commitFiles(
      repo.defaultBranch,
      { "README.md": "# sweeps\n", ...(options.files ?? {}) },
      "Initial commit",
    );
    this.handlers = this.makeHandlers();
  }

  /** Starts both hosts on random ports of 127.0.0.1. */
  static async start(options: StandInOptions = {}): Promise<RestStandIn> {
    const standIn = new RestStandIn(options);
    const listen = async (host: "api" | "uploads") => {
      const server = createServer((req, res) => {
        standIn.serve(req, res, host).catch((error: unknown) => {
          standIn.violations.push(`stand-in crashed on ${req.method} ${req.url}: ${String(error)}`);
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      standIn.servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    standIn.apiUrl = await listen("api");
    standIn.uploadsUrl = await listen("uploads");
    return standIn;
  }

  /** Stops both hosts. */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  }

  /** Adds another repository. */
  addRepo(owner: string, name: string, defaultBranch = "main"): StoredRepo {
    const repo = new StoredRepo(owner, name, defaultBranch, () => ++this.lastId);
    this.repos.set(`${owner}/${name}`.toLowerCase(), repo);
    return repo;
  }

  /** A repository (default: the first one). */
  repo(fullName?: string): StoredRepo {
    const found = fullName ? this.repos.get(fullName.toLowerCase()) : this.repos.values().next().value;
    if (!found) throw new Error(`stand-in: no repository ${fullName}`);
    return found;
  }

  /**
   * Makes the next request(s) to an operation fail, or run `before`. The operation is named by
   * its operationId (`pulls/create`) or by method and path template
   * (`POST /repos/{owner}/{repo}/pulls`). Faults apply after validation, so a faulted request
   * is still checked against the description.
   */
  inject(operation: string, fault: Fault): void {
    const list = this.faults.get(operation) ?? [];
    for (let i = 0; i < (fault.times ?? 1); i++) list.push(fault);
    this.faults.set(operation, list);
  }

  /** How many requests reached an operation. */
  count(operationId: string): number {
    return this.requests.filter((r) => r.operationId === operationId).length;
  }

  /** Throws, listing them, when any request broke the description or was not implemented. */
  assertClean(): void {
    if (this.violations.length) {
      throw new Error(
        `REST stand-in recorded ${this.violations.length} violation(s):\n${this.violations.join("\n")}`,
      );
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, host: "api" | "uploads"): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", host === "api" ? this.apiUrl : this.uploadsUrl);
    const send = (reply: Reply, operationId?: string, json?: unknown) => {
      this.requests.push({
        method,
        path: url.pathname + url.search,
        host,
        operationId,
        status: reply.status,
        json,
      });
      const headers: Record<string, string> = {
        "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-resource": "core",
        ...reply.headers,
      };
      if (reply.raw) {
        res.writeHead(reply.status, { ...headers, "content-length": String(reply.raw.length) });
        res.end(reply.raw);
      } else if (reply.body === undefined) {
        res.writeHead(reply.status, headers);
        res.end();
      } else {
        const text = JSON.stringify(reply.body);
        res.writeHead(reply.status, { ...headers, "content-type": "application/json; charset=utf-8" });
        res.end(text);
      }
    };

    // Blob storage and the web host's download links are not the REST API: no description applies.
    if (host === "uploads" && method === "GET") return send(this.serveDownload(url));

    const contentType = String(req.headers["content-type"] ?? "");
    const check = this.validator.check(method, url, contentType, raw, host);
    const operationId = check.match?.operation.operationId;
    this.violations.push(...check.violations);
    if (!check.match) return send(notFound());
    if (!req.headers.authorization) {
      this.violations.push(`${operationId}: request without an authorization header`);
      return send(
        { status: 401, body: { message: "Requires authentication", documentation_url: docs } },
        operationId,
      );
    }
    if (check.violations.length) {
      return send(invalid(`Invalid request.\n\n${check.violations.join("\n")}`), operationId, check.json);
    }
    const route = `${method} ${check.match.operation.template}`;
    const fault =
      (operationId ? this.faults.get(operationId)?.shift() : undefined) ?? this.faults.get(route)?.shift();
    fault?.before?.();
    if (fault?.status) return send(faultReply(fault), operationId, check.json);

    const owner = check.match.params.owner;
    const repoName = check.match.params.repo;
    const repo = owner && repoName ? this.repos.get(`${owner}/${repoName}`.toLowerCase()) : undefined;
    if (!repo) return send(notFound(), operationId, check.json);
    const handler = operationId ? this.handlers[operationId] : undefined;
    if (!handler) {
      this.violations.push(`${operationId}: not implemented by the stand-in`);
      return send({ status: 501, body: { message: "stand-in: not implemented" } }, operationId, check.json);
    }
    const ctx: Context = {
      token: tokenKind(req.headers.authorization),
      repo,
      params: check.match.params,
      query: url.searchParams,
      json: (check.json ?? {}) as Record<string, unknown>,
      raw,
      contentType,
      url,
    };
    send(handler(ctx), operationId, check.json);
  }

  /** GET on the second host: an artifact's zip (blob storage) or a release asset's download link. */
  private serveDownload(url: URL): Reply {
    const blob = /^\/blobs\/artifacts\/(\d+)\.zip$/.exec(url.pathname);
    if (blob) {
      for (const repo of this.repos.values()) {
        const artifact = repo.artifacts.find((a) => a.id === Number(blob[1]));
        if (artifact && url.searchParams.get("sig")) {
          return { status: 200, raw: artifact.zip, headers: { "content-type": "application/zip" } };
        }
      }
      return { status: 403, raw: Buffer.from("AuthenticationFailed") };
    }
    const asset = /^\/download\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (asset) {
      const repo = this.repos.get(
        `${decodeURIComponent(asset[1] ?? "")}/${decodeURIComponent(asset[2] ?? "")}`.toLowerCase(),
      );
      const tag = decodeURIComponent(asset[3] ?? "");
      const release = repo?.releases.find((r) => (r.draft ? `untagged-${r.id}` : r.tag) === tag);
      const found = release?.assets.find((a) => a.name === decodeURIComponent(asset[4] ?? ""));
      if (found) return { status: 200, raw: found.data, headers: { "content-type": found.contentType } };
    }
    return { status: 404, raw: Buffer.from("Not Found") };
  }

  private api(repo: StoredRepo, rest: string): string {
    return `${this.apiUrl}/repos/${repo.fullName}${rest}`;
  }

  private makeHandlers(): Record<string, Handler> {
    const now = () => new Date().toISOString();
    const html = (repo: StoredRepo, rest: string) => `https://github.com/${repo.fullName}${rest}`;

    const repoJson = (repo: StoredRepo) => ({
      id: 1296269,
      node_id: "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
      name: repo.name,
      full_name: repo.fullName,
      private: false,
      owner: { ...botUser, login: repo.owner, type: "Organization" },
      html_url: html(repo, ""),
      url: this.api(repo, ""),
      default_branch: repo.defaultBranch,
    });

    const refJson = (repo: StoredRepo, ref: string, sha: string) => ({
      ref,
      node_id: Buffer.from(ref).toString("base64"),
      url: this.api(repo, `/git/${ref}`),
      object: { type: "commit", sha, url: this.api(repo, `/git/commits/${sha}`) },
    });

    const commitJson = (repo: StoredRepo, sha: string) => {
      const c = repo.commit(sha);
      return {
        sha,
        node_id: `C_${sha.slice(0, 12)}`,
        url: this.api(repo, `/git/commits/${sha}`),
        html_url: html(repo, `/commit/${sha}`),
        author: c.author,
        committer: c.committer,
        message: c.message,
        tree: { sha: c.tree, url: this.api(repo, `/git/trees/${c.tree}`) },
        parents: c.parents.map((p) => ({
          sha: p,
          url: this.api(repo, `/git/commits/${p}`),
          html_url: html(repo, `/commit/${p}`),
        })),
        verification: {
          verified: c.verified,
          reason: c.verified ? "valid" : "unsigned",
          signature: c.verified ? "-----BEGIN PGP SIGNATURE-----\n...\n-----END PGP SIGNATURE-----" : null,
          payload: c.verified ? "tree ..." : null,
          verified_at: c.verified ? c.committer.date : null,
        },
      };
    };

    const treeEntryJson = (repo: StoredRepo, e: TreeEntry, path: string) => ({
      path,
      mode: e.mode,
      type: e.type,
      sha: e.sha,
      ...(e.type === "blob" ? { size: repo.git.get(e.sha, "blob")?.data.length ?? 0 } : {}),
      url: this.api(repo, `/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}`),
    });

    const listTree = (repo: StoredRepo, sha: string, recursive: boolean, prefix = ""): unknown[] => {
      const out: unknown[] = [];
      for (const e of repo.git.get(sha, "tree")?.entries ?? []) {
        out.push(treeEntryJson(repo, e, prefix + e.name));
        if (recursive && e.type === "tree") out.push(...listTree(repo, e.sha, true, `${prefix}${e.name}/`));
      }
      return out;
    };

    const pullJson = (repo: StoredRepo, p: StoredPull) => {
      const branch = (ref: string) => ({
        label: `${repo.owner}:${ref}`,
        ref,
        sha: repo.branchHead(ref) ?? "0000000000000000000000000000000000000000",
        user: { ...botUser, login: repo.owner },
        repo: repoJson(repo),
      });
      return {
        url: this.api(repo, `/pulls/${p.number}`),
        id: p.id,
        node_id: `PR_${p.id}`,
        html_url: html(repo, `/pull/${p.number}`),
        diff_url: html(repo, `/pull/${p.number}.diff`),
        patch_url: html(repo, `/pull/${p.number}.patch`),
        issue_url: this.api(repo, `/issues/${p.number}`),
        number: p.number,
        state: p.state,
        locked: false,
        title: p.title,
        user: botUser,
        body: p.body,
        labels: [],
        milestone: null,
        active_lock_reason: null,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
        closed_at: p.state === "closed" ? p.updatedAt : null,
        merged_at: p.merged ? p.updatedAt : null,
        merge_commit_sha: p.mergeCommitSha,
        assignee: null,
        assignees: [],
        requested_reviewers: [],
        requested_teams: [],
        head: branch(p.headRef),
        base: branch(p.baseRef),
        author_association: "CONTRIBUTOR",
        auto_merge: null,
        draft: false,
        merged: p.merged,
      };
    };

    const checkRunJson = (repo: StoredRepo, r: StoredCheckRun) => ({
      id: r.id,
      head_sha: r.headSha,
      node_id: `CR_${r.id}`,
      external_id: "",
      url: this.api(repo, `/check-runs/${r.id}`),
      html_url: html(repo, `/runs/${r.id}`),
      details_url: r.detailsUrl,
      status: r.status,
      conclusion: r.conclusion,
      started_at: now(),
      completed_at: r.status === "completed" ? now() : null,
      output: {
        ...r.output,
        annotations_count: r.annotations.length,
        annotations_url: this.api(repo, `/check-runs/${r.id}/annotations`),
      },
      name: r.name,
      check_suite: { id: 5 },
      app: null,
      pull_requests: [],
    });

    // A draft has no tag yet: GitHub links it, and its assets, as "untagged-<hash>".
    const releaseTagPart = (r: StoredRelease) => (r.draft ? `untagged-${r.id}` : r.tag);
    const assetJson = (repo: StoredRepo, release: StoredRelease, a: StoredAsset) => ({
      url: this.api(repo, `/releases/assets/${a.id}`),
      browser_download_url: `${this.uploadsUrl}/download/${repo.owner}/${repo.name}/releases/download/${encodeURIComponent(releaseTagPart(release))}/${encodeURIComponent(a.name)}`,
      id: a.id,
      node_id: `RA_${a.id}`,
      name: a.name,
      label: a.label,
      state: "uploaded",
      content_type: a.contentType,
      size: a.data.length,
      digest: null,
      download_count: 0,
      created_at: a.createdAt,
      updated_at: a.createdAt,
      uploader: botUser,
    });

    const releaseJson = (repo: StoredRepo, r: StoredRelease) => ({
      url: this.api(repo, `/releases/${r.id}`),
      html_url: html(repo, `/releases/tag/${releaseTagPart(r)}`),
      assets_url: this.api(repo, `/releases/${r.id}/assets`),
      upload_url: `${this.uploadsUrl}/repos/${repo.fullName}/releases/${r.id}/assets{?name,label}`,
      tarball_url: this.api(repo, `/tarball/${r.tag}`),
      zipball_url: this.api(repo, `/zipball/${r.tag}`),
      id: r.id,
      node_id: `RE_${r.id}`,
      tag_name: r.tag,
      target_commitish: r.target,
      name: r.name,
      body: r.body,
      draft: r.draft,
      immutable: r.immutable,
      prerelease: false,
      created_at: now(),
      published_at: r.publishedAt,
      author: botUser,
      assets: r.assets.map((a) => assetJson(repo, r, a)),
    });

    const artifactJson = (repo: StoredRepo, a: StoredArtifact) => ({
      id: a.id,
      node_id: `MDg6QXJ0aWZhY3Q${a.id}`,
      name: a.name,
      size_in_bytes: a.zip.length,
      url: this.api(repo, `/actions/artifacts/${a.id}`),
      archive_download_url: this.api(repo, `/actions/artifacts/${a.id}/zip`),
      expired: a.expired,
      created_at: a.createdAt,
      expires_at: a.createdAt,
      updated_at: a.createdAt,
      digest: null,
      workflow_run: {
        id: a.runId,
        repository_id: 1296269,
        head_repository_id: 1296269,
        head_branch: repo.defaultBranch,
        head_sha: repo.branchHead(repo.defaultBranch),
      },
    });

    /** A page of a list, with GitHub's `link` header. */
    const paged = <T>(ctx: Context, items: T[]): { items: T[]; headers: Record<string, string> } => {
      const perPage = Math.min(100, Number(ctx.query.get("per_page") ?? 30) || 30);
      const page = Math.max(1, Number(ctx.query.get("page") ?? 1) || 1);
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const headers: Record<string, string> = {};
      if (page < last) {
        const link = (n: number) => {
          const u = new URL(ctx.url);
          u.searchParams.set("page", String(n));
          u.searchParams.set("per_page", String(perPage));
          return u.toString();
        };
        headers.link = `<${link(page + 1)}>; rel="next", <${link(last)}>; rel="last"`;
      }
      return { items: items.slice((page - 1) * perPage, page * perPage), headers };
    };

    const str = (ctx: Context, key: string) =>
      typeof ctx.json[key] === "string" ? (ctx.json[key] as string) : undefined;
    const noCommit = (sha: string) => invalid(`No commit found for SHA: ${sha}`);
    // GitHub's answers about immutable releases. The upload's words are GitHub's own (as users
    // report them); those of delete and modify are the stand-in's, in the same form.
    const immutableRelease = (what: "upload" | "delete" | "modify"): Reply =>
      invalid(
        {
          upload:
            "Cannot upload assets to an immutable release. GitHub only allows asset uploads before a release is published, so upload assets to a draft release before you publish it.",
          delete: "Cannot delete assets of an immutable release.",
          modify: "Cannot modify the tag, target, state or assets of an immutable release.",
        }[what],
      );
    const tagUsedByImmutable = (): Reply =>
      invalid("Validation Failed", [
        {
          resource: "Release",
          code: "custom",
          field: "tag_name",
          message: "tag_name was used by an immutable release",
        },
      ]);
    // The Checks API writes only for GitHub Apps (GITHUB_TOKEN is the GitHub Actions app's).
    const appsOnly = (doc: string): Reply => ({
      status: 403,
      body: {
        message: "You must authenticate via a GitHub App.",
        documentation_url: `${docs}/${doc}`,
        status: "403",
      },
    });

    return {
      "repos/get": ({ repo }) => ({ status: 200, body: repoJson(repo) }),

      "git/get-ref": ({ repo, params }) => {
        const ref = `refs/${params.ref}`;
        const sha = repo.refs.get(ref);
        return sha ? { status: 200, body: refJson(repo, ref, sha) } : notFound();
      },

      "git/create-ref": (ctx) => {
        const { repo } = ctx;
        const ref = str(ctx, "ref") ?? "";
        const sha = str(ctx, "sha") ?? "";
        if (!/^refs\/[^/]+\/.+/.test(ref)) return invalid("Reference name is invalid");
        if (!repo.git.get(sha, "commit")) return invalid("Object does not exist");
        if (repo.refs.has(ref)) return invalid("Reference already exists");
        repo.refs.set(ref, sha);
        return { status: 201, body: refJson(repo, ref, sha) };
      },

      "git/update-ref": (ctx) => {
        const { repo, params } = ctx;
        const ref = `refs/${params.ref}`;
        const old = repo.refs.get(ref);
        const sha = str(ctx, "sha") ?? "";
        if (!old) return invalid("Reference does not exist");
        if (!repo.git.get(sha, "commit")) return invalid("Object does not exist");
        if (ctx.json.force !== true && !repo.git.isAncestor(old, sha))
          return invalid("Update is not a fast forward");
        repo.refs.set(ref, sha);
        return { status: 200, body: refJson(repo, ref, sha) };
      },

      "git/get-commit": ({ repo, params }) =>
        repo.git.get(params.commit_sha ?? "", "commit")
          ? { status: 200, body: commitJson(repo, params.commit_sha as string) }
          : notFound(),

      "git/create-commit": (ctx) => {
        const { repo, json } = ctx;
        const tree = str(ctx, "tree") ?? "";
        if (!repo.git.get(tree, "tree")) return invalid("Tree SHA does not exist");
        const parents = (json.parents as string[] | undefined) ?? [];
        for (const p of parents) {
          if (!repo.git.get(p, "commit"))
            return invalid("Parent SHA does not exist or is not a commit object");
        }
        const date = now();
        const given = (k: string) => json[k] as { name: string; email: string; date?: string } | undefined;
        const author = given("author");
        const committer = given("committer") ?? author;
        const sha = repo.git.putCommit({
          tree,
          parents,
          message: str(ctx, "message") ?? "",
          author: author ? { date, ...author } : { ...bot, date },
          committer: committer ? { date, ...committer } : { ...bot, date },
          // GitHub signs what it commits for a bot or app when the identity is left to it; a
          // commit made with a person's token is not signed.
          verified: ctx.token === "app" && !author && !committer && json.signature === undefined,
        });
        return { status: 201, body: commitJson(repo, sha) };
      },

      "git/get-tree": ({ repo, params, query }) => {
        const sha = params.tree_sha ?? "";
        if (!repo.git.get(sha, "tree")) return notFound();
        return {
          status: 200,
          body: {
            sha,
            url: this.api(repo, `/git/trees/${sha}`),
            tree: listTree(repo, sha, query.has("recursive")),
            truncated: false,
          },
        };
      },

      "git/create-tree": (ctx) => {
        const { repo, json } = ctx;
        const baseTree = str(ctx, "base_tree");
        if (baseTree !== undefined && !repo.git.get(baseTree, "tree"))
          return invalid("Invalid tree info", ["base_tree"]);
        const flat = baseTree ? repo.git.flatten(baseTree) : new Map<string, FlatEntry>();
        for (const entry of json.tree as Array<Record<string, unknown>>) {
          const p = String(entry.path);
          const mode = String(entry.mode);
          if ("sha" in entry && "content" in entry)
            return invalid(
              "Must supply either tree.sha or tree.content. Request will be rejected if both are present.",
            );
          if (entry.sha === null) {
            for (const k of [...flat.keys()]) if (k === p || k.startsWith(`${p}/`)) flat.delete(k);
            continue;
          }
          if (entry.type === "tree") {
            const sub = repo.git.get(String(entry.sha), "tree");
            if (!sub) return invalid("Invalid tree info");
            for (const k of [...flat.keys()]) if (k === p || k.startsWith(`${p}/`)) flat.delete(k);
            for (const [k, e] of repo.git.flatten(String(entry.sha))) flat.set(`${p}/${k}`, e);
            continue;
          }
          const sha =
            typeof entry.content === "string"
              ? repo.git.putBlob(Buffer.from(entry.content))
              : String(entry.sha);
          if (entry.type === "blob" && !repo.git.get(sha, "blob")) return invalid("Invalid tree info", [p]);
          flat.set(p, { mode, type: entry.type === "commit" ? "commit" : "blob", sha });
        }
        const sha = repo.git.buildTree(flat);
        return {
          status: 201,
          body: {
            sha,
            url: this.api(repo, `/git/trees/${sha}`),
            tree: listTree(repo, sha, false),
            truncated: false,
          },
        };
      },

      "git/get-blob": ({ repo, params }) => {
        const blob = repo.git.get(params.file_sha ?? "", "blob");
        if (!blob) return notFound();
        // GitHub wraps base64 at 60 characters, with a trailing newline.
        const b64 = blob.data.toString("base64").replace(/.{60}/g, "$&\n");
        return {
          status: 200,
          body: {
            content: `${b64}\n`,
            encoding: "base64",
            url: this.api(repo, `/git/blobs/${params.file_sha}`),
            sha: params.file_sha,
            size: blob.data.length,
            node_id: `B_${params.file_sha?.slice(0, 12)}`,
          },
        };
      },

      "git/create-blob": (ctx) => {
        const content = str(ctx, "content") ?? "";
        const data =
          ctx.json.encoding === "base64" ? Buffer.from(content, "base64") : Buffer.from(content, "utf8");
        const sha = ctx.repo.git.putBlob(data);
        return { status: 201, body: { url: this.api(ctx.repo, `/git/blobs/${sha}`), sha } };
      },

      "pulls/list": (ctx) => {
        const { repo, query } = ctx;
        const state = query.get("state") ?? "open";
        const head = query.get("head");
        const base = query.get("base");
        let list = repo.pulls.filter(
          (p) =>
            (state === "all" || p.state === state) &&
            (!head || head === `${repo.owner}:${p.headRef}`) &&
            (!base || base === p.baseRef),
        );
        list = [...list].sort((a, b) => b.number - a.number);
        if (query.get("direction") === "asc") list.reverse();
        const page = paged(ctx, list);
        return { status: 200, body: page.items.map((p) => pullJson(repo, p)), headers: page.headers };
      },

      "pulls/get": ({ repo, params }) => {
        const p = repo.pulls.find((x) => x.number === Number(params.pull_number));
        return p ? { status: 200, body: pullJson(repo, p) } : notFound();
      },

      "pulls/create": (ctx) => {
        const { repo } = ctx;
        const head = (str(ctx, "head") ?? "").replace(new RegExp(`^${repo.owner}:`), "");
        const base = str(ctx, "base") ?? "";
        const headSha = repo.branchHead(head);
        const baseSha = repo.branchHead(base);
        if (!baseSha)
          return invalid("Validation Failed", [{ resource: "PullRequest", field: "base", code: "invalid" }]);
        if (!headSha)
          return invalid("Validation Failed", [{ resource: "PullRequest", field: "head", code: "invalid" }]);
        if (repo.pulls.some((p) => p.state === "open" && p.headRef === head && p.baseRef === base)) {
          return invalid("Validation Failed", [
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${repo.owner}:${head}.`,
            },
          ]);
        }
        if (repo.git.isAncestor(headSha, baseSha)) {
          return invalid("Validation Failed", [
            { resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` },
          ]);
        }
        const pull = repo.openPull(head, str(ctx, "title") ?? "", str(ctx, "body") ?? "", base);
        return { status: 201, body: pullJson(repo, pull) };
      },

      "pulls/update": (ctx) => {
        const { repo, params } = ctx;
        const p = repo.pulls.find((x) => x.number === Number(params.pull_number));
        if (!p) return notFound();
        if (str(ctx, "title") !== undefined) p.title = str(ctx, "title") as string;
        if (str(ctx, "body") !== undefined) p.body = str(ctx, "body") as string;
        if (str(ctx, "state") === "open" || str(ctx, "state") === "closed")
          p.state = str(ctx, "state") as "open";
        p.updatedAt = now();
        return { status: 200, body: pullJson(repo, p) };
      },

      "checks/create": (ctx) => {
        const { repo, json } = ctx;
        if (ctx.token === "user") return appsOnly("checks/runs#create-a-check-run");
        const headSha = str(ctx, "head_sha") ?? "";
        if (!repo.git.get(headSha, "commit")) return noCommit(headSha);
        const output = (json.output ?? {}) as Record<string, unknown>;
        const annotations = (output.annotations as Array<Record<string, unknown>> | undefined) ?? [];
        if (annotations.length > 50) return invalid("Only 50 annotations are allowed per request");
        if (json.status === "completed" && json.conclusion === undefined) {
          return invalid("Validation Failed", [
            { resource: "CheckRun", field: "conclusion", code: "missing_field" },
          ]);
        }
        const run: StoredCheckRun = {
          id: repo.newId(),
          name: str(ctx, "name") ?? "",
          headSha,
          status: str(ctx, "status") ?? (json.conclusion ? "completed" : "queued"),
          conclusion: str(ctx, "conclusion") ?? null,
          output: {
            title: (output.title as string) ?? null,
            summary: (output.summary as string) ?? null,
            text: (output.text as string) ?? null,
          },
          annotations: [...annotations],
          detailsUrl: str(ctx, "details_url") ?? null,
        };
        repo.checkRuns.push(run);
        return { status: 201, body: checkRunJson(repo, run) };
      },

      "checks/update": (ctx) => {
        const { repo, params, json } = ctx;
        if (ctx.token === "user") return appsOnly("checks/runs#update-a-check-run");
        const run = repo.checkRuns.find((r) => r.id === Number(params.check_run_id));
        if (!run) return notFound();
        const output = json.output as Record<string, unknown> | undefined;
        const annotations = (output?.annotations as Array<Record<string, unknown>> | undefined) ?? [];
        if (annotations.length > 50) return invalid("Only 50 annotations are allowed per request");
        if (output) {
          run.output = {
            title: (output.title as string) ?? run.output.title,
            summary: (output.summary as string) ?? run.output.summary,
            text: (output.text as string) ?? run.output.text,
          };
          // GitHub adds each request's annotations to the run's.
          run.annotations.push(...annotations);
        }
        if (str(ctx, "status")) run.status = str(ctx, "status") as string;
        if (str(ctx, "conclusion")) run.conclusion = str(ctx, "conclusion") as string;
        return { status: 200, body: checkRunJson(repo, run) };
      },

      "repos/create-commit-status": (ctx) => {
        const { repo, params } = ctx;
        const sha = params.sha ?? "";
        if (!repo.git.get(sha, "commit")) return noCommit(sha);
        const status: StoredStatus = {
          id: repo.newId(),
          sha,
          state: str(ctx, "state") ?? "",
          context: str(ctx, "context") ?? "default",
          description: str(ctx, "description") ?? null,
          targetUrl: str(ctx, "target_url") ?? null,
        };
        if ((status.description ?? "").length > 140) {
          return invalid("Validation Failed", [
            {
              resource: "Status",
              field: "description",
              code: "custom",
              message: "description is too long (maximum is 140 characters)",
            },
          ]);
        }
        repo.statuses.push(status);
        return {
          status: 201,
          body: {
            url: this.api(repo, `/statuses/${sha}`),
            avatar_url: botUser.avatar_url,
            id: status.id,
            node_id: `SC_${status.id}`,
            state: status.state,
            description: status.description,
            target_url: status.targetUrl,
            context: status.context,
            created_at: now(),
            updated_at: now(),
            creator: botUser,
          },
        };
      },

      "repos/get-release-by-tag": ({ repo, params }) => {
        const r = repo.releases.find((x) => x.tag === params.tag && !x.draft);
        return r ? { status: 200, body: releaseJson(repo, r) } : notFound();
      },

      "repos/list-release-assets": (ctx) => {
        const r = ctx.repo.releases.find((x) => x.id === Number(ctx.params.release_id));
        if (!r) return notFound();
        const page = paged(ctx, r.assets);
        return { status: 200, body: page.items.map((a) => assetJson(ctx.repo, r, a)), headers: page.headers };
      },

      // Drafts are listed too (to a token with push access), newest first.
      "repos/list-releases": (ctx) => {
        const list = [...ctx.repo.releases].sort((a, b) => b.id - a.id);
        const page = paged(ctx, list);
        return { status: 200, body: page.items.map((r) => releaseJson(ctx.repo, r)), headers: page.headers };
      },

      "repos/get-release": ({ repo, params }) => {
        const r = repo.releases.find((x) => x.id === Number(params.release_id));
        return r ? { status: 200, body: releaseJson(repo, r) } : notFound();
      },

      "repos/create-release": (ctx) => {
        const { repo } = ctx;
        const tag = str(ctx, "tag_name") ?? "";
        const draft = ctx.json.draft === true;
        if (repo.immutableTags.has(tag)) return tagUsedByImmutable();
        // Drafts may share a tag; a published release owns its tag.
        if (repo.releases.some((r) => r.tag === tag && !r.draft)) {
          return invalid("Validation Failed", [
            { resource: "Release", code: "already_exists", field: "tag_name" },
          ]);
        }
        const release: StoredRelease = {
          id: repo.newId(),
          tag,
          target: str(ctx, "target_commitish") ?? repo.defaultBranch,
          name: str(ctx, "name") ?? tag,
          body: str(ctx, "body") ?? "",
          draft,
          immutable: !draft && repo.immutableReleases,
          publishedAt: draft ? null : now(),
          assets: [],
        };
        if (!draft && !repo.publishTag(release))
          return invalid("Validation Failed", [
            { resource: "Release", code: "invalid", field: "target_commitish" },
          ]);
        repo.releases.push(release);
        return { status: 201, body: releaseJson(repo, release) };
      },

      "repos/update-release": (ctx) => {
        const { repo, params, json } = ctx;
        const r = repo.releases.find((x) => x.id === Number(params.release_id));
        if (!r) return notFound();
        // An immutable release keeps its tag, target, state and assets: only its title and notes change.
        const changes = Object.keys(json).filter((k) => !["name", "body"].includes(k));
        if (r.immutable && changes.length > 0) return immutableRelease("modify");
        if (str(ctx, "name") !== undefined) r.name = str(ctx, "name") as string;
        if (str(ctx, "body") !== undefined) r.body = str(ctx, "body") as string;
        if (str(ctx, "tag_name") !== undefined) r.tag = str(ctx, "tag_name") as string;
        if (str(ctx, "target_commitish") !== undefined) r.target = str(ctx, "target_commitish") as string;
        if (json.draft === false && r.draft) {
          if (repo.immutableTags.has(r.tag)) return tagUsedByImmutable();
          if (repo.releases.some((x) => x !== r && x.tag === r.tag && !x.draft)) {
            return invalid("Validation Failed", [
              { resource: "Release", code: "already_exists", field: "tag_name" },
            ]);
          }
          r.draft = false;
          r.immutable = repo.immutableReleases;
          r.publishedAt = now();
          if (!repo.publishTag(r))
            return invalid("Validation Failed", [
              { resource: "Release", code: "invalid", field: "target_commitish" },
            ]);
        } else if (json.draft === true && !r.draft) {
          r.draft = true;
          r.publishedAt = null;
        }
        return { status: 200, body: releaseJson(repo, r) };
      },

      "repos/delete-release-asset": ({ repo, params }) => {
        for (const r of repo.releases) {
          const i = r.assets.findIndex((a) => a.id === Number(params.asset_id));
          if (i >= 0) {
            if (r.immutable) return immutableRelease("delete");
            r.assets.splice(i, 1);
            return { status: 204 };
          }
        }
        return notFound();
      },

      "repos/upload-release-asset": (ctx) => {
        const r = ctx.repo.releases.find((x) => x.id === Number(ctx.params.release_id));
        if (!r) return notFound();
        if (r.immutable) return immutableRelease("upload");
        const name = ctx.query.get("name") ?? "";
        if (r.assets.some((a) => a.name === name)) {
          return invalid("Validation Failed", [
            { resource: "ReleaseAsset", code: "already_exists", field: "name" },
          ]);
        }
        if (ctx.raw.length === 0) return invalid("Bad Content-Length");
        const asset: StoredAsset = {
          id: ctx.repo.newId(),
          name,
          label: ctx.query.get("label"),
          contentType: ctx.contentType || "application/octet-stream",
          data: ctx.raw,
          createdAt: now(),
        };
        r.assets.push(asset);
        return { status: 201, body: assetJson(ctx.repo, r, asset) };
      },

      "actions/list-workflow-run-artifacts": (ctx) => {
        const name = ctx.query.get("name");
        const list = ctx.repo.artifacts
          .filter((a) => a.runId === Number(ctx.params.run_id) && (!name || a.name === name))
          .sort((a, b) => b.id - a.id);
        const page = paged(ctx, list);
        return {
          status: 200,
          body: { total_count: list.length, artifacts: page.items.map((a) => artifactJson(ctx.repo, a)) },
          headers: page.headers,
        };
      },

      "actions/get-artifact": ({ repo, params }) => {
        const a = repo.artifacts.find((x) => x.id === Number(params.artifact_id));
        return a ? { status: 200, body: artifactJson(repo, a) } : notFound();
      },

      "actions/download-artifact": ({ repo, params }) => {
        const a = repo.artifacts.find((x) => x.id === Number(params.artifact_id));
        if (!a || params.archive_format !== "zip") return notFound();
        if (a.expired)
          return { status: 410, body: { message: "Artifact has expired", documentation_url: docs } };
        const sig = randomBytes(6).toString("hex");
        return {
          status: 302,
          headers: { location: `${this.uploadsUrl}/blobs/artifacts/${a.id}.zip?sig=${sig}` },
        };
      },

      "actions/delete-artifact": ({ repo, params }) => {
        const i = repo.artifacts.findIndex((x) => x.id === Number(params.artifact_id));
        if (i < 0) return notFound();
        repo.artifacts.splice(i, 1);
        return { status: 204 };
      },
    };
  }
}

/** The answer a fault gives: GitHub's error body shape for its status. */
function faultReply(fault: Fault): Reply {
  const status = fault.status as number;
  const defaults: Record<number, string> = {
    403: "Resource not accessible by integration",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    429: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    500: "Internal Server Error",
    502: "Server Error",
    503: "Service Unavailable",
  };
  const body =
    fault.body ??
    (status >= 500 && status !== 500
      ? undefined
      : {
          message: fault.message ?? defaults[status] ?? "Error",
          documentation_url: docs,
          status: String(status),
        });
  if (body === undefined) {
    // A proxy's 502/503 is an HTML page, not JSON: Octokit must still treat it as retryable.
    return {
      status,
      raw: Buffer.from(
        `<html><body><h1>${status} ${fault.message ?? defaults[status] ?? ""}</h1></body></html>`,
      ),
      headers: { "content-type": "text/html", ...fault.headers },
    };
  }
  return { status, body, headers: fault.headers };
}
