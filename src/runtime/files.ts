import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { InputError, messageOf, NotUtf8Error, ReadError } from "../core/errors.js";
import { JsonShapeError } from "../core/json-text.js";
import { bytesText, limits } from "../core/limits.js";
import { parsePythonJson } from "../core/python.js";
import { describeUtf8Fault, Utf8Checker, utf8Fault } from "../core/utf8.js";

/** How the temp files of an atomic write end: the working-tree check leaves them out (`tempFilePattern`). */
export const tempSuffix = ".tunix-rt.tmp";

/**
 * A temp file beside `file` (a rename is atomic within one folder): hidden, named after the
 * process and a random part, and ending in `tempSuffix`, so that one a crash leaves behind
 * never counts as a change to the working tree a trial ran from.
 */
function tempBeside(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}${tempSuffix}`,
  );
}

/**
 * Writes a file atomically: a temp file in the same folder, flushed, then renamed over the
 * target, so a crash never leaves half a file behind. Creates the folder when missing.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  { durable = true }: { durable?: boolean } = {},
): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = tempBeside(file);
  try {
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(data);
      // Flushed to disk before the rename, so a power cut leaves the old file or the new one;
      // a file that only lives while a process does (`durable: false`) needs the rename alone.
      if (durable) await handle.sync();
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
export async function writeJsonAtomic(
  file: string,
  value: unknown,
  options: { durable?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, options);
}

/** Reads a text file, turning "not found" and friends into a one-line InputError that names it. */
export async function readTextFile(file: string, what = "file", shownAs = file): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InputError(`${shownAs}: cannot read ${what}: ${describeFsError(error)}`);
  }
  const fault = utf8Fault(bytes);
  if (fault) throw new NotUtf8Error(shownAs, fault.line, describeUtf8Fault(fault));
  return bytes.toString("utf8");
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
    case "ENOTREG":
      return "is not a regular file (a device or a pipe): not read";
    case "ENOSPC":
      return "no space left on device";
    default:
      return messageOf(error);
  }
}

/**
 * One line of a JSONL file: its 1-based number and either the parsed value or why not.
 * `refused` marks a line that is no syntax error but is refused all the same (longer than
 * the line bound, nested too deep, a key given twice): its `error` says so as it is.
 */
export type JsonlLine =
  | { line: number; ok: true; value: unknown }
  | { line: number; ok: false; error: string; refused?: boolean };

/** How `readJsonl` reads. */
export interface ReadJsonlOptions {
  /** Parses one line's text; throws on bad input (default `parsePythonJson`). */
  parse?: (text: string) => unknown;
  /** The longest line read, in UTF-16 units of its text (default `limits.lineBytes`); a longer one is refused. */
  maxLine?: number;
}

/**
 * Streams a JSONL file line by line without loading it whole, and without ever holding a
 * line longer than `maxLine`: such a line is yielded as refused and skipped to its end, so
 * a file of one endless line costs its reading time, not its size in memory. Lines end at
 * "\n", "\r\n" or a lone "\r", as Python's universal newlines read them; blank lines are
 * skipped (and counted); a byte-order mark is dropped from the first line only. A line that is
 * not JSON is yielded as `{ok: false}` so the caller decides what it means.
 */
export async function* readJsonl(
  file: string,
  shownAs = file,
  options: ReadJsonlOptions = {},
): AsyncGenerator<JsonlLine> {
  const stream = await openJsonl(file, shownAs);
  const lines = new JsonlDecoder(shownAs, options);
  try {
    for await (const bytes of stream as AsyncIterable<Buffer>) yield* lines.push(bytes);
    yield* lines.end();
  } catch (error) {
    throw readFailure(error, shownAs);
  } finally {
    stream.destroy();
  }
}

/**
 * `readJsonl` with a callback per line instead of an async step per line (a quarter of a
 * second over 256 trials' rows), and `onBytes` seeing every byte as read (a hash of the file
 * in the same pass).
 */
export async function forEachJsonl(
  file: string,
  visit: (entry: JsonlLine) => void,
  {
    shownAs = file,
    onBytes,
    ...options
  }: ReadJsonlOptions & { shownAs?: string; onBytes?: (bytes: Buffer) => void } = {},
): Promise<void> {
  const stream = await openJsonl(file, shownAs);
  const lines = new JsonlDecoder(shownAs, options);
  try {
    for await (const bytes of stream as AsyncIterable<Buffer>) {
      onBytes?.(bytes);
      for (const entry of lines.push(bytes)) visit(entry);
    }
    for (const entry of lines.end()) visit(entry);
  } catch (error) {
    throw readFailure(error, shownAs);
  } finally {
    stream.destroy();
  }
}

/** A regular file's read stream, opened: a pipe or a device has no end to read to (and a pipe's open waits for a writer). */
async function openJsonl(
  file: string,
  shownAs: string,
): Promise<NodeJS.ReadableStream & { destroy(): void }> {
  const kind = await stat(file).catch((error: unknown) => {
    throw new ReadError(shownAs, describeFsError(error));
  });
  if (!kind.isFile() && !kind.isDirectory())
    throw new ReadError(shownAs, describeFsError({ code: "ENOTREG" }));
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once("open", () => resolve());
      stream.once("error", reject);
    });
  } catch (error) {
    throw new ReadError(shownAs, describeFsError(error));
  }
  return stream;
}

/** An error while reading, as the reader reports it: not UTF-8 as it is, else a read error (a folder: EISDIR). */
function readFailure(error: unknown, shownAs: string): Error {
  if (error instanceof NotUtf8Error) return error;
  return new ReadError(shownAs, describeFsError(error));
}

/**
 * JSONL bytes to lines, chunk by chunk: bytes checked as UTF-8 before they are decoded (a
 * Latin-1 byte is refused where it is, not read as a replacement character), split as
 * `BoundedLineSplitter` does, each line parsed.
 */
class JsonlDecoder {
  readonly #utf8 = new Utf8Checker();
  readonly #decoder = new TextDecoder("utf-8");
  readonly #lines: BoundedLineSplitter;
  readonly #parse: (text: string) => unknown;
  readonly #maxLine: number;
  #line = 0;

  constructor(
    private readonly shownAs: string,
    { parse = parsePythonJson, maxLine = limits.lineBytes }: ReadJsonlOptions,
  ) {
    this.#parse = parse;
    this.#maxLine = maxLine;
    this.#lines = new BoundedLineSplitter(maxLine);
  }

  push(bytes: Buffer): JsonlLine[] {
    const fault = this.#utf8.push(bytes);
    if (fault) throw new NotUtf8Error(this.shownAs, fault.line, describeUtf8Fault(fault));
    return this.#finish(this.#lines.push(this.#decoder.decode(bytes, { stream: true })));
  }

  end(): JsonlLine[] {
    const fault = this.#utf8.end();
    if (fault) throw new NotUtf8Error(this.shownAs, fault.line, describeUtf8Fault(fault));
    return this.#finish(this.#lines.end());
  }

  #finish(pieces: SplitLine[]): JsonlLine[] {
    const out: JsonlLine[] = [];
    for (const piece of pieces) {
      const line = ++this.#line;
      if ("tooLong" in piece) {
        out.push({
          line,
          ok: false,
          refused: true,
          error: `is longer than ${bytesText(this.#maxLine)}; not read`,
        });
        continue;
      }
      // A byte-order mark belongs to the file, not to its first value.
      const text = piece.text;
      const body = line === 1 && text.startsWith("\uFEFF") ? text.slice(1) : text;
      if (body.trim() === "") continue;
      try {
        // Python's json.dumps writes NaN and Infinity: read them, so trainers' files count.
        out.push({ line, ok: true, value: this.#parse(body) });
      } catch (error) {
        out.push({
          line,
          ok: false,
          error: messageOf(error),
          ...(error instanceof JsonShapeError ? { refused: true } : {}),
        });
      }
    }
    return out;
  }
}

/** A line as `BoundedLineSplitter` gives it: its text, or that it was longer than the bound. */
export type SplitLine = { text: string } | { tooLong: true };

/**
 * Splits text that arrives in chunks into lines, as Python's universal newlines read them
 * ("\n", "\r\n" or a lone "\r" ends a line; a "\r\n" split between two chunks is one break),
 * never holding more than `maxLine` characters of a line: a longer one is dropped as it
 * comes and given as `tooLong`, so an endless line costs its reading time, not its size.
 */
export class BoundedLineSplitter {
  #rest = "";
  #overlong = false;
  /** Whether the last chunk ended with a "\r" whose "\n" may start the next. */
  #afterCr = false;

  constructor(private readonly maxLine: number) {}

  /** The lines a chunk completes. */
  push(chunk: string): SplitLine[] {
    // An empty chunk between a "\r" and its "\n" must not end the pair.
    if (chunk === "") return [];
    const out: SplitLine[] = [];
    let start = 0;
    if (this.#afterCr && chunk.charCodeAt(0) === 10) start = 1;
    this.#afterCr = false;
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      out.push(this.#line(chunk.slice(start, i)));
      if (c === 13) {
        if (i === chunk.length - 1) this.#afterCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    if (!this.#overlong) {
      this.#rest += chunk.slice(start);
      if (this.#rest.length > this.maxLine) {
        this.#overlong = true;
        this.#rest = "";
      }
    }
    return out;
  }

  /** The last line, when the text did not end with a line break. */
  end(): SplitLine[] {
    return this.#rest !== "" || this.#overlong ? [this.#line("")] : [];
  }

  #line(tail: string): SplitLine {
    const piece: SplitLine =
      this.#overlong || this.#rest.length + tail.length > this.maxLine
        ? { tooLong: true }
        : { text: this.#rest + tail };
    this.#rest = "";
    this.#overlong = false;
    return piece;
  }
}

/**
 * Rewrites a text file line by line through `transform` (streaming, so a large log never
 * sits in memory whole), atomically: a temp file in the same folder, then a rename.
 */
export async function rewriteLines(file: string, transform: (line: string) => string): Promise<void> {
  const temp = tempBeside(file);
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

/** SHA-256 (hex) of a file, streamed. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
