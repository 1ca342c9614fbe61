/**
 * The best trial: as trials.jsonl decides it, by the rule best_params.json `recommendation`
 * names, recomputed (`recommended`); and the one best_params.json and run_manifest.json name,
 * with its params and score.
 */
import { bestTrial } from "../../best-trial.js";
import { quote } from "../../errors.js";
import { sameJson } from "../../json.js";
import { recommendTrials } from "../../report/leaderboard.js";
import type { TrialRecord } from "../../types.js";
import { recommendationRecord } from "../aggregate.js";
import { type BestParams, type EvidenceFileName, RecommendationSchema } from "../schemas.js";
import { type Recommended, sameScore, type VerifyContext } from "./context.js";

/**
 * The best trial as trials.jsonl decides it, by the rule best_params.json `recommendation`
 * names, recomputed here (`recommendTrials` with the sweep config's space and seed): the
 * trial, why it is the best, and a problem when the recorded recommendation is not what
 * the records give. Evidence without a recommendation (M34's, earlier tunix-rt's) chose the
 * best observed score. Computed once; the recomputed recommendation is kept for the derived
 * files (`recomputed`).
 */
export function recommended(ctx: VerifyContext): Recommended | undefined {
  if (ctx.recommendation !== undefined) return ctx.recommendation;
  const file = "best_params.json";
  const claimed = (ctx.best as (BestParams & { recommendation?: unknown }) | undefined)?.recommendation;
  const observedBest = () => {
    const winner = bestTrial(ctx.trials);
    const atBudget = winner?.budget === undefined ? "" : ` at the highest budget ${winner.budget}`;
    return { trial: winner, why: `primary_score ${winner?.primary_score}, the highest${atBudget}` };
  };
  const parsed = RecommendationSchema.safeParse(claimed);
  if (
    claimed === undefined &&
    ctx.best !== undefined &&
    /^tunix-rt\b/.test(ctx.best.source) &&
    ctx.sweepConfig()?.ok
  ) {
    // tunix-rt writes the block whenever the sweep config lets it be recomputed; without it,
    // another rule than the sweep's (the best observed score) would stand.
    ctx.recommendation = {
      ...observedBest(),
      problem: {
        file,
        path: "recommendation",
        message:
          "missing; tunix-rt writes how the best configuration was chosen (its rule, estimate and runs), and verify recomputes it from trials.jsonl and the sweep config",
      },
    };
  } else if (claimed === undefined || ctx.best === undefined) {
    ctx.recommendation = observedBest();
  } else if (!parsed.success) {
    ctx.recommendation = {
      ...observedBest(),
      problem: {
        file,
        path: "recommendation",
        message: `got ${quote(claimed)}; expected {rule, trial_id, estimate, observed, mean, spread, count, trial_ids} as tunix-rt writes it`,
      },
    };
  } else {
    const config = ctx.sweepConfig() as NonNullable<ReturnType<VerifyContext["sweepConfig"]>>;
    if (!config.ok) {
      ctx.recommendation = {
        ...observedBest(),
        problem: {
          file,
          path: "sweep_config",
          message: `is not a valid sweep config (${config.problems[0]?.path}: ${config.problems[0]?.message}); the recommendation cannot be recomputed`,
        },
      };
    } else {
      // trials.jsonl lines passed TrialLineSchema: their params are parameter values.
      const again = recommendTrials(config.value, ctx.trials as unknown as TrialRecord[]);
      ctx.recomputed = again;
      const best = again.best;
      const trial = best && ctx.trials.find((t) => t.trial_id === best.trial_ids[0]);
      const how =
        again.rule === "model"
          ? `the model's estimate ${best?.estimate} of its true score, the highest`
          : again.rule === "repeats_mean"
            ? `the mean ${best?.mean} of its ${best?.count} runs, the highest among the re-evaluated`
            : `primary_score ${trial?.primary_score}, the highest${trial?.budget === undefined ? "" : ` at the highest budget ${trial.budget}`}`;
      // The whole block as aggregate writes it from these records, field by field: the rule,
      // the trial, every number (within the scores' tolerance), the runs and the notes.
      const expected = best ? recommendationRecord(again) : undefined;
      const differs = expected ? firstDifference(parsed.data, expected) : undefined;
      ctx.recommendation = {
        trial,
        why: how,
        ...(differs
          ? {
              problem: {
                file,
                path: `recommendation.${differs.key}`,
                message: `got ${quote(differs.got)}; recomputed from trials.jsonl and the sweep config it is ${quote(differs.want)} (${again.rule}: ${best?.trial_id} with estimate ${best?.estimate})`,
              },
            }
          : {}),
      };
    }
  }
  return ctx.recommendation;
}

/** The best trial of trials.jsonl is the one best_params.json and run_manifest.json name, with its params and score. */
export function checkBestTrial(ctx: VerifyContext): void {
  const best = ctx.best;
  const manifest = ctx.manifest;
  if (ctx.unusable.has("trials.jsonl")) {
    // Without the trials, the two files can still be checked against each other.
    if (best?.trial_id && manifest?.trial_id && best.trial_id !== manifest.trial_id) {
      ctx.add({
        file: "run_manifest.json",
        path: "trial_id",
        message: `got ${quote(manifest.trial_id)}; best_params.json has ${quote(best.trial_id)}`,
      });
    }
    return;
  }
  const chosen = recommended(ctx);
  const winner = chosen?.trial;
  if (!chosen || !winner) {
    if (chosen?.problem) ctx.add(chosen.problem);
    else
      ctx.add({
        file: "trials.jsonl",
        path: "",
        message: "has no completed trial with a primary_score; evidence needs a best trial",
      });
    return;
  }
  const why = `the best completed trial in trials.jsonl is ${quote(winner.trial_id)} (line ${winner.line}: ${chosen.why})`;
  if (chosen.problem) ctx.add(chosen.problem);
  const checkNamed = (file: EvidenceFileName, named: string | null | undefined) => {
    if (typeof named !== "string" || named === winner.trial_id) return;
    const known = ctx.trialIds.has(named);
    ctx.add({
      file,
      path: "trial_id",
      message: `got ${quote(named)}${known ? "" : ", which is not in trials.jsonl"}; ${why}`,
    });
  };
  checkNamed("best_params.json", best?.trial_id);
  checkNamed("run_manifest.json", manifest?.trial_id);
  // best_params.json must agree with the trial it names (whether or not that one is the best).
  const named = best?.trial_id ? ctx.trials.find((t) => t.trial_id === best.trial_id) : undefined;
  if (!best || !named) return;
  if (!sameParams(best.params, named.params)) {
    ctx.add({
      file: "best_params.json",
      path: "params",
      message: `got ${quote(best.params)}; trials.jsonl line ${named.line} (${named.trial_id}) has ${quote(named.params)}`,
    });
  }
  if (
    best.primary_score !== null &&
    named.primary_score !== null &&
    !sameScore(best.primary_score, named.primary_score)
  ) {
    ctx.add({
      file: "best_params.json",
      path: "primary_score",
      message: `got ${best.primary_score}; trials.jsonl line ${named.line} (${named.trial_id}) has ${named.primary_score}`,
    });
  }
}

/**
 * The first field where a recorded recommendation block differs from the one recomputed
 * (`recommendationRecord`): numbers within `scoreTolerance`, the rest as JSON. Undefined when
 * they agree on every field either has.
 */
function firstDifference(
  got: Record<string, unknown>,
  want: Record<string, unknown>,
): { key: string; got: unknown; want: unknown } | undefined {
  for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = got[key];
    const b = want[key];
    const same = typeof a === "number" && typeof b === "number" ? sameScore(a, b) : sameJson(a, b);
    if (!same) return { key, got: a, want: b };
  }
  return undefined;
}

/** Same keys, same values (params are flat: numbers, strings, booleans, null). */
function sameParams(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && Object.is(a[key], b[key]));
}
