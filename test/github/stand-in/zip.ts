/**
 * Zips in memory for the stand-in's artifacts: files at the zip's root, as
 * @actions/artifact stores a folder's files.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { ZipArchive } from "archiver";

/** The bytes of a zip holding these files (path inside the zip -> content). */
export async function zipOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const bytes = buffer(archive);
  for (const [name, content] of Object.entries(files)) archive.append(Buffer.from(content), { name });
  await archive.finalize();
  return bytes;
}

/**
 * The bytes of a zip of a folder's files (recursively, paths relative to the folder): what a
 * trial job's upload of its folder holds, for serving as an artifact.
 */
export async function zipFolder(dir: string): Promise<Buffer> {
  const files: Record<string, Buffer> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full).split(path.sep).join("/")] = await readFile(full);
  }
  return zipOf(files);
}
