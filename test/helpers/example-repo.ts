/** A scratch repository holding the example trainer, its evalset and its sweep config. */
import { execFile } from "node:child_process";
import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { readZipFile } from "../../src/runtime/zip-read.js";
import { repoRoot, tempDir } from "./cli.js";

const run = promisify(execFile);

/** How to shape the scratch repository. */
export interface ExampleRepoOptions {
  /** `git init` it and commit everything (default false: a plain folder). */
  git?: boolean;
  /**
   * Also write the example's sweep config as `training/sweep.yaml` (a user's own config),
   * edited by this function when given.
   */
  sweepYaml?: true | ((text: string) => string);
}

/**
 * A fresh folder with `training/example/` (trainer and sweep.yaml) and the example evalset,
 * as a user's repository would hold them. Returns its absolute path.
 */
export async function exampleRepo(options: ExampleRepoOptions = {}): Promise<string> {
  const dir = await tempDir("tunix-rt-repo-");
  await cp(path.join(repoRoot, "training/example"), path.join(dir, "training/example"), { recursive: true });
  await mkdir(path.join(dir, "training/evalsets"), { recursive: true });
  await cp(
    path.join(repoRoot, "training/evalsets/example_eval.jsonl"),
    path.join(dir, "training/evalsets/example_eval.jsonl"),
  );
  if (options.sweepYaml) {
    const text = await readFile(path.join(dir, "training/example/sweep.yaml"), "utf8");
    const edit = options.sweepYaml === true ? (t: string) => t : options.sweepYaml;
    await writeFile(path.join(dir, "training/sweep.yaml"), edit(text));
  }
  if (options.git) await gitCommitAll(dir);
  return dir;
}

/** `git init` (when needed) and a commit of everything in `dir`, as a test user. */
export async function gitCommitAll(dir: string, message = "scratch"): Promise<void> {
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir });
  await git("init", "-q", "-b", "main");
  await git("add", "-A");
  await git("commit", "-q", "--allow-empty", "-m", message);
}

/** The example's reference submission zip (training/example/reference/, one zip). */
export async function referenceZip(): Promise<string> {
  const dir = path.join(repoRoot, "training/example/reference");
  const zips = (await readdir(dir)).filter((f) => f.endsWith(".zip"));
  if (zips.length !== 1) throw new Error(`${dir}: expected one reference zip, found ${zips.length}`);
  return path.join(dir, zips[0] as string);
}

/**
 * Writes the reference submission's members under their repository paths into `dir` (the
 * evidence in submission_runs/example_v1/, its promoted config, sweep config and evalset):
 * an evidence folder as `npm run sweep` leaves it.
 */
export async function unpackReference(dir: string): Promise<void> {
  for (const member of await readZipFile(await referenceZip())) {
    if (member.kind !== "file" || member.name === "MANIFEST.json" || member.name === "README_SUBMISSION.md")
      continue;
    await mkdir(path.dirname(path.join(dir, member.name)), { recursive: true });
    await writeFile(path.join(dir, member.name), member.data);
  }
}
