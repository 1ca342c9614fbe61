/**
 * The trainers a sweep has running, kept in a file beside its lock (`runs/<run_version>.trainers.json`),
 * so a sweep that takes over the lock of one that died (`kill -9`, a lost machine) can stop
 * the trainers it left: each runs in a process group of its own and outlives its sweep, and
 * a resumed sweep would otherwise run the same trials again beside them, both writing into
 * one folder.
 *
 * A process group is stopped only when its leader is the very process that was recorded:
 * its start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) must match, so a
 * pid the system has since given to another program is left alone. Where /proc is missing
 * (not Linux), nothing is stopped, and the caller is told so.
 */
import { readFile, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomic } from "./files.js";

/** One running trainer: its process group (its pid: trainers start detached) and how to know it again. */
export interface TrainerGroup {
  pid: number;
  trial_id: string;
  /** The process's start time from /proc, or null where it cannot be read. */
  start: string | null;
}

/** The file that lists a run_version's running trainers, beside its lock file. */
export function trainersFile(lockFile: string): string {
  return lockFile.replace(/\.lock$/, ".trainers.json");
}

/** A process's start time (/proc/<pid>/stat field 22), or null (no such process, no /proc). */
export async function processStart(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces and ")": fields 3 on
    // follow the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** The running trainers of one sweep, written to their file on every change. */
export class TrainerGroups {
  readonly #file: string;
  readonly #groups = new Map<number, TrainerGroup>();
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  /** A trainer started: its group is recorded before it can outlive this sweep. */
  async add(pid: number, trialId: string): Promise<void> {
    this.#groups.set(pid, { pid, trial_id: trialId, start: await processStart(pid) });
    await this.#save();
  }

  /** A trainer ended (its group was stopped or emptied). */
  async remove(pid: number): Promise<void> {
    if (this.#groups.delete(pid)) await this.#save();
  }

  /** The sweep ended: no trainer of it runs. */
  async clear(): Promise<void> {
    this.#groups.clear();
    await this.#writing;
    await rm(this.#file, { force: true });
  }

  #save(): Promise<void> {
    const text = `${JSON.stringify([...this.#groups.values()])}\n`;
    // Read back only while the machine stays up (a sweep killed, its trainers alive): a power
    // cut ends the trainers too, so the file needs no flush to disk.
    this.#writing = this.#writing.then(() => writeFileAtomic(this.#file, text, { durable: false }));
    return this.#writing;
  }
}

/** What stopping an earlier sweep's trainers did. */
export interface LeftoverReport {
  /** The trainers stopped: their trials run again now, alone. */
  stopped: TrainerGroup[];
  /** Trainers recorded but not stopped: their process could not be told to be the same (no /proc). */
  unchecked: TrainerGroup[];
}

/**
 * Stops the trainers an earlier sweep recorded and left running: SIGTERM to each group whose
 * leader is still the recorded process, SIGKILL after `graceMs` to those still there; then
 * removes the file. Recorded trainers that are gone already are nothing to do.
 */
export async function stopLeftoverTrainers(file: string, { graceMs = 5000 } = {}): Promise<LeftoverReport> {
  let groups: TrainerGroup[];
  try {
    const value: unknown = JSON.parse(await readFile(file, "utf8"));
    groups = Array.isArray(value)
      ? value.filter(
          (g): g is TrainerGroup =>
            typeof g === "object" &&
            g !== null &&
            Number.isSafeInteger((g as TrainerGroup).pid) &&
            (g as TrainerGroup).pid > 1 &&
            typeof (g as TrainerGroup).trial_id === "string",
        )
      : [];
  } catch {
    return { stopped: [], unchecked: [] };
  }
  const stopped: TrainerGroup[] = [];
  const unchecked: TrainerGroup[] = [];
  for (const group of groups) {
    const now = await processStart(group.pid);
    if (now === null) {
      if (group.start === null && alive(group.pid)) unchecked.push(group);
      continue;
    }
    if (group.start === null || now !== group.start) continue;
    signalGroup(group.pid, "SIGTERM");
    stopped.push(group);
  }
  const deadline = Date.now() + graceMs;
  while (stopped.some((g) => alive(g.pid)) && Date.now() < deadline) await sleep(50);
  for (const group of stopped) if (alive(group.pid)) signalGroup(group.pid, "SIGKILL");
  while (stopped.some((g) => alive(g.pid)) && Date.now() < deadline + 2000) await sleep(20);
  await rm(file, { force: true });
  return { stopped, unchecked };
}

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone.
  }
}
