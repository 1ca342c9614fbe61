import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { InputError, messageOf, ReadError } from "../core/errors.js";
import { parsePythonJson } from "../core/python.js";

/**
 * Writes a file atomically: a temp file in the same folder, flushed, then renamed over the
 * target, so a crash never leaves half a file behind. Creates the folder when missing.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Writes `value` as pretty JSON (two spaces, trailing newline), atomically. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a text file, turning "not found" and friends into a one-line InputError that names it. */
export async function readTextFile(file: string, what = "file", shownAs = file): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new InputError(`${shownAs}: cannot read ${what}: ${describeFsError(error)}`);
  }
}

/** A short, human reason for a file-system error ("no such file", "permission denied", ...). */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "a parent is not a directory";
    case "EEXIST":
      return "a file is in the way";
    case "EROFS":
      return "read-only file system";
    case "ENOSPC":
      return "no space left on device";
    default:
      return messageOf(error);
  }
}

/** One line of a JSONL file: its 1-based number and either the parsed value or the parse error. */
export type JsonlLine =
  | { line: number; ok: true; value: unknown }
  | { line: number; ok: false; error: string };

/**
 * Streams a JSONL file line by line without loading it whole. Blank lines are skipped;
 * a line that is not JSON is yielded as `{ok: false}` so the caller decides what it means.
 */
export async function* readJsonl(file: string, shownAs = file): AsyncGenerator<JsonlLine> {
  const stream = createReadStream(file, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new ReadError(shownAs, describeFsError(error));
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  // A read error after opening (a folder: EISDIR) ends the loop below with that error.
  const failed = (error: unknown) => new ReadError(shownAs, describeFsError(error));
  try {
    for await (const text of (async function* () {
      try {
        yield* lines;
      } catch (error) {
        throw failed(error);
      }
    })()) {
      line++;
      // A byte-order mark belongs to the file, not to its first value.
      const body = line === 1 && text.startsWith("\uFEFF") ? text.slice(1) : text;
      if (body.trim() === "") continue;
      try {
        // Python's json.dumps writes NaN and Infinity: read them, so trainers' files count.
        yield { line, ok: true, value: parsePythonJson(body) };
      } catch (error) {
        yield { line, ok: false, error: messageOf(error) };
      }
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/**
 * Rewrites a text file line by line through `transform` (streaming, so a large log never
 * sits in memory whole), atomically: a temp file in the same folder, then a rename.
 */
export async function rewriteLines(file: string, transform: (line: string) => string): Promise<void> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  const input = createReadStream(file, { encoding: "utf8" });
  const output = createWriteStream(temp);
  try {
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    let first = true;
    for await (const line of lines) {
      const text = `${first ? "" : "\n"}${transform(line)}`;
      first = false;
      if (!output.write(text)) await once(output, "drain");
    }
    await new Promise<void>((resolve, reject) =>
      output.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    await rename(temp, file);
  } catch (error) {
    output.destroy();
    await rm(temp, { force: true });
    throw error;
  } finally {
    input.destroy();
  }
}
