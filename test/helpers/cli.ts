import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
