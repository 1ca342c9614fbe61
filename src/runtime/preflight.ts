import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { type SweepOverrides, withOverrides } from "../core/config.js";
import type { Problem } from "../core/errors.js";
import { planTrials, previewSweep, type SweepPreview } from "../core/plan.js";
import { looksSecret, redact, secretValuesOf } from "../core/redact.js";
import type { PlannedTrial } from "../core/types.js";
import type { LoadedConfig } from "./config-file.js";
import { readEvalset } from "./evalset.js";
import { trialArgv, trialEnv } from "./trial.js";

/** What the checks before a sweep found, and the first trial as it would run. */
export interface PreflightReport {
  problems: Problem[];
  /** What may be wrong but need not be (a path in the argv that does not exist yet). */
  notes: string[];
  /** Where the trainer program was found. */
  program: string | null;
  evalsetItems: number | null;
  first: { trial: PlannedTrial; argv: string[]; env: Record<string, string> } | null;
  /** With `parallel`: the trials the sweep plans before any result, and what follows. */
  preview?: SweepPreview;
}

/** Finds a program as spawn would: a path (relative to cwd) or a name on PATH. */
export async function findProgram(
  program: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ path: string } | { error: string }> {
  const candidates = program.includes("/")
    ? [path.resolve(cwd, program)]
    : (env.PATH ?? "")
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, program));
  let notExecutable: string | undefined;
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => null);
    if (!info?.isFile()) continue;
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return { path: candidate };
    notExecutable ??= candidate;
  }
  if (notExecutable)
    return { error: `${notExecutable} is not executable (chmod +x, or run it through its interpreter)` };
  return {
    error: program.includes("/") ? `${program} does not exist` : `${JSON.stringify(program)} is not on PATH`,
  };
}

/**
 * The checks worth making before any GPU time is spent: the config (already loaded), every
 * placeholder resolves for a real planned trial, the trainer program exists and is
 * executable, the evalset is readable and valid. Secrets in the shown env are masked.
 */
export async function preflight(
  loaded: LoadedConfig,
  {
    cwd,
    env,
    overrides,
    parallel,
  }: { cwd: string; env: NodeJS.ProcessEnv; overrides?: SweepOverrides; parallel?: number },
): Promise<PreflightReport> {
  const { file } = loaded;
  const config = withOverrides(loaded.config, overrides);
  const problems: Problem[] = [];
  const notes: string[] = [];
  let program: string | null = null;
  let evalsetItems: number | null = null;
  const trainer = config.trainer;
  if (!trainer)
    problems.push({
      file,
      path: "trainer",
      message: "missing; a sweep runs trials and needs trainer.command",
    });
  else {
    const found = await findProgram(trainer.command[0] ?? "", cwd, env);
    if ("error" in found) problems.push({ file, path: "trainer.command.0", message: found.error });
    else program = found.path;
    await checkArgvFiles(trainer.command, { cwd, file, problems, notes });
  }
  if (config.evalset) {
    try {
      evalsetItems = (await readEvalset(path.resolve(cwd, config.evalset), config.evalset)).length;
    } catch (error) {
      problems.push({
        file,
        path: "evalset",
        message: `${config.evalset}: ${(error as Error).message.replace(`${config.evalset}: `, "")}`,
      });
    }
  }
  let first: PreflightReport["first"] = null;
  const trial = planTrials({ config, sweepId: "00000000-0000-4000-8000-000000000000", count: 1 }).trials[0];
  if (trial && trainer) {
    const outDir = path.resolve(cwd, "runs", config.run_version, "trials", trial.trial_id);
    try {
      const secrets = secretValuesOf(env);
      const contractEnv = trialEnv(config, trial, outDir, cwd);
      const masked = Object.fromEntries(
        Object.entries(contractEnv).map(([k, v]) => [k, looksSecret(k) ? "***" : redact(v, secrets)]),
      );
      first = {
        trial,
        argv: trialArgv(config, trial, outDir, cwd).map((a) => redact(a, secrets)),
        env: masked,
      };
    } catch (error) {
      problems.push({ file, path: "trainer", message: (error as Error).message });
    }
  }
  const preview =
    parallel === undefined
      ? undefined
      : previewSweep(config, "00000000-0000-4000-8000-000000000000", parallel);
  return { problems, notes, program, evalsetItems, first, ...(preview ? { preview } : {}) };
}

/** Programs that run a script named by their first argument that looks like a path. */
const interpreters =
  /^(?:python(?:\d+(?:\.\d+)*)?|pypy3?|node|deno|bun|bash|sh|zsh|ruby|perl|Rscript|julia|uv|poetry|torchrun|accelerate|deepspeed)$/;
/** File extensions of scripts: a missing one is an error. */
const scriptExtension = /\.(?:py|mjs|cjs|js|ts|sh|bash|rb|pl|R|jl)$/;
/** File extensions of inputs a trainer reads: a missing one is worth a note. */
const inputExtension = /\.(?:json|jsonl|ya?ml|toml|cfg|ini|txt|csv|tsv|parquet)$/;

/**
 * Checks the files a trainer's argv names before GPU time is spent: the script after an
 * interpreter (`python train.py`, `torchrun --nproc_per_node 8 train.py`, `uv run
 * train.py`; `python -m pkg` names none) must exist, relative to the repository root; any
 * other argument without placeholders that names a repository file of an input kind (a
 * config, a dataset) and does not exist gets a note, since the trainer might write it.
 */
async function checkArgvFiles(
  argv: readonly string[],
  { cwd, file, problems, notes }: { cwd: string; file: string; problems: Problem[]; notes: string[] },
): Promise<void> {
  const isFile = (p: string) =>
    stat(path.resolve(cwd, p)).then(
      (s) => s.isFile(),
      () => false,
    );
  const literal = (arg: string) => !/[{}]/.test(arg);
  let script = -1;
  if (interpreters.test(path.basename(argv[0] ?? ""))) {
    for (let i = 1; i < argv.length; i++) {
      const arg = argv[i] as string;
      if (arg === "-m" || arg === "-c" || arg === "-e") break; // a module or inline code: no script
      if (arg.startsWith("-")) continue;
      if (literal(arg) && (scriptExtension.test(arg) || arg.includes("/"))) {
        script = i;
        break;
      }
    }
  }
  if (script > 0) {
    const arg = argv[script] as string;
    if (!(await isFile(arg))) {
      problems.push({
        file,
        path: `trainer.command.${script}`,
        message: `${arg} does not exist (the script ${path.basename(argv[0] ?? "")} runs; paths are relative to the repository root ${cwd})`,
      });
    }
  }
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (i === script || !literal(arg) || arg.startsWith("-") || !inputExtension.test(arg)) continue;
    const inside = !path.isAbsolute(arg) && !arg.split("/").includes("..");
    if (inside && !(await isFile(arg)))
      notes.push(
        `${file}: trainer.command.${i}: ${arg} does not exist in the repository (fine if the trainer writes it)`,
      );
  }
}
