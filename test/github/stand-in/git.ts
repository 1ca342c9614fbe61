/**
 * An in-memory git object store for the REST stand-in: blobs, trees and commits with their
 * real git SHA-1s (so a test can compare a blob's sha with `git hash-object`), nested trees
 * built from flat paths, and ancestry for fast-forward checks.
 */
import { createHash } from "node:crypto";

/** A tree entry as the Git database API shows it (mode `040000` for trees). */
export interface TreeEntry {
  mode: string;
  name: string;
  type: "blob" | "tree" | "commit";
  sha: string;
}

/** Who made a commit, and when (ISO 8601). */
export interface Person {
  name: string;
  email: string;
  date: string;
}

/** One commit as stored. */
export interface Commit {
  type: "commit";
  tree: string;
  parents: string[];
  message: string;
  author: Person;
  committer: Person;
  /** GitHub signs commits it makes for bots when the author is left to it. */
  verified: boolean;
}

/** One git object. */
export type GitObject = { type: "blob"; data: Buffer } | { type: "tree"; entries: TreeEntry[] } | Commit;

/** A file in a flattened tree: its path from the root. */
export interface FlatEntry {
  mode: string;
  type: "blob" | "commit";
  sha: string;
}

function hashObject(type: string, body: Buffer): string {
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]))
    .digest("hex");
}

/** Git orders tree entries by name, comparing a tree's name as if it ended with "/". */
function treeOrder(a: TreeEntry, b: TreeEntry): number {
  const ka = Buffer.from(a.type === "tree" ? `${a.name}/` : a.name);
  const kb = Buffer.from(b.type === "tree" ? `${b.name}/` : b.name);
  return Buffer.compare(ka, kb);
}

const signature = (p: Person) => `${p.name} <${p.email}> ${Math.floor(Date.parse(p.date) / 1000)} +0000`;

/** The objects of one repository. */
export class GitStore {
  readonly objects = new Map<string, GitObject>();

  /** Stores a blob; returns its sha. */
  putBlob(data: Buffer): string {
    const sha = hashObject("blob", data);
    this.objects.set(sha, { type: "blob", data });
    return sha;
  }

  /** Stores a tree (entries in any order); returns its sha. */
  putTree(entries: readonly TreeEntry[]): string {
    const sorted = [...entries].sort(treeOrder);
    const body = Buffer.concat(
      sorted.flatMap((e) => [
        Buffer.from(`${e.mode.replace(/^0+/, "")} ${e.name}\0`),
        Buffer.from(e.sha, "hex"),
      ]),
    );
    const sha = hashObject("tree", body);
    this.objects.set(sha, { type: "tree", entries: sorted });
    return sha;
  }

  /** Stores a commit; returns its sha. */
  putCommit(commit: Omit<Commit, "type">): string {
    const lines = [
      `tree ${commit.tree}`,
      ...commit.parents.map((p) => `parent ${p}`),
      `author ${signature(commit.author)}`,
      `committer ${signature(commit.committer)}`,
      "",
      commit.message,
    ];
    const sha = hashObject("commit", Buffer.from(lines.join("\n")));
    this.objects.set(sha, { type: "commit", ...commit });
    return sha;
  }

  /** The object with this sha, of this type, or undefined. */
  get<T extends GitObject["type"]>(sha: string, type: T): Extract<GitObject, { type: T }> | undefined {
    const o = this.objects.get(sha);
    return o && o.type === type ? (o as Extract<GitObject, { type: T }>) : undefined;
  }

  /** Every file under a tree, by path from its root. */
  flatten(treeSha: string, prefix = "", into = new Map<string, FlatEntry>()): Map<string, FlatEntry> {
    const tree = this.get(treeSha, "tree");
    for (const e of tree?.entries ?? []) {
      const p = prefix + e.name;
      if (e.type === "tree") this.flatten(e.sha, `${p}/`, into);
      else into.set(p, { mode: e.mode, type: e.type, sha: e.sha });
    }
    return into;
  }

  /** Builds nested trees from flat paths; returns the root tree's sha. */
  buildTree(files: ReadonlyMap<string, FlatEntry>): string {
    const here: TreeEntry[] = [];
    const sub = new Map<string, Map<string, FlatEntry>>();
    for (const [p, e] of files) {
      const slash = p.indexOf("/");
      if (slash < 0) here.push({ mode: e.mode, name: p, type: e.type, sha: e.sha });
      else {
        const dir = p.slice(0, slash);
        if (!sub.has(dir)) sub.set(dir, new Map());
        sub.get(dir)?.set(p.slice(slash + 1), e);
      }
    }
    for (const [dir, inner] of sub)
      here.push({ mode: "040000", name: dir, type: "tree", sha: this.buildTree(inner) });
    return this.putTree(here);
  }

  /** Whether `ancestor` is `sha` or reachable from it through parents. */
  isAncestor(ancestor: string, sha: string): boolean {
    const seen = new Set<string>();
    const todo = [sha];
    while (todo.length) {
      const s = todo.pop() as string;
      if (s === ancestor) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      todo.push(...(this.get(s, "commit")?.parents ?? []));
    }
    return false;
  }

  /** The bytes of a file in a commit, or undefined. */
  readFile(commitSha: string, filePath: string): Buffer | undefined {
    const commit = this.get(commitSha, "commit");
    if (!commit) return undefined;
    const entry = this.flatten(commit.tree).get(filePath);
    return entry ? this.get(entry.sha, "blob")?.data : undefined;
  }

  /** How many commits are reachable from `sha` (the branch's history length). */
  countCommits(sha: string): number {
    const seen = new Set<string>();
    const todo = [sha];
    while (todo.length) {
      const s = todo.pop() as string;
      if (seen.has(s) || !this.objects.has(s)) continue;
      seen.add(s);
      todo.push(...(this.get(s, "commit")?.parents ?? []));
    }
    return seen.size;
  }
}
