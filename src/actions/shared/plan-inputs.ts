/**
 * What a later job reads back from a plan job's outputs, checked the same way by every step
 * that gets it: a run_version override, and a list of planned trials (`{include: [...]}`,
 * the matrix or the `planned` output). Each planned trial is checked as a trial step checks
 * its matrix entry.
 */
import type { SweepConfig } from "../../core/config/config.js";
import { validateConfig } from "../../core/config/config.js";
import { parsePlannedTrial } from "../../core/config/trial-input.js";
import { InputError, quote } from "../../core/errors.js";
import type { PlannedTrial } from "../../core/types.js";

/** The config with the plan's run_version when one overrides it, checked by the config's own rule. */
export function withRunVersion(config: SweepConfig, runVersion: string | undefined): SweepConfig {
  if (runVersion === undefined) return config;
  const checked = validateConfig({ ...config, run_version: runVersion }, "with.run-version");
  const problem = checked.ok ? undefined : checked.problems.find((p) => p.path === "run_version");
  if (problem) throw new InputError(`with.run-version: ${problem.message}`);
  return { ...config, run_version: runVersion };
}

/** How a list of planned trials arrives. */
export interface PlannedListInput {
  /** The input's name (`planned`, `matrix`). */
  input: string;
  /** What the input should hold, for the error: `the plan's matrix output`. */
  expected: string;
  /** Whether a bare JSON array is accepted besides `{include: [...]}`. */
  bareList?: boolean;
}

/** The planned trials of an input holding `{include: [...]}`; each entry checked against the config. */
export function parsePlannedList(
  value: unknown,
  config: SweepConfig,
  { input, expected, bareList = false }: PlannedListInput,
): PlannedTrial[] {
  const list =
    bareList && Array.isArray(value) ? value : (value as { include?: unknown } | null | undefined)?.include;
  if (!Array.isArray(list)) {
    throw new InputError(`with.${input}: got ${quote(value)}; expected ${expected}, {"include": [...]}`);
  }
  return list.map((entry, index) => {
    const parsed = parsePlannedTrial(entry, config, `with.${input}.include[${index}]`);
    if (!parsed.ok) throw InputError.fromProblems(parsed.problems);
    return parsed.trial;
  });
}
