/**
 * Which tunix-rt this is: the record `npm run build` leaves in lib/build-info.json
 * (scripts/write-build-info.mjs), so `tunix-rt init` pins the user's workflows to the
 * repository and commit that hold the actions of the installed version.
 */
import { readFile } from "node:fs/promises";
import { toolkitVersion } from "./version.js";

/** The build's record of itself. */
export interface BuildInfo {
  /** `owner/name` on GitHub (package.json `repository`), or null. */
  repository: string | null;
  /** The commit the build started from (full sha), or null outside a checkout. */
  commit: string | null;
  /** Whether the tree had uncommitted changes: then no commit holds this build's code. */
  dirty: boolean;
  /** Why no commit can be pinned, or null when `commit` can. */
  reason: string | null;
  /** The package version (`toolkitVersion`). */
  version: string;
}

const recordFile = new URL("../build-info.json", import.meta.url);

/**
 * The installed build's record. A build without one (the sources run directly, or an older
 * build) has no commit to pin, and `reason` says so.
 */
export async function readBuildInfo(file: URL | string = recordFile): Promise<BuildInfo> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  } catch {
    return {
      repository: null,
      commit: null,
      dirty: false,
      reason: "this tunix-rt has no build record (lib/build-info.json, written by npm run build)",
      version: toolkitVersion,
    };
  }
  const repository = typeof raw.repository === "string" ? raw.repository : null;
  const commit = typeof raw.commit === "string" && /^[0-9a-f]{40}$/.test(raw.commit) ? raw.commit : null;
  const dirty = raw.dirty === true;
  const reason =
    typeof raw.reason === "string" && raw.reason !== ""
      ? raw.reason
      : commit === null
        ? "this build records no commit"
        : null;
  return {
    repository,
    commit,
    dirty,
    reason: dirty || commit === null ? reason : null,
    version: toolkitVersion,
  };
}
