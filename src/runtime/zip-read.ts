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

function unpack(file: string): Promise<ZipMember[]> {
  return new Promise((resolve, reject) => {
    // strictFileNames refuses backslashes; yauzl itself refuses absolute and `..` names.
    yauzl.open(
      file,
      { lazyEntries: true, strictFileNames: true, validateEntrySizes: true },
      (error, zip?: ZipFile) => {
        if (error || !zip) return reject(error ?? new Error("cannot open"));
        const members: ZipMember[] = [];
        let total = 0;
        let count = 0;
        const fail = (e: Error) => {
          zip.close();
          reject(e);
        };
        zip.on("error", fail);
        zip.on("end", () => resolve(members));
        zip.on("entry", (entry: Entry) => {
          const kind = kindOf(entry);
          if (entry.isEncrypted())
            return fail(new Error(`${entry.fileName}: encrypted members are not supported`));
          if (++count > limits.zipMembers)
            return fail(
              new Error(`it holds more than ${limits.zipMembers} members; a submission holds a few dozen`),
            );
          if (entry.uncompressedSize > limits.zipMemberBytes)
            return fail(
              new Error(
                `${lineText(entry.fileName)} would inflate to ${entry.uncompressedSize} bytes, over the ${bytesText(limits.zipMemberBytes)} a member may have`,
              ),
            );
          total += entry.uncompressedSize;
          if (total > limits.zipTotalBytes)
            return fail(new Error(`it would inflate past ${bytesText(limits.zipTotalBytes)}`));
          if (kind === "directory") {
            members.push({ name: entry.fileName, kind, data: Buffer.alloc(0) });
            return zip.readEntry();
          }
          zip.openReadStream(entry, (streamError, stream) => {
            if (streamError || !stream)
              return fail(streamError ?? new Error(`${entry.fileName}: cannot read`));
            const chunks: Buffer[] = [];
            stream.on("data", (chunk: Buffer) => chunks.push(chunk));
            stream.on("error", fail);
            stream.on("end", () => {
              members.push({ name: entry.fileName, kind, data: Buffer.concat(chunks) });
              zip.readEntry();
            });
          });
        });
        zip.readEntry();
      },
    );
  });
}
