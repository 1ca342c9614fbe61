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

/** Workflow commands a string from evidence tries to start: each would be a forged line of the log. */
export const forgedCommands =
  "x\n::warning::forged by evidence\n::add-mask::hunter2\n::stop-commands::off\r::error::forged";

/** Markdown and HTML that would render as an image, a link, a mention and a tag. */
export const markdownPayload =
  "![pixel](https://evil.example/p.png) [click](https://evil.example) @org/team <img src=x> www.evil.example";

/**
 * Writes the hostile folder into a reference repository: the findings of the attack on the
 * pull-request check at once, each in the file a fork controls. Names with forged workflow
 * commands (a trial id, a dirty tree's file list, an evalset's file name), Markdown in a
 * trial id, a YAML billion laughs as the promoted config, JSON nested 100,000 deep, a key
 * given twice, 100,000 rows of one id, and a link to /dev/zero as the log.
 */
export async function writeHostileFolder(repo: string): Promise<void> {
  const { rm, symlink } = await import("node:fs/promises");
  await editJsonl(file(repo, "trials.jsonl"), (t) => ({
    ...t,
    trial_id: t.trial_id === "t0000" ? `t0000${forgedCommands}` : t.trial_id,
    worktree: { dirty: true, changed: 1, files: [forgedCommands], diff_sha256: "a".repeat(64) },
  }));
  const evalset = `training/e${forgedCommands}.jsonl`;
  await writeFile(path.join(repo, evalset), "{not json\n");
  await editJson(file(repo, "eval_summary.json"), (s) => {
    s.eval_set = evalset;
  });
  const best = (await readFile(file(repo, "best_params.json"), "utf8")).replace(
    /"trial_id": "([^"]*)",/,
    `"trial_id": ${JSON.stringify(markdownPayload)},\n  "trial_id": "$1",`,
  );
  await writeFile(file(repo, "best_params.json"), best);
  const lol = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const next = String.fromCharCode(97 + i);
    lol.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  await writeFile(path.join(repo, "training/configs/example_v1_best.yaml"), `${lol.join("\n")}\n`);
  const manifest = await readFile(file(repo, "run_manifest.json"), "utf8");
  await writeFile(
    file(repo, "run_manifest.json"),
    manifest.replace(/\}\s*$/, `, "deep": ${"[".repeat(100_000)}${"]".repeat(100_000)}}\n`),
  );
  const row = (await readFile(file(repo, "eval_rows.jsonl"), "utf8")).split("\n")[0] as string;
  await writeFile(file(repo, "eval_rows.jsonl"), `${row}\n`.repeat(100_000));
  await rm(file(repo, "kaggle_output_log.txt"));
  await symlink("/dev/zero", file(repo, "kaggle_output_log.txt"));
}
