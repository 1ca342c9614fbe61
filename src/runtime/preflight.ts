import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import type { Problem } from "../core/errors.js";
import { planTrials } from "../core/plan.js";
import { looksSecret, redact, secretValuesOf } from "../core/redact.js";
import type { PlannedTrial } from "../core/types.js";
import type { LoadedConfig } from "./config-file.js";
import { readEvalset } from "./evalset.js";
import { trialArgv, trialEnv } from "./trial.js";

/** What the checks before a sweep found, and the first trial as it would run. */
export interface PreflightReport {
  problems: Problem[];
  /** Where the trainer program was found. */
  program: string | null;
  evalsetItems: number | null;
  first: { trial: PlannedTrial; argv: string[]; env: Record<string, string> } | null;
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
  { cwd, env }: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<PreflightReport> {
  const { config, file } = loaded;
  const problems: Problem[] = [];
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
  return { problems, program, evalsetItems, first };
}
