/**
 * The trusted checkout verify reads under the trusted rule (a pull request's base): the
 * evidence's repository paths read from there, never a path or link out of it, each once.
 */
import { createHash } from "node:crypto";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { InputError, messageOf } from "../core/errors.js";
import type { NamedFile, TrustedFiles } from "../core/evidence/verify.js";
import { bytesText, limits } from "../core/limits.js";
import { describeUtf8Fault, utf8Fault } from "../core/utf8.js";
import { type Bounds, notRegular, readBounded } from "./bounded-read.js";
import { parseConfigText } from "./config-file.js";
import { describeFsError } from "./files.js";
import { isInside } from "./root.js";

/**
 * The trusted checkout at `root` (a pull request's base), read as the trusted rule reads it:
 * a repository path the evidence names, never a path or link out of the checkout. Reads are
 * synchronous (the verifier asks as it goes) and each file is read once.
 */
export async function trustedFiles(
  root: string,
  { cwd, shownAs, showFile }: { cwd: string; shownAs: string; showFile?: (repoPath: string) => string },
): Promise<TrustedFiles> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(root);
  } catch (error) {
    throw new InputError(`${shownAs}: cannot read the trusted checkout: ${describeFsError(error)}`);
  }
  if (!info.isDirectory()) throw new InputError(`${shownAs}: is not a folder; expected a checkout`);
  const real = realpathSync(root);
  const read = new Map<string, { shownAs: string; bytes: Buffer } | { shownAs: string; absent: string }>();
  const fetch = (repoPath: string) => {
    const known = read.get(repoPath);
    if (known) return known;
    const abs = path.join(root, repoPath);
    const relative = path.relative(cwd, abs);
    const shown =
      showFile?.(repoPath) ??
      (relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? abs : relative);
    let found: { shownAs: string; bytes: Buffer } | { shownAs: string; absent: string };
    if (!isRepoPath(repoPath))
      found = {
        shownAs: repoPath,
        absent: "is not a repository path (relative, inside it, no control character)",
      };
    else {
      try {
        const kind = statSync(abs);
        if (!kind.isFile()) throw notRegular();
        const size = kind.size;
        if (!isInside(real, realpathSync(abs)))
          found = { shownAs: shown, absent: `leads out of ${shownAs} (a symbolic link); not read` };
        else if (size > limits.evalsetBytes)
          found = {
            shownAs: shown,
            absent: `is ${size} bytes in ${shownAs}, over the ${bytesText(limits.evalsetBytes)} read of it`,
          };
        else found = { shownAs: shown, bytes: readFileSync(abs) };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        found = {
          shownAs: shown,
          absent:
            code === "ENOENT" || code === "ENOTDIR"
              ? `is not in ${shownAs}`
              : `cannot be read from ${shownAs}: ${describeFsError(error)}`,
        };
      }
    }
    read.set(repoPath, found);
    return found;
  };
  return {
    shownAs,
    file(repoPath) {
      const found = fetch(repoPath);
      return "bytes" in found ? { shownAs: found.shownAs, text: found.bytes.toString("utf8") } : found;
    },
    sha256(repoPath) {
      const found = fetch(repoPath);
      return "bytes" in found ? createHash("sha256").update(found.bytes).digest("hex") : undefined;
    },
    config(repoPath) {
      const found = fetch(repoPath);
      if (!("bytes" in found)) return found;
      try {
        return {
          shownAs: found.shownAs,
          config: parseConfigText(found.bytes.toString("utf8"), found.shownAs).config,
        };
      } catch (error) {
        return {
          shownAs: found.shownAs,
          absent: `in ${shownAs} is not a valid sweep config (${messageOf(error)})`,
        };
      }
    },
  };
}

/**
 * Whether a path the evidence names is a repository path: relative, never leaving the root,
 * and a name a file system holds (no NUL or other control character).
 */
function isRepoPath(file: string): boolean {
  return !path.isAbsolute(file) && !file.split(/[\\/]/).includes("..") && !/\p{Cc}/u.test(file);
}

/**
 * A repository file the evidence names, read from the root: its text, or why it is not at
 * hand. It is shown relative to `cwd` (a repository path when verify runs from the root).
 */
export async function readRepoFile(
  root: string,
  file: string,
  cwd: string,
  bounds: Bounds,
  max: number,
): Promise<NamedFile & { bytes?: Buffer }> {
  if (!isRepoPath(file))
    return { shownAs: file, absent: "is not a repository path (relative, inside it, no control character)" };
  const abs = path.join(root, file);
  const relative = path.relative(cwd, abs);
  const shownAs = relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? abs : relative;
  const refused = await bounds.refuse(abs);
  if (refused !== undefined)
    return { shownAs, absent: refused.replace(/^is a symbolic link leading/, "leads") };
  try {
    const read = await readBounded(abs, max);
    if ("size" in read)
      return { shownAs, absent: `is ${read.size} bytes, over the ${bytesText(max)} read of it` };
    const fault = utf8Fault(read.bytes);
    if (fault) return { shownAs, absent: `${describeUtf8Fault(fault)} (line ${fault.line})` };
    return { shownAs, text: read.bytes.toString("utf8"), bytes: read.bytes };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `the repository (${root})`;
    return {
      shownAs,
      absent:
        code === "ENOENT" || code === "ENOTDIR"
          ? `is not in ${where}`
          : `cannot be read from ${where}: ${describeFsError(error)}`,
    };
  }
}
