import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { type SweepOverrides, withOverrides } from "../core/config/config.js";
import type { Problem } from "../core/errors.js";
import { looksSecret, redact, secretValuesOf } from "../core/redact.js";
import { planTrials, previewSweep, type SweepPreview } from "../core/search/plan.js";
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
        // The evalset names itself (and its line) at the start of the message.
        message: (error as Error).message.startsWith(config.evalset)
          ? (error as Error).message
          : `${config.evalset}: ${(error as Error).message}`,
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
        argv: trialArgv(config, trial, outDir, cwd, env).map((a) => redact(a, secrets)),
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
/**
 * Launchers: programs whose own options take values (`--nproc_per_node 8`, `--config_file
 * accel/cfg.yaml`, `uv run --project sub/dir`), so only an argument with a script's extension
 * is taken for the script, never a bare path that may be an option's value.
 */
const launchers = /^(?:torchrun|accelerate|deepspeed|uv|poetry)$/;
/** Modules that `python -m` runs as launchers of a script (`python -m torch.distributed.run train.py`). */
const launcherModules =
  /^(?:torch\.distributed\.(?:run|launch)|accelerate\.commands\.(?:launch|accelerate_cli)|deepspeed(?:\.launcher\.runner)?)$/;
/** File extensions of scripts: a missing script is an error. */
const scriptExtension = /\.(?:py|mjs|cjs|js|ts|sh|bash|rb|pl|R|jl)$/;
/** File extensions of inputs a trainer reads: a missing one is worth a note. */
const inputExtension = /\.(?:json|jsonl|ya?ml|toml|cfg|ini|txt|csv|tsv|parquet)$/;
/** A URL (`s3://bucket/x.jsonl`, `hf://…`): not a repository path. */
const url = /^[a-z][a-z0-9+.-]*:\/\//i;

/** An argument without `{placeholders}`: what it names is known before a trial runs. */
const literal = (arg: string) => !/[{}]/.test(arg);

/** A file a trainer's argv names, to check before a sweep: where, what, and how much it matters. */
export interface ArgvFileCheck {
  /** The argv index (`trainer.command.<index>`). */
  index: number;
  /** The path as written (a `--flag=path` argument's value). */
  path: string;
  /**
   * `script`: the script an interpreter or launcher runs, which must exist (an error);
   * `input`: another argument that names a repository file of an input or script kind,
   * which the trainer might write itself (a note).
   */
  kind: "script" | "input";
}

/**
 * The argv index of the script an interpreter or launcher runs, if it names one: the first
 * argument that is not an option and looks like a script (`python train.py`, `torchrun
 * --nproc_per_node 8 train.py`, `uv run train.py`). `python -m <module>` runs a module, not a
 * script, unless the module is itself a launcher (`python -m torch.distributed.run
 * train.py`): then the script follows the launcher's options. Inline code (`-c`, `-e`) names
 * none. Also returns the indexes of the module names, which are not paths.
 */
function scriptIndex(argv: readonly string[]): { script?: number; modules: number[] } {
  const modules: number[] = [];
  const program = path.basename(argv[0] ?? "");
  if (!interpreters.test(program)) return { modules };
  let launcher = launchers.test(program);
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-c" || arg === "-e") return { modules }; // inline code: no script
    // `-m pkg` or `-mpkg`: python (and torchrun) run a module.
    if (arg === "-m" || /^-m[\w.]/.test(arg)) {
      const name = arg === "-m" ? argv[++i] : arg.slice(2);
      if (arg === "-m") modules.push(i);
      if (name === undefined || !launcherModules.test(name)) return { modules };
      launcher = true; // its options take values: only a script's extension tells the script
      continue;
    }
    if (arg.startsWith("-") || !literal(arg)) continue;
    if (scriptExtension.test(arg) || (!launcher && arg.includes("/") && !inputExtension.test(arg)))
      return { script: i, modules };
  }
  return { modules };
}

/**
 * The files a trainer's argv names, as checks to make before GPU time is spent (plain data;
 * `checkArgvFiles` makes them): the script an interpreter or launcher runs (`scriptIndex`),
 * and every other argument, or `--flag=value` value, without placeholders that names a path
 * inside the repository with an input or script extension (a config, a dataset). A module
 * name (`-m training.train`) and a URL are not paths.
 */
export function planArgvChecks(argv: readonly string[]): ArgvFileCheck[] {
  const { script, modules } = scriptIndex(argv);
  const checks: ArgvFileCheck[] = [];
  if (script !== undefined) checks.push({ index: script, path: argv[script] as string, kind: "script" });
  for (let i = 1; i < argv.length; i++) {
    if (i === script || modules.includes(i)) continue;
    const arg = argv[i] as string;
    // `--data=path/x.jsonl`: the value is checked as a bare path would be.
    const value = arg.startsWith("-") ? (/^--?[^=]+=(.+)$/.exec(arg)?.[1] ?? "") : arg;
    if (!value || !literal(value) || url.test(value)) continue;
    if (!inputExtension.test(value) && !scriptExtension.test(value)) continue;
    if (path.isAbsolute(value) || value.split("/").includes("..")) continue;
    checks.push({ index: i, path: value, kind: "input" });
  }
  return checks;
}

/**
 * Checks the files a trainer's argv names (`planArgvChecks`), relative to the repository
 * root: a missing script is a problem; a missing input a note, since the trainer might
 * write it.
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
  for (const check of planArgvChecks(argv)) {
    if (await isFile(check.path)) continue;
    if (check.kind === "script")
      problems.push({
        file,
        path: `trainer.command.${check.index}`,
        message: `${check.path} does not exist (the script ${path.basename(argv[0] ?? "")} runs; paths are relative to the repository root ${cwd})`,
      });
    else
      notes.push(
        `${file}: trainer.command.${check.index}: ${check.path} does not exist in the repository (fine if the trainer writes it)`,
      );
  }
}
