/**
 * The promoted config run_manifest.json config_path names: there, and this evidence's (its
 * run_version, sweep, best trial, params and budget: `checkPromotedConfig`). Its problems are
 * the repository file's; not given, a note says it was not checked.
 */
import { quote } from "../../errors.js";
import { append } from "../../limits.js";
import { checkPromotedConfig } from "../promoted-config.js";
import type { BestParams } from "../schemas.js";
import { recommended } from "./best-trial.js";
import type { NamedFile, VerifyContext } from "./context.js";

/** The promoted config run_manifest.json names, as found. Named but not there is a problem. */
export function usePromotedConfig(ctx: VerifyContext, found: NamedFile): void {
  ctx.promotedGiven = true;
  if (ctx.namedButAbsent("config_path", "promoted config", found)) return;
  ctx.promoted = { shownAs: found.shownAs, text: found.text };
}

/** The promoted config must be this evidence's: its run_version, sweep, best trial, params and budget. */
export function checkPromoted(ctx: VerifyContext): void {
  const promoted = ctx.promoted;
  if (!promoted) return;
  const manifest = ctx.manifest;
  const best = ctx.best;
  // The best trial as trials.jsonl decides it; else as the files name it.
  const winner = ctx.unusable.has("trials.jsonl") ? undefined : recommended(ctx)?.trial;
  const trialId = winner
    ? { value: winner.trial_id, from: "the best completed trial in trials.jsonl" }
    : best && best.trial_id !== null
      ? { value: best.trial_id, from: "best_params.json trial_id" }
      : manifest
        ? { value: manifest.trial_id, from: "run_manifest.json trial_id" }
        : undefined;
  const problems = checkPromotedConfig(promoted.text, promoted.shownAs, {
    runVersion: ctx.options.runVersion,
    ...(manifest ? { tuningJobId: manifest.tuning_job_id } : {}),
    ...(trialId ? { trialId } : {}),
    ...(best
      ? { best: { params: best.params, budget: (best as BestParams & { budget?: unknown }).budget } }
      : {}),
  });
  append(ctx.repoProblems, problems);
}

/** Once every file is in: a note when the manifest names a promoted config that was not given. */
export function notePromotedUnchecked(ctx: VerifyContext): void {
  if (!ctx.promotedGiven && ctx.manifest) {
    ctx.notes.push(
      `the promoted config ${quote(ctx.manifest.config_path)} (run_manifest.json config_path) was not checked: it was not given`,
    );
  }
}
