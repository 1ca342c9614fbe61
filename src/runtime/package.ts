/**
 * `package` as a function (the CLI command and `sweep` both call it): verify the evidence,
 * gather the members behind the symlink and secret gates, plan the zip, build it in memory,
 * apply the size gate, then write it atomically. Nothing is written unless every gate passes.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { ExitCode, InputError, type Problem, TunixError } from "../core/errors.js";
import { planArchive } from "../core/evidence/archive.js";
import type { VerifyProfile } from "../core/evidence/verify.js";
import { writeZip, zipBytes } from "./archive-write.js";
import { verifyEvidenceFolder } from "./evidence-read.js";
import { describeFsError } from "./files.js";
import { headCommit } from "./git.js";
import { gatherSubmission } from "./submission-files.js";
import { toolkitVersion } from "./version.js";

/** The default size gate: M34's packaging gate was "< 100 KB". */
export const defaultMaxSize = 102_400;

/** What to package and how. */
export interface PackageOptions {
  /** The evidence folder (relative to cwd, or absolute). */
  runDir: string;
  /** The repository root: repository paths resolve against it, git runs in it. */
  cwd: string;
  /** Reads SOURCE_DATE_EPOCH. */
  env: NodeJS.ProcessEnv;
  /** Largest zip allowed, in bytes (default 102400). */
  maxSize?: number;
  /** Where the zip goes (default `submission` under cwd). */
  outDir?: string;
  /** The sweep config to include (default: run_manifest.json sweep_config_path). */
  configFile?: string;
  /** Verification profile (default: none). */
  profile?: VerifyProfile;
  /** Verify the evidence first (default true). */
  verify?: boolean;
  /** Told what was looked for and left out (`the evalset x: not found in the repository`). */
  onNote?: (note: string) => void;
  /** Today, when SOURCE_DATE_EPOCH is not set (a parameter so tests need not depend on the clock). */
  now?: Date;
}

/** The evidence did not verify (exit 1); `problems` lists why. */
export class InvalidEvidenceError extends TunixError {
  constructor(
    message: string,
    readonly problems: readonly Problem[],
  ) {
    super(message, ExitCode.no);
  }
}

/** Packages an evidence folder; returns the absolute path of the zip written. */
export async function packageRunDir(options: PackageOptions): Promise<string> {
  const { runDir, cwd } = options;
  const date = packageDate(options.env, options.now);
  const runDirAbs = path.resolve(cwd, runDir);
  try {
    if (!(await stat(runDirAbs)).isDirectory())
      throw new InputError(`${runDir}: is not a folder; expected the evidence folder`);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${runDir}: cannot read the evidence folder: ${describeFsError(error)}`);
  }
  if (options.verify ?? true) {
    const { problems } = await verifyEvidenceFolder(runDirAbs, {
      profile: options.profile ?? "default",
      shownAs: runDir,
      cwd,
    });
    if (problems.length > 0) {
      const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
      throw new InvalidEvidenceError(
        `${runDir}: the evidence is invalid (${count}); fix it, or pass --no-verify`,
        problems,
      );
    }
  }
  const gathered = await gatherSubmission({
    cwd,
    runDir,
    ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
  });
  const commit = await headCommit(cwd);
  const plan = planArchive({
    runVersion: gathered.runVersion,
    date,
    shortSha: commit?.short ?? "nogit",
    commit: commit?.sha ?? null,
    tool: `tunix-rt ${toolkitVersion}`,
    runDir: gathered.zipRunDir,
    files: gathered.files,
    facts: gathered.facts,
  });
  const bytes = await zipBytes(plan);
  const maxSize = options.maxSize ?? defaultMaxSize;
  if (bytes.length > maxSize) {
    const largest = [...plan.members]
      .sort((a, b) => b.size - a.size)
      .slice(0, 3)
      .map((m) => `${m.name} (${m.size} bytes)`)
      .join(", ");
    throw new InputError(
      `${plan.zipName}: the zip would be ${bytes.length} bytes, over the size limit of ${maxSize} (--max-size); largest members, uncompressed: ${largest}`,
    );
  }
  for (const note of gathered.facts.leftOut ?? []) options.onNote?.(note);
  const outDir = path.resolve(cwd, options.outDir ?? "submission");
  try {
    return await writeZip(plan, bytes, outDir);
  } catch (error) {
    // mkdir over a file says EEXIST (or ENOTDIR below it), which reads as nonsense to a user.
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reason =
      code === "EEXIST" || code === "ENOTDIR"
        ? "a file is in the way; expected a folder"
        : describeFsError(error);
    throw new InputError(`${options.outDir ?? "submission"}: cannot write the zip: ${reason}`);
  }
}

/**
 * The date in the zip's name, YYYY-MM-DD in UTC: SOURCE_DATE_EPOCH (seconds since 1970, the
 * reproducible-builds convention) when set, so a rebuild gives the same name; else today.
 */
export function packageDate(env: NodeJS.ProcessEnv, now: Date = new Date()): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === "") return now.toISOString().slice(0, 10);
  const seconds = Number(epoch.trim());
  // The largest second that still has a four-digit year (9999-12-31T23:59:59Z).
  if (!/^\d+$/.test(epoch.trim()) || !Number.isSafeInteger(seconds) || seconds > 253_402_300_799) {
    throw new InputError(
      `SOURCE_DATE_EPOCH: got ${JSON.stringify(epoch)}; expected whole seconds since 1970-01-01 (UTC)`,
    );
  }
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
