import { mkdir, open, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ExitCode, TunixError } from "../core/errors.js";

/** Who holds a sweep lock. */
export interface LockHolder {
  pid: number;
  host: string;
  started_at: string;
  command: string;
}

/** A held lock; `release()` removes it (only if it is still ours). */
export interface SweepLock {
  file: string;
  /** The stale holder this lock replaced, if any. */
  replaced?: LockHolder;
  release(): Promise<void>;
}

/**
 * The lock file of a run_version: `runs/<run_version>.lock` at the repository root (beside
 * the sweep's folder). Whatever writes a run_version's evidence and promoted config (a sweep,
 * an aggregate) holds it meanwhile.
 */
export function runLockFile(root: string, runVersion: string, workDir = "runs"): string {
  return `${path.resolve(root, workDir, runVersion)}.lock`;
}

/**
 * Takes the lock file of a run_version, exclusively. A lock whose holder is a dead process on
 * this host (or an unreadable lock file) is stale and taken over; a live holder makes this
 * throw exit 4 naming the lock and its holder.
 */
export async function acquireLock(file: string, command: string, now = new Date()): Promise<SweepLock> {
  await mkdir(path.dirname(file), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: os.hostname(), started_at: now.toISOString(), command };
  let replaced: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(`${JSON.stringify(me)}\n`);
      await handle.close();
      return {
        file,
        replaced,
        release: async () => {
          const current = await readHolder(file);
          if (current && current.pid === me.pid && current.host === me.host) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(file);
    if (holder && isAlive(holder)) {
      throw new TunixError(
        `${file}: run_version is locked by another sweep (pid ${holder.pid} on ${holder.host}, since ${holder.started_at}: ${holder.command}); wait for it, or remove the lock file if that process is gone`,
        ExitCode.locked,
      );
    }
    replaced = holder ?? undefined;
    await rm(file, { force: true });
  }
  throw new TunixError(`${file}: could not take the sweep lock (it keeps changing hands)`, ExitCode.locked);
}

async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    const value = JSON.parse(await readFile(file, "utf8"));
    if (typeof value?.pid === "number" && typeof value?.host === "string") return value as LockHolder;
  } catch {
    // Missing or half-written: treated as stale.
  }
  return null;
}

/** Whether a holder still runs. A holder on another host is assumed alive (a shared disk). */
function isAlive(holder: LockHolder): boolean {
  if (holder.host !== os.hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
