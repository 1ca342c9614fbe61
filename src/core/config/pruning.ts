/**
 * The `pruning` section of a sweep config: what the rules of src/core/search/pruning.ts judge
 * (the metric, its mode, the rule and its settings). Here, with the rest of the config, so the
 * config does not import the search.
 */
import { z } from "zod";

const finite = z.number().refine(Number.isFinite, { error: "expected a finite number" });

/** The `pruning` section of a sweep config. */
export const PruningSchema = z.strictObject({
  /** The key of `metrics.jsonl` lines the rule judges (`eval_accuracy`, `eval_loss`, ...). */
  metric: z.string().min(1),
  /** Whether a larger (`max`) or smaller (`min`) value of the metric is better. */
  mode: z.enum(["max", "min"]).default("max"),
  /** `median` stopping or `asha`. */
  rule: z.enum(["median", "asha"]).default("asha"),
  /** Steps before any decision (the rules decide at steps >= warmup_steps). */
  warmup_steps: finite.min(0).default(0),
  /** median: decide at steps warmup_steps + k * interval_steps only. */
  interval_steps: finite.positive().default(1),
  /** median: how many other trials must have a value at the step before it decides. */
  min_trials: z.number().int().min(1).default(4),
  /** asha: the reduction factor (the best 1/reduction_factor of a rung go on); > 1. */
  reduction_factor: finite.gt(1).default(3),
  /** asha: the step of the first rung; > 0. */
  min_resource: finite.positive().default(1),
  /**
   * Either rule: a trial whose value beats the best final value (the curve's last point) of
   * the completed trials is not pruned (before any trial completes, nothing is protected).
   */
  protect_leaders: z.boolean().default(true),
  /** Seconds between SIGTERM and SIGKILL when a pruned trainer is stopped. */
  grace_seconds: finite.min(0).default(30),
});

/** A validated `pruning` section. */
export type PruningConfig = z.infer<typeof PruningSchema>;
