// Writes lib/build-info.json: which tunix-rt this build is, so `tunix-rt init` can pin the
// user's workflows to the commit that holds its actions. Run by `npm run build` (so by
// `prepare`: npm pack and a git install build through it).
//
//   {"repository": "owner/name" | null, "commit": "<40 hex>" | null, "dirty": bool,
//    "changed": [up to 20 paths], "reason": string | null}
//
// The repository is package.json's `repository`; the commit is HEAD of the git checkout this
// package is built in, when the package's folder is that checkout's top level. A tree with
// uncommitted changes (tracked or untracked, ignored files aside: lib/, node_modules/) has
// no commit that holds its code: `commit` then stays the HEAD it started from, `dirty` is
// true, and init refuses to pin it unless told a commit.
//
//   node scripts/write-build-info.mjs [--print]
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** `owner/name` of a GitHub repository URL as package.json writes it, or null. */
export function repositoryOf(field) {
  const url = typeof field === "string" ? field : field?.url;
  if (typeof url !== "string") return null;
  const match = /github\.com[/:]([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+?)(?:\.git)?\/?$/.exec(url);
  return match ? `${match[1]}/${match[2]}` : /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(url) ? url : null;
}

function git(args) {
  try {
    return execFileSync("git", args, {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
  } catch {
    return null;
  }
}

/** What this checkout says of itself. */
export function buildInfo() {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const repository = repositoryOf(pkg.repository);
  const top = git(["rev-parse", "--show-toplevel"])?.trim();
  if (!top || path.resolve(top) !== root) {
    return {
      repository,
      commit: null,
      dirty: false,
      changed: [],
      reason: "built outside a git checkout of tunix-rt, so no commit is known",
    };
  }
  const commit = git(["rev-parse", "--verify", "HEAD"])?.trim() || null;
  if (!commit) {
    return { repository, commit: null, dirty: false, changed: [], reason: "the checkout has no commit yet" };
  }
  // -z: paths as they are; lines are "XY path" (a rename adds "\0from").
  const status = git(["status", "--porcelain=v1", "-z", "--untracked-files=all"]) ?? "";
  const changed = [];
  const fields = status.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i];
    if (!entry) continue;
    changed.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") i++;
  }
  const dirty = changed.length > 0;
  return {
    repository,
    commit,
    dirty,
    changed: changed.slice(0, 20),
    reason: dirty
      ? `built from uncommitted changes to ${changed.length} path${changed.length === 1 ? "" : "s"} (first: ${changed[0]}), so no commit holds this build's code`
      : null,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const info = buildInfo();
  const text = `${JSON.stringify(info, null, 2)}\n`;
  if (process.argv.includes("--print")) process.stdout.write(text);
  else {
    const target = path.join(root, "lib/build-info.json");
    mkdirSync(path.dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, target);
  }
}
