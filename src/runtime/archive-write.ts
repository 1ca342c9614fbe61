/**
 * Writes a planned submission zip with archiver, deterministically: members in the plan's
 * order, every entry dated 1980-01-01T00:00:00Z (the zip format's epoch: a constant, so the
 * bytes do not depend on file mtimes or the clock) with mode 0644, deflate level 9. The same
 * plan gives the same bytes with the same zlib (the one Node bundles).
 */
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { ZipArchive } from "archiver";
import type { ArchivePlan } from "../core/evidence/archive.js";
import { writeFileAtomic } from "./files.js";

/** The date every entry carries (DOS date-times start in 1980; stored as UTC). */
export const entryDate = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));
/** The Unix mode every entry carries: a plain, non-executable file. */
export const entryMode = 0o644;

/** The zip's bytes for a plan, built in memory (a submission is small; the size gate runs before anything is written). */
export async function zipBytes(plan: ArchivePlan): Promise<Buffer> {
  const archive = new ZipArchive({ zlib: { level: 9 } });
  const collected = buffer(archive);
  let failure: unknown;
  // archiver reports some faults as warnings; for a submission any fault is fatal.
  archive.on("warning", (error) => {
    failure ??= error;
  });
  archive.on("error", (error) => {
    failure ??= error;
  });
  for (const member of plan.members) {
    const data = Buffer.isBuffer(member.data) ? member.data : Buffer.from(member.data);
    archive.append(data, { name: member.name, date: entryDate, mode: entryMode });
  }
  await archive.finalize();
  const bytes = await collected;
  if (failure) throw failure;
  return bytes;
}

/** Writes zip bytes as `<outDir>/<plan.zipName>` (temp file, then rename) and returns the path. */
export async function writeZip(plan: ArchivePlan, bytes: Uint8Array, outDir: string): Promise<string> {
  const file = path.join(outDir, plan.zipName);
  await writeFileAtomic(file, bytes);
  return file;
}
