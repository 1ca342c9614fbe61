/**
 * Reads submission zips back (what `package` writes, and what people rebuild by hand) with
 * yauzl: every member uncompressed and CRC-checked, entry names validated by yauzl, and caps
 * on the members, each member's size and the inflated total (`limits`: a submission is
 * kilobytes, not gigabytes). yauzl's validateEntrySizes stops a member that inflates past the
 * size its header claims.
 */
import { stat } from "node:fs/promises";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { InputError, messageOf, ReadError } from "../core/errors.js";
import { lineText } from "../core/escape.js";
import { bytesText, limits } from "../core/limits.js";
import { describeFsError } from "./files.js";

/** One member of a zip, uncompressed. */
export interface ZipMember {
  /** The entry name as stored (POSIX separators). */
  name: string;
  kind: "file" | "directory" | "symlink";
  data: Buffer;
}

/** Reads and unpacks a zip file; an unreadable or malformed one is an InputError naming `shownAs`. */
export async function readZipFile(file: string, shownAs = file): Promise<ZipMember[]> {
  try {
    if (!(await stat(file)).isFile())
      throw Object.assign(new Error("not a regular file"), { code: "ENOTREG" });
  } catch (error) {
    throw new ReadError(shownAs, describeFsError(error));
  }
  try {
    return await unpack(file);
  } catch (error) {
    throw new InputError(`${shownAs}: not a readable zip: ${messageOf(error)}`);
  }
}

/** The kind of an entry, from its name and the Unix mode in its external attributes. */
function kindOf(entry: Entry): ZipMember["kind"] {
  const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
  if (mode === 0o120000) return "symlink";
  return entry.fileName.endsWith("/") || mode === 0o040000 ? "directory" : "file";
}

/**
 * Every member, read in two passes: the central directory first (each entry's name, kind and
 * declared size, checked against the limits, so a zip past one is refused before anything is
 * inflated), then each member inflated (yauzl stops one that inflates past its declared size).
 */
function unpack(file: string): Promise<ZipMember[]> {
  return new Promise((resolve, reject) => {
    // strictFileNames refuses backslashes; yauzl itself refuses absolute and `..` names.
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true },
      (error, zip?: ZipFile) => {
        if (error || !zip) return reject(error ?? new Error("cannot open"));
        let settled = false;
        const fail = (e: Error) => {
          if (settled) return;
          settled = true;
          zip.close();
          reject(e);
        };
        const tooMany = () =>
          new Error(`it holds more than ${limits.zipMembers} members; a submission holds a few dozen`);
        // The end record's count, before any entry is read (the entries are counted too: it may lie).
        if (zip.entryCount > limits.zipMembers) return fail(tooMany());
        const entries: Entry[] = [];
        let total = 0;
        zip.on("error", fail);
        zip.on("entry", (entry: Entry) => {
          if (entry.isEncrypted())
            return fail(new Error(`${lineText(entry.fileName)}: encrypted members are not supported`));
          if (entries.length >= limits.zipMembers) return fail(tooMany());
          if (entry.uncompressedSize > limits.zipMemberBytes)
            return fail(
              new Error(
                `${lineText(entry.fileName)} would inflate to ${entry.uncompressedSize} bytes, over the ${bytesText(limits.zipMemberBytes)} a member may have`,
              ),
            );
          total += entry.uncompressedSize;
          if (total > limits.zipTotalBytes)
            return fail(new Error(`it would inflate past ${bytesText(limits.zipTotalBytes)}`));
          entries.push(entry);
          zip.readEntry();
        });
        zip.on("end", () => {
          if (!settled)
            inflateAll(zip, entries).then((members) => {
              settled = true;
              zip.close();
              resolve(members);
            }, fail);
        });
        zip.readEntry();
      },
    );
  });
}

/** The members of `entries`, inflated one after another. */
async function inflateAll(zip: ZipFile, entries: readonly Entry[]): Promise<ZipMember[]> {
  const members: ZipMember[] = [];
  for (const entry of entries) {
    const kind = kindOf(entry);
    if (kind === "directory") {
      members.push({ name: entry.fileName, kind, data: Buffer.alloc(0) });
      continue;
    }
    const data = await new Promise<Buffer>((resolve, reject) => {
      zip.openReadStream(entry, (streamError, stream) => {
        if (streamError || !stream)
          return reject(streamError ?? new Error(`${lineText(entry.fileName)}: cannot read`));
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("error", reject);
        stream.on("end", () => resolve(Buffer.concat(chunks)));
      });
    });
    members.push({ name: entry.fileName, kind, data });
  }
  return members;
}
