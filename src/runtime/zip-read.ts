/**
 * A small, strict zip reader for submission zips (what `package` writes, and what people
 * rebuild by hand): the central directory, stored and deflated members, CRC-checked. No
 * ZIP64, no encryption, no multi-disk: a submission is far below 4 GiB, and anything else
 * is reported rather than guessed at.
 */
import { readFile } from "node:fs/promises";
import { inflateRawSync } from "node:zlib";
import { InputError, messageOf } from "../core/errors.js";
import { describeFsError } from "./files.js";

/** One member of a zip, uncompressed. */
export interface ZipMember {
  /** The entry name as stored (POSIX separators). */
  name: string;
  kind: "file" | "directory" | "symlink";
  data: Buffer;
}

/** Refuse archives that would inflate past this: a submission is kilobytes, not gigabytes. */
const maxTotalBytes = 1024 ** 3;

/** Reads and unpacks a zip file; an unreadable or malformed one is an InputError naming `shownAs`. */
export async function readZipFile(file: string, shownAs = file): Promise<ZipMember[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InputError(`${shownAs}: cannot read: ${describeFsError(error)}`);
  }
  try {
    return parseZip(bytes);
  } catch (error) {
    throw new InputError(`${shownAs}: not a readable zip: ${messageOf(error)}`);
  }
}

/** Unpacks a zip held in memory; throws an Error saying what is wrong with it. */
export function parseZip(bytes: Buffer): ZipMember[] {
  const end = findEndOfCentralDirectory(bytes);
  const count = bytes.readUInt16LE(end + 10);
  const size = bytes.readUInt32LE(end + 12);
  const offset = bytes.readUInt32LE(end + 16);
  if (bytes.readUInt16LE(end + 4) !== 0 || bytes.readUInt16LE(end + 6) !== 0)
    throw new Error("multi-disk archives are not supported");
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff)
    throw new Error("ZIP64 archives are not supported");
  if (offset + size > end) throw new Error("the central directory lies outside the file");
  const members: ZipMember[] = [];
  let total = 0;
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50)
      throw new Error(`central directory entry ${i + 1} is damaged`);
    const madeBy = bytes.readUInt16LE(at + 4);
    const flags = bytes.readUInt16LE(at + 8);
    const method = bytes.readUInt16LE(at + 10);
    const crc = bytes.readUInt32LE(at + 16);
    const compressedSize = bytes.readUInt32LE(at + 20);
    const uncompressedSize = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const external = bytes.readUInt32LE(at + 38);
    const localOffset = bytes.readUInt32LE(at + 42);
    const name = bytes.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (flags & 0x1) throw new Error(`${JSON.stringify(name)} is encrypted`);
    total += uncompressedSize;
    if (total > maxTotalBytes) throw new Error(`it would unpack to more than ${maxTotalBytes} bytes`);
    const data = memberData(bytes, { name, method, localOffset, compressedSize, uncompressedSize });
    if (crc32(data) !== crc) throw new Error(`${JSON.stringify(name)} fails its CRC-32 check`);
    // Unix modes sit in the high 16 bits of the external attributes when made on Unix (3).
    const unixMode = madeBy >> 8 === 3 ? external >>> 16 : 0;
    const kind = (unixMode & 0o170000) === 0o120000 ? "symlink" : name.endsWith("/") ? "directory" : "file";
    members.push({ name, kind, data });
  }
  return members;
}

function findEndOfCentralDirectory(bytes: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (bytes.readUInt32LE(at) === 0x06054b50) return at;
  }
  throw new Error("no end-of-central-directory record (not a zip, or truncated)");
}

function memberData(
  bytes: Buffer,
  entry: {
    name: string;
    method: number;
    localOffset: number;
    compressedSize: number;
    uncompressedSize: number;
  },
): Buffer {
  const { name, method, localOffset } = entry;
  if (localOffset + 30 > bytes.length || bytes.readUInt32LE(localOffset) !== 0x04034b50) {
    throw new Error(`${JSON.stringify(name)}: local header is damaged`);
  }
  const start =
    localOffset + 30 + bytes.readUInt16LE(localOffset + 26) + bytes.readUInt16LE(localOffset + 28);
  if (start + entry.compressedSize > bytes.length)
    throw new Error(`${JSON.stringify(name)}: data runs past the end of the file`);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (method === 0) data = Buffer.from(raw);
  else if (method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (error) {
      throw new Error(`${JSON.stringify(name)}: cannot inflate: ${messageOf(error)}`);
    }
  } else
    throw new Error(
      `${JSON.stringify(name)}: compression method ${method} is not supported (expected stored or deflated)`,
    );
  if (data.length !== entry.uncompressedSize) {
    throw new Error(
      `${JSON.stringify(name)}: unpacks to ${data.length} bytes, the directory says ${entry.uncompressedSize}`,
    );
  }
  return data;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE, as zip uses); written here because zlib.crc32 needs Node 20.15. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
