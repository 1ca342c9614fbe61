/**
 * The trusted rule's own checks (the pull-request check's): a repository file the evidence
 * names whose copy beside it differs from the trusted checkout's, and the sweep config,
 * which the manifest must name, the trusted checkout must hold, and best_params.json must
 * record (but for what a run may override). The evalset's part is in evalset.ts.
 */
import { quote } from "../../errors.js";
import { sameJson } from "../../json.js";
import type { NamedFile, TrustedFiles, VerifyContext } from "./context.js";

/** The sweep config keys a run may set apart from the file: `--run-version`, `--seed`, `--sampler`, `--num-samples`. */
const runOverrides = new Set(["run_version", "seed", "sampler", "num_samples"]);

/** Differences of a sweep config from the trusted one listed one by one; beyond, counted. */
const maxConfigDifferences = 5;

/**
 * A repository file the evidence names (the evalset, the sweep config) whose copy beside the
 * evidence (`theirs`) is not the trusted checkout's (`truth`). The evidence was verified
 * against the trusted copy; the change itself is a problem, named on the file, so evidence
 * can never pass on a copy of its own making.
 */
export function checkTrustedCopy(
  ctx: VerifyContext,
  truth: NamedFile,
  theirs: NamedFile,
  what: string,
): void {
  if (!("text" in truth && "text" in theirs) || truth.text === theirs.text) return;
  const trusted = ctx.trusted?.shownAs ?? "the trusted checkout";
  ctx.repoProblems.push({
    file: theirs.shownAs,
    path: "",
    message: `differs from its copy in ${trusted}: the evidence is verified against that copy, and a change to the ${what} needs a pull request of its own, reviewed and merged before evidence made with it`,
  });
}

/**
 * The sweep config that run_manifest.json sweep_config_path names, as the trusted checkout
 * has it (loaded and validated), or why it is not at hand.
 */
export function useTrustedSweepConfig(ctx: VerifyContext, found: ReturnType<TrustedFiles["config"]>): void {
  ctx.trustedConfigGiven = true;
  if (ctx.namedButAbsent("sweep_config_path", "sweep config", found)) return;
  ctx.trustedConfig = found.config;
}

/**
 * The sweep config: named by the manifest, found in the trusted checkout, and the one
 * best_params.json records (but for a run's overrides). The recommendation is recomputed from
 * best_params.json's copy, so it must be the trusted one.
 */
export function checkTrustedConfig(ctx: VerifyContext): void {
  const trusted = ctx.trusted;
  if (!trusted) return;
  const manifest = ctx.manifest;
  if (manifest && manifest.sweep_config_path === undefined && !ctx.trustedConfigGiven) {
    ctx.add({
      file: "run_manifest.json",
      path: "sweep_config_path",
      message: `missing; under the trusted rule the sweep config the evidence came from is checked against the one in ${trusted.shownAs}, so the manifest must name it`,
    });
  }
  const config = ctx.trustedConfig;
  const best = ctx.best;
  if (!config || !best) return;
  const plain = (value: unknown) =>
    JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v)) ?? "null") as Record<
      string,
      unknown
    >;
  const expected = plain(config);
  const claimed = plain(best.sweep_config);
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(claimed)])].filter(
    (key) => !runOverrides.has(key),
  );
  const differing = keys.filter((key) => !sameJson(claimed[key], expected[key]));
  for (const key of differing.slice(0, maxConfigDifferences)) {
    ctx.add({
      file: "best_params.json",
      path: `sweep_config.${key}`,
      message: `got ${quote(claimed[key])}; ${manifest?.sweep_config_path ?? "the sweep config"} in ${trusted.shownAs} has ${quote(expected[key])}`,
    });
  }
  if (differing.length > maxConfigDifferences) {
    ctx.add({
      file: "best_params.json",
      path: "sweep_config",
      message: `and ${differing.length - maxConfigDifferences} more keys differ from the sweep config in ${trusted.shownAs} (not listed)`,
    });
  }
}
