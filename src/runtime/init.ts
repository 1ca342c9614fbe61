/**
 * `tunix-rt init`: the user's workflows written into their repository, checked against what
 * the installed tunix-rt writes (`--check`), or written anew with their recorded options
 * (`--upgrade`). Plan first (every file's text and what stands in its place), then write.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { formatProblem, InputError, type Problem } from "../core/errors.js";
import { matrixLimitProblem, wavesNeeded } from "../core/search/fidelity.js";
import { githubMatrixLimit } from "../core/search/plan.js";
import type { ActionSource } from "../core/workflows/parts.js";
import {
  type InitOptions,
  readHeader,
  type UserWorkflowFile,
  userWorkflows,
} from "../core/workflows/user.js";
import type { BuildInfo } from "./build-info.js";
import { loadConfig } from "./config-file.js";
import { describeFsError, writeFileAtomic } from "./files.js";

/** Where the workflows go, relative to the repository root, unless --out says otherwise. */
export const defaultWorkflowDir = ".github/workflows";

/** What stands at a file's place now. */
export type Existing =
  | { kind: "absent" }
  /** A file init wrote, with its recorded options; `unedited` while its recorded hash holds. */
  | { kind: "ours"; text: string; options: InitOptions; unedited: boolean }
  /** A file without a valid options line: not init's, or its header broken. */
  | { kind: "foreign"; text: string; problems: Problem[] };

/** One file of the plan. */
export interface PlannedFile {
  file: UserWorkflowFile;
  /** Its path relative to the repository root. */
  repoPath: string;
  /** What this tunix-rt writes there. */
  text: string;
  existing: Existing;
}

/** The actions' pin: the options' override, else the installed build's commit. */
export function actionPin(options: Pick<InitOptions, "repository" | "commit">, build: BuildInfo) {
  const repository = options.repository ?? build.repository;
  if (!repository) {
    throw new InputError(
      "this tunix-rt build records no repository (package.json repository): pass --repository OWNER/NAME and --commit SHA of the tunix-rt whose actions your workflows should run",
    );
  }
  const commit = options.commit ?? (build.dirty ? null : build.commit);
  if (!commit) {
    throw new InputError(
      `no commit to pin tunix-rt's actions to: ${build.reason ?? "the build records none"}; install a build of a clean commit, or pass --commit <the 40-hex sha of a pushed tunix-rt commit>`,
    );
  }
  return { kind: "pinned", repository, commit, version: build.version } satisfies ActionSource;
}

/**
 * How many wave jobs the sweep workflow needs for the config, from the repository root; an
 * InputError when the config is invalid or a wave of its schedule would exceed one matrix.
 */
export async function wavesForConfig(root: string, config: string): Promise<number> {
  const loaded = await loadConfig(config, { cwd: root, needs: { trainer: true } });
  const limit = matrixLimitProblem(loaded.config, githubMatrixLimit);
  if (limit) throw new InputError(`${config}: ${limit}`);
  return wavesNeeded(loaded.config);
}

/** What is at a path now. */
export async function readExisting(file: string, shownAs: string): Promise<Existing> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
    throw new InputError(`${shownAs}: cannot read: ${describeFsError(error)}`);
  }
  const header = readHeader(text, shownAs);
  return header.ok
    ? { kind: "ours", text, options: header.options, unedited: header.unedited }
    : { kind: "foreign", text, problems: header.problems };
}

/** The three files for these options, each beside what stands at its place now. */
export async function planFiles(
  root: string,
  dir: string,
  options: InitOptions,
  build: BuildInfo,
  only?: readonly UserWorkflowFile[],
): Promise<PlannedFile[]> {
  const actions = actionPin(options, build);
  const waves = await wavesForConfig(root, options.config);
  const planned: PlannedFile[] = [];
  for (const { file, text } of userWorkflows(options, { actions, waves })) {
    if (only && !only.includes(file)) continue;
    const repoPath = path.posix.join(dir.split(path.sep).join("/"), file);
    planned.push({
      file,
      repoPath,
      text,
      existing: await readExisting(path.join(root, dir, file), repoPath),
    });
  }
  return planned;
}

/**
 * Why a planned file may not be written without --force: a hand edit (its recorded hash no
 * longer holds) or a file init did not write. Undefined when it may.
 */
export function refusal(planned: PlannedFile): string | undefined {
  const existing = planned.existing;
  if (existing.kind === "absent" || (existing.kind === "ours" && existing.unedited)) return undefined;
  if (existing.text === planned.text) return undefined;
  return existing.kind === "ours"
    ? `${planned.repoPath}: edited by hand since tunix-rt init wrote it (its recorded sha256 no longer matches); \`tunix-rt init --check\` shows how, --force writes over it`
    : `${planned.repoPath}: ${existing.problems[0] ? formatProblem(existing.problems[0]).replace(`${planned.repoPath}: `, "") : "not written by tunix-rt init"}; --force writes over it`;
}

/** Writes every planned file that changes; returns each file and whether it changed. */
export async function writeFiles(
  root: string,
  files: readonly PlannedFile[],
): Promise<Array<{ repoPath: string; changed: boolean }>> {
  const done: Array<{ repoPath: string; changed: boolean }> = [];
  for (const planned of files) {
    const existing = planned.existing;
    const same = existing.kind !== "absent" && existing.text === planned.text;
    if (!same) await writeFileAtomic(path.join(root, planned.repoPath), planned.text);
    done.push({ repoPath: planned.repoPath, changed: !same });
  }
  return done;
}

/** A unified diff from what stands at a file's place to what this tunix-rt writes. */
export function diffOf(planned: PlannedFile): string {
  const before = planned.existing.kind === "absent" ? "" : planned.existing.text;
  return createTwoFilesPatch(
    `a/${planned.repoPath}`,
    `b/${planned.repoPath}`,
    before,
    planned.text,
    "in the repository",
    "as the installed tunix-rt writes it",
    { context: 3 },
  );
}
