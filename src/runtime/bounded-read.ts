/**
 * Reading what evidence names, bounded: a file read only up to its limit, paths kept inside
 * a root (no symbolic link out of it), and the error for what is not a regular file.
 */
import { open, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { isInside } from "./root.js";

/** Where the files verify reads may lead once links are resolved: the root given, or anywhere. */
export class Bounds {
  /** No bounds: links are followed wherever they lead. */
  static readonly none = new Bounds(undefined);

  private constructor(private readonly root: string | undefined) {}

  static async of(root: string): Promise<Bounds> {
    return new Bounds((await realOrUndefined(root)) ?? path.resolve(root));
  }

  /** Whether a real path lies inside the bounds. */
  inRepository(real: string | undefined): boolean {
    return real === undefined || this.root === undefined || isInside(this.root, real);
  }

  /**
   * Why a file may not be read (its link leads out), or undefined when it may (or does not
   * resolve: reading it then says what is wrong).
   */
  async refuse(file: string): Promise<string | undefined> {
    if (this.root === undefined) return undefined;
    const real = await realOrUndefined(file);
    if (real === undefined || this.inRepository(real)) return undefined;
    return `is a symbolic link leading out of the repository (${this.root}); not read`;
  }
}

export async function realOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await realpath(file);
  } catch {
    return undefined;
  }
}

/**
 * A file's bytes when it holds at most `max` of them, else its size (nothing read): the
 * size is taken from the open file, and no more than `max + 1` bytes are read whatever it
 * grows to meanwhile.
 */
export async function readBounded(file: string, max: number): Promise<{ bytes: Buffer } | { size: number }> {
  // A device or a pipe has no end to read to (and a pipe's open waits for a writer): refused
  // before it is opened.
  const kind = await stat(file);
  if (kind.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
  if (!kind.isFile()) throw notRegular();
  const handle = await open(file, "r");
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (info.size > max) return { size: info.size };
    const buffer = Buffer.alloc(Math.min(max + 1, info.size + 1));
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) {
        if (filled > max) return { size: filled };
        break;
      }
    }
    return { bytes: buffer.subarray(0, filled) };
  } finally {
    await handle.close();
  }
}

/** The error for a file that is no regular file: a device or a pipe, which has no end to read to. */
export function notRegular(): Error {
  return Object.assign(new Error("is not a regular file (a device or a pipe): not read"), {
    code: "ENOTREG",
  });
}
