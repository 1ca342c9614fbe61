import { describe, expect, it } from "vitest";
import { type SweepConfig, validateConfig } from "../src/core/config/config.js";
import { paramsInSpace, searchSpaceOf } from "../src/core/config/space.js";
import { InputError } from "../src/core/errors.js";
import {
  firstTrialNumber,
  formatTrialId,
  planTrials,
  trialNumberOf,
  trialSeed,
} from "../src/core/search/plan.js";
import { resolveSampler } from "../src/core/search/samplers/index.js";
import type { TrialRecord } from "../src/core/types.js";

const sweepId = "123e4567-e89b-12d3-a456-426614174000";
const config = (extra: Record<string, unknown> = {}): SweepConfig => {
  const result = validateConfig(
    {
      search_space: {
        learning_rate: { type: "loguniform", min: 1e-5, max: 1e-4 },
        per_device_batch_size: { type: "choice", values: [1, 2, 4] },
        weight_decay: { type: "uniform", min: 0, max: 0.1 },
        warmup_steps: { type: "choice", values: [0, 10, 20] },
      },
      ...extra,
    },
    "test.yaml",
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.value;
};
const asHistory = (trials: { trial_id: string; params: Record<string, unknown> }[]): TrialRecord[] =>
  trials.map((t) => ({
    trial_id: t.trial_id,
    params: t.params as TrialRecord["params"],
    status: "completed",
    primary_score: 0.5,
  }));

describe("trial ids", () => {
  it("are t and at least four digits", () => {
    expect(formatTrialId(0)).toBe("t0000");
    expect(formatTrialId(42)).toBe("t0042");
    expect(formatTrialId(12345)).toBe("t12345");
    expect(trialNumberOf("t0042")).toBe(42);
    expect(trialNumberOf("t12345")).toBe(12345);
    expect(trialNumberOf("t042")).toBeUndefined();
    expect(trialNumberOf("x0001")).toBeUndefined();
  });

  it("number on after the history: highest t-number + 1, at least the number of distinct ids", () => {
    const rec = (trial_id: string): TrialRecord => ({
      trial_id,
      params: {},
      status: "failed",
      primary_score: null,
    });
    expect(firstTrialNumber([])).toBe(0);
    expect(firstTrialNumber([rec("t0000"), rec("t0001")])).toBe(2);
    expect(firstTrialNumber([rec("t0000"), rec("t0007")])).toBe(8);
    expect(firstTrialNumber([rec("a"), rec("b"), rec("c")])).toBe(3);
    expect(firstTrialNumber([rec("t0000"), rec("run-x"), rec("run-y")])).toBe(3);
  });
});

describe("planTrials", () => {
  it("plans one wave of num_samples trials from the config's defaults, the matrix equal to the trials", () => {
    // No waves key: one wave per round of max_concurrent_trials (here all 5 at once).
    const plan = planTrials({ config: config({ max_concurrent_trials: 5 }), sweepId });
    expect(Object.keys(plan)).toEqual([
      "sweep_id",
      "run_version",
      "sampler",
      "seed",
      "trials",
      "matrix",
      "proposed",
    ]);
    expect(plan).toMatchObject({
      sweep_id: sweepId,
      run_version: "m34_v1",
      sampler: resolveSampler("auto"),
      seed: 42,
    });
    expect(plan.trials.map((t) => t.trial_id)).toEqual(["t0000", "t0001", "t0002", "t0003", "t0004"]);
    expect(plan.matrix.include).toEqual(plan.trials);
    expect(plan.proposed?.phase).toBe("warm-up");
    // max_concurrent_trials 1 (the M34 default): five waves of one.
    expect(planTrials({ config: config(), sweepId }).trials).toHaveLength(1);
    const space = searchSpaceOf(config().search_space);
    for (const trial of plan.trials) {
      expect(Object.keys(trial)).toEqual(["sweep_id", "trial_id", "seed", "params"]);
      expect(trial.sweep_id).toBe(sweepId);
      expect(paramsInSpace(space, trial.params)).toBe(true);
      expect(trial.seed).toBe(trialSeed(42, Number(trial.trial_id.slice(1))));
    }
  });

  it("is deterministic and follows the options over the config", () => {
    const options = { config: config({ sampler: "grid" }), sweepId, seed: 7, count: 3, runVersion: "wave_2" };
    const plan = planTrials(options);
    expect(JSON.stringify(planTrials(options))).toBe(JSON.stringify(plan));
    expect(plan).toMatchObject({ sampler: "grid", seed: 7, run_version: "wave_2" });
    expect(plan.trials.length).toBe(3);
    expect(planTrials({ ...options, sampler: "auto" }).sampler).toBe(resolveSampler("auto"));
    expect(JSON.stringify(planTrials({ ...options, seed: 8 }).trials)).not.toBe(JSON.stringify(plan.trials));
  });

  it("gives the same trials planned in waves as planned at once", () => {
    for (const sampler of ["random", "grid"] as const) {
      const atOnce = planTrials({ config: config(), sweepId, sampler, count: 8 });
      const first = planTrials({ config: config(), sweepId, sampler, count: 5 });
      const second = planTrials({
        config: config(),
        sweepId,
        sampler,
        count: 3,
        history: asHistory(first.trials),
      });
      expect([...first.trials, ...second.trials]).toEqual(atOnce.trials);
    }
  });

  it("gives trial seeds of 31 bits, distinct within a sweep, fixed by the sweep seed and trial number", () => {
    const seeds = new Set<number>();
    for (let n = 0; n < 2000; n++) {
      const s = trialSeed(42, n);
      expect(Number.isInteger(s) && s >= 0 && s <= 0x7fffffff).toBe(true);
      seeds.add(s);
    }
    expect(seeds.size).toBe(2000);
    // A golden value: a change here changes every sweep's trial seeds (and its evidence).
    expect(trialSeed(42, 3)).toBe(258207467);
    expect(trialSeed(42, 3)).not.toBe(trialSeed(43, 3));
  });

  it("refuses more trials than the matrix limit, saying how to split them", () => {
    const plan = () => planTrials({ config: config(), sweepId, count: 300, matrixLimit: 256 });
    expect(plan).toThrow(InputError);
    expect(plan).toThrow(
      "300 trials (--count) exceed the 256 jobs one matrix may hold; plan in waves: --count 256, then --count 44 --history",
    );
    expect(() =>
      planTrials({ config: config({ num_samples: 257, waves: 1 }), sweepId, matrixLimit: 256 }),
    ).toThrow(/\(num_samples\)/);
    expect(planTrials({ config: config(), sweepId, count: 256, matrixLimit: 256 }).trials.length).toBe(256);
    // A local sweep sets no limit.
    expect(planTrials({ config: config(), sweepId, count: 300 }).trials.length).toBe(300);
  });

  it("plans fewer trials when the grid is used up", () => {
    const small = config({ search_space: { a: { type: "choice", values: [1, 2, 3] } }, sampler: "grid" });
    const first = planTrials({ config: small, sweepId, count: 2 });
    const rest = planTrials({ config: small, sweepId, count: 5, history: asHistory(first.trials) });
    expect(rest.trials.map((t) => t.trial_id)).toEqual(["t0002"]);
    const none = planTrials({
      config: small,
      sweepId,
      count: 5,
      history: asHistory([...first.trials, ...rest.trials]),
    });
    expect(none.trials).toEqual([]);
    expect(none.matrix.include).toEqual([]);
  });

  it("plans from a history of 1,000 trials", () => {
    const history = asHistory(planTrials({ config: config(), sweepId, count: 1000 }).trials);
    for (const sampler of ["random", "grid"] as const) {
      const plan = planTrials({ config: config(), sweepId, sampler, count: 5, history });
      expect(plan.trials[0]?.trial_id).toBe("t1000");
    }
  });
});
