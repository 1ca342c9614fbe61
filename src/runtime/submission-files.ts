/**
 * Gathers what goes into a submission zip: every file of the evidence folder, the promoted
 * config, the sweep config and the evalset, read into memory, behind two gates:
 *
 * - symlinks: a link is followed (its target is stored as a plain file) only when the target
 *   stays inside the repository (the working directory); one that leaves it is refused, so a
 *   link to `~/.ssh` or `/etc` never ends up in a public release asset. A run dir given
 *   outside the repository (`/tmp/run`) may hold links within itself.
 * - secrets: a member whose text looks like a credential is refused.
 */

import type { Dirent } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { InputError, type Problem } from "../core/errors.js";
import { promotedConfigPath } from "../core/evidence/aggregate.js";
import {
  type ArchiveInput,
  evidenceRole,
  findSecrets,
  type SubmissionFacts,
} from "../core/evidence/archive.js";
import { isObject } from "../core/json.js";
import { describeFsError } from "./files.js";
import { isInside } from "./root.js";

/** Where to gather from. */
export interface GatherOptions {
  /** The repository root (the working directory); repository paths resolve against it. */
  cwd: string;
  /** The evidence folder, as given (relative to cwd or absolute). */
  runDir: string;
  /** The sweep config to include (`--config`); default: run_manifest.json's sweep_config_path. */
  configFile?: string;
}

/** What was gathered: the members (evidence first), the facts for the README, and where the evidence goes. */
export interface Gathered {
  runVersion: string;
  /** `submission_runs/<run_version>`: the evidence's folder inside the zip. */
  zipRunDir: string;
  files: ArchiveInput[];
  facts: SubmissionFacts;
}

/** No submission needs more: past this, reading stops (far above any sensible --max-size). */
const maxTotalBytes = 512 * 1024 ** 2;

/** Reads every member; throws InputError (exit 2) for a refused symlink, a secret, a missing named file. */
export async function gatherSubmission(options: GatherOptions): Promise<Gathered> {
  const gatherer = new Gatherer(options.cwd);
  await gatherer.init();
  const runDirAbs = path.resolve(options.cwd, options.runDir);
  const runVersion = path.basename(runDirAbs);
  const zipRunDir = `submission_runs/${runVersion}`;
  await gatherer.evidence(runDirAbs, options.runDir, zipRunDir);

  const manifest = gatherer.json(`${zipRunDir}/run_manifest.json`);
  const summary = gatherer.json(`${zipRunDir}/eval_summary.json`);
  const best = gatherer.json(`${zipRunDir}/best_params.json`);
  const leftOut: string[] = [];

  // The promoted config: the one run_manifest.json names, else the default location.
  const configPath = stringField(manifest, "config_path");
  if (configPath !== undefined)
    await gatherer.repoFile(configPath, "the promoted config (run_manifest.json config_path)", true);
  else if (!(await gatherer.repoFile(promotedConfigPath(runVersion), "the promoted config", false))) {
    leftOut.push(
      `the promoted config: run_manifest.json has no config_path and ${promotedConfigPath(runVersion)} does not exist`,
    );
  }
  const sweepConfig = options.configFile ?? stringField(manifest, "sweep_config_path");
  if (sweepConfig !== undefined) await gatherer.repoFile(sweepConfig, "the sweep config that ran", true);
  else leftOut.push("the sweep config: pass --config, or record sweep_config_path in run_manifest.json");
  const evalSet = stringField(summary, "eval_set");
  if (
    evalSet !== undefined &&
    !(await gatherer.repoFile(evalSet, "the evalset (eval_summary.json eval_set)", false))
  ) {
    leftOut.push(`the evalset ${evalSet}: not found in the repository`);
  }

  gatherer.scanForSecrets();
  const rows = gatherer.text(`${zipRunDir}/eval_rows.jsonl`);
  const facts: SubmissionFacts = {
    ...(stringField(manifest, "model_id") === undefined
      ? {}
      : { modelId: stringField(manifest, "model_id") }),
    ...(typeof summary?.primary_score === "number" ? { primaryScore: summary.primary_score } : {}),
    ...(typeof best?.trial_id === "string" ? { trialId: best.trial_id } : {}),
    ...(typeof best?.tuning_job_id === "string" ? { tuningJobId: best.tuning_job_id } : {}),
    ...(isObject(best?.params) ? { params: best.params } : {}),
    ...(evalSet === undefined ? {} : { evalSet }),
    ...(rows === undefined ? {} : { rows: rows.split("\n").filter((l) => l.trim() !== "").length }),
    leftOut,
  };
  return { runVersion, zipRunDir, files: gatherer.files, facts };
}

class Gatherer {
  readonly files: ArchiveInput[] = [];
  readonly #shown = new Map<string, string>();
  #root = "";
  #total = 0;

  constructor(readonly cwd: string) {}

  async init(): Promise<void> {
    this.#root = await realpath(this.cwd);
  }

  /** Every file under the run dir (recursively; dotfiles such as locks and temp files are left out). */
  async evidence(runDirAbs: string, shownDir: string, zipDir: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(runDirAbs);
      if (!(await stat(real)).isDirectory())
        throw new InputError(`${shownDir}: is not a folder; expected the evidence folder`);
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(`${shownDir}: cannot read the evidence folder: ${describeFsError(error)}`);
    }
    // A run dir inside the repository must resolve inside it; one given outside it is its own root.
    const roots = isInside(path.resolve(this.cwd), runDirAbs) ? [this.#root] : [this.#root, real];
    if (!roots.some((r) => isInside(r, real))) throw escaping(shownDir, real);
    await this.#walk(runDirAbs, shownDir, zipDir, roots, new Set([real]));
  }

  async #walk(
    dir: string,
    shownDir: string,
    zipDir: string,
    roots: string[],
    visited: Set<string>,
  ): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new InputError(`${shownDir}: cannot list: ${describeFsError(error)}`);
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith(".")) continue;
      const abs = path.join(dir, entry.name);
      const shown = path.join(shownDir, entry.name);
      const name = `${zipDir}/${entry.name}`;
      const real = await this.#resolve(abs, shown, roots);
      const info = await stat(real);
      if (info.isDirectory()) {
        if (visited.has(real)) continue; // a link back up the tree: already packaged
        await this.#walk(abs, shown, name, roots, new Set([...visited, real]));
      } else if (info.isFile()) {
        await this.#add(real, shown, name, evidenceRole(entry.name));
      } else {
        throw new InputError(`${shown}: is neither a file nor a folder; refusing to package it`);
      }
    }
  }

  /** A repository file: relative to the repository and inside it. Returns false when absent and not required. */
  async repoFile(file: string, role: string, required: boolean): Promise<boolean> {
    const abs = path.resolve(this.cwd, file);
    const rel = path.relative(this.cwd, abs);
    if (rel === "" || !isInside(this.cwd, abs)) {
      throw new InputError(`${file}: is outside the repository; ${role} must be a repository path`);
    }
    const name = rel.split(path.sep).join("/");
    if (this.#shown.has(name)) return true; // already in (an evidence file, or the same config twice)
    try {
      await stat(abs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && !required) return false;
      throw new InputError(`${file}: cannot read ${role}: ${describeFsError(error)}`);
    }
    const real = await this.#resolve(abs, file, [this.#root]);
    if (!(await stat(real)).isFile()) throw new InputError(`${file}: is not a file; expected ${role}`);
    await this.#add(real, file, name, role);
    return true;
  }

  /** The parsed JSON of a gathered member, or undefined (the verification reports what is wrong with it). */
  json(name: string): Record<string, unknown> | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text.replace(/^\uFEFF/, ""));
      return isObject(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  text(name: string): string | undefined {
    const file = this.files.find((f) => f.name === name);
    return file && Buffer.from(file.data).toString("utf8");
  }

  scanForSecrets(): void {
    const problems: Problem[] = [];
    for (const file of this.files) {
      for (const finding of findSecrets(Buffer.from(file.data).toString("utf8"))) {
        problems.push({
          file: this.#shown.get(file.name) ?? file.name,
          line: finding.line,
          path: "",
          message: `looks like a ${finding.kind} (${finding.preview}); refusing to package a secret (remove it, and revoke it if it was ever pushed)`,
        });
      }
    }
    if (problems.length) throw InputError.fromProblems(problems);
  }

  async #resolve(abs: string, shown: string, roots: readonly string[]): Promise<string> {
    let real: string;
    try {
      real = await realpath(abs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(
        `${shown}: ${code === "ENOENT" ? "is a symbolic link to nothing" : `cannot read: ${describeFsError(error)}`}`,
      );
    }
    if (!roots.some((root) => isInside(root, real))) throw escaping(shown, real);
    return real;
  }

  async #add(real: string, shown: string, name: string, role: string | undefined): Promise<void> {
    let data: Buffer;
    try {
      data = await readFile(real);
    } catch (error) {
      throw new InputError(`${shown}: cannot read: ${describeFsError(error)}`);
    }
    this.#total += data.length;
    if (this.#total > maxTotalBytes)
      throw new InputError(
        `${shown}: the members add up to more than ${maxTotalBytes} bytes; far too large to package`,
      );
    this.files.push({ name, data, ...(role === undefined ? {} : { role }) });
    this.#shown.set(name, shown);
  }
}

function escaping(shown: string, real: string): InputError {
  return new InputError(
    `${shown}: is a symbolic link (or lies under one) to ${real}, outside the repository; refusing to package it`,
  );
}

function stringField(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}
