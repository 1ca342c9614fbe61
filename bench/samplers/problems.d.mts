// Types of problems.mjs, for the tests that run the benchmark's own problems.
import type { ParamSpec } from "../../src/core/config/params.js";
import type { Params } from "../../src/core/types.js";

export interface BenchRun {
  /** The score a trial reports. */
  evaluate(params: Params): number;
  /** The score of a re-run with a new trainer seed. */
  repeat(params: Params): number;
  /** The true regret of recommending these params. */
  regret(params: Params): number;
}

export interface BenchProblem {
  name: string;
  metricMode: "max" | "min";
  space: Record<string, ParamSpec>;
  /** Where the scores are primary_scores: the range the product passes to `recommend`. */
  range?: [number, number];
  run(seed: number): BenchRun;
}

export function loadProblem(name: string, root: string, tabular?: "float" | "grid" | "native"): BenchProblem;
export const noiseFreeNames: readonly string[];
