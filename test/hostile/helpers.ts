/**
 * Hostile evidence for the tests of test/hostile: a scratch repository holding the reference
 * submission's evidence (submission_runs/example_v1, its promoted config, sweep config and
 * evalset), edits to it, and the CLI run with a time limit, so a hang is a failed test rather
 * than a stuck suite.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { cliBin, tempDir } from "../helpers/cli.js";
import { gitCommitAll, unpackReference } from "../helpers/example-repo.js";

/** The evidence folder of the reference run, relative to its repository. */
export const evidence = "submission_runs/example_v1";

/** A scratch repository holding the reference evidence; `git` commits it. */
export async function referenceRepo(prefix = "tunix-rt-hostile-", { git = false } = {}): Promise<string> {
  const dir = await tempDir(prefix);
  await unpackReference(dir);
  if (git) await gitCommitAll(dir);
  return dir;
}

/** Rewrites a JSON file of the evidence through `edit`. */
export async function editJson(file: string, edit: (doc: Record<string, unknown>) => void): Promise<void> {
  const doc = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  edit(doc);
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
}

/** Rewrites each line of a JSONL file of the evidence through `edit`. */
export async function editJsonl(
  file: string,
  edit: (row: Record<string, unknown>, index: number) => Record<string, unknown>,
): Promise<void> {
  const lines = (await readFile(file, "utf8")).split("\n").filter(Boolean);
  await writeFile(file, lines.map((l, i) => `${JSON.stringify(edit(JSON.parse(l), i))}\n`).join(""));
}

/** What a time-limited run left: as runProcess, and whether it was killed at the limit. */
export interface LimitedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs `tunix-rt <args>` in `cwd`, killed after `limitMs`: a hang shows as `timedOut`. Output
 * is kept to its first 4 MiB (a run that prints without end cannot fill the test's memory).
 */
export function runCliWithin(
  args: string[],
  { cwd, limitMs = 20_000, env = {} }: { cwd: string; limitMs?: number; env?: NodeJS.ProcessEnv },
): Promise<LimitedRun> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cliBin, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const keep = (text: string, more: string) => (text.length > 4 * 1024 ** 2 ? text : text + more);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout = keep(stdout, d);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr = keep(stderr, d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limitMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/** The lines of a text. */
export const linesOf = (text: string) => text.split(/\r?\n/);

/** Where evidence files lie in a reference repository. */
export const file = (repo: string, name: string) => path.join(repo, evidence, name);
