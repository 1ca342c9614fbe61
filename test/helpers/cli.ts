import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";

/** The repository root (where the tests run the CLI from by default). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The shared seed data beside the checkout, when present. */
export const seedData = path.resolve(repoRoot, "../shared/seed-data");
/** The built CLI entry point (`npm test` builds lib/ first). */
export const cliBin = path.join(repoRoot, "bin/tunix-rt.js");

/** What a CLI run left behind. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program as a real child process and collects what it printed. */
export function runProcess(
  argv: string[],
  {
    cwd = repoRoot,
    env = process.env,
    input,
  }: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv as [string, ...string[]];
    const child = spawn(command, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    // A program that exits without reading its stdin closes the pipe: not the test's failure.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

/** Runs `tunix-rt <args>` as a real child process. */
export function runCli(
  args: string[],
  { cwd = repoRoot, env = {}, input }: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  return runProcess([process.execPath, cliBin, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    input,
  });
}

/** A fresh temp folder for one test. */
export function tempDir(prefix = "tunix-rt-test-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A temp folder shared by one test file's cases. */
export interface ScratchFolder {
  /** A new path inside it (not yet created): `<name><n>`, numbered on across the file's cases. */
  fresh(name?: string): string;
}

/** A temp folder made before a test file's tests and removed after them; each case takes `fresh()` paths in it. */
export function scratchFolder(prefix: string): ScratchFolder {
  let root = "";
  let counter = 0;
  beforeAll(async () => {
    root = await tempDir(prefix);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return { fresh: (name = "case") => path.join(root, `${name}${counter++}`) };
}

/** `tunix-rt verify <args>` in `cwd`, with its standard output split into lines. */
export async function runVerify(cwd: string, ...args: string[]): Promise<CliResult & { lines: string[] }> {
  const result = await runCli(["verify", ...args], { cwd });
  return { ...result, lines: result.stdout.split("\n").filter((l) => l !== "") };
}

/** What an interrupted CLI run left behind. */
export interface InterruptedRun {
  /** The exit code (130 when the CLI stopped cleanly). */
  code: number | null;
  /** Its standard error, up to its end. */
  stderr: string;
  /** Whether the moment came and SIGINT was sent. */
  sent: boolean;
}

/**
 * Runs `tunix-rt <args>` and presses Ctrl-C once: SIGINT as soon as its standard error so far
 * satisfies `when` (a trial started, a heartbeat printed); resolves when the process ends.
 */
export function interruptCli(
  args: string[],
  { cwd, env = {}, when }: { cwd: string; env?: NodeJS.ProcessEnv; when: (stderr: string) => boolean },
): Promise<InterruptedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let sent = false;
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (!sent && when(stderr)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    child.stdout.resume();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr, sent }));
  });
}

/** The JSON lines of a file (trials.jsonl, eval_rows.jsonl), blank lines skipped. */
// biome-ignore lint/suspicious/noExplicitAny: tests read records of many shapes.
export async function readJsonl(file: string): Promise<any[]> {
  return (await readFile(file, "utf8"))
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
