/**
 * Pruning: the rules on known curves, metrics.jsonl read as trainers really write it, and a
 * local sweep of a trainer with known curves (test/fixtures/curve-trainer.mjs) pruned at the
 * step each rule predicts, its trainer stopped by SIGTERM (SIGKILL when it ignores it), not
 * run again on resume, and each decision taken again by verify.
 */
import { randomUUID } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { describeProposal } from "../src/core/search/plan.js";
import {
  type CurvePoint,
  CurveReader,
  checkDecision,
  decide,
  IndexedCurve,
  type PruneDecision,
  type PruningConfig,
  PruningSchema,
  recordedCurve,
} from "../src/core/search/pruning.js";
import { CurveBoard } from "../src/runtime/pruner.js";
import { laterWave, runBundle } from "./actions/helpers.js";
import { ResultsStandIn } from "./github/stand-in/results.js";
import { readJsonl, repoRoot, runCli, tempDir } from "./helpers/cli.js";
import { evalsetText } from "./helpers/fault-sweep.js";

const config = (over: Partial<PruningConfig>): PruningConfig =>
  PruningSchema.parse({ metric: "acc", ...over });
const curve = (values: number[], steps = values.map((_, i) => i + 1)): IndexedCurve =>
  IndexedCurve.of(values.map((value, i): CurvePoint => ({ step: steps[i] as number, value })));

describe("the rules", () => {
  it("median: prunes below the median of the others at the same step, past the warm-up, with enough of them", () => {
    const c = config({ rule: "median", min_trials: 3, warmup_steps: 2 });
    const others = new Map([
      ["a", curve([0.1, 0.3, 0.5])],
      ["b", curve([0.2, 0.4, 0.6])],
      ["c", curve([0.3, 0.5, 0.7])],
    ]);
    // Step 1 is in the warm-up; at step 2 the median of 0.3, 0.4, 0.5 is 0.4.
    expect(decide(c, curve([0.0]), others)).toBeUndefined();
    expect(decide(c, curve([0.0, 0.41]), others)).toBeUndefined();
    expect(decide(c, curve([0.0, 0.39]), others)).toEqual({
      rule: "median",
      step: 2,
      value: 0.39,
      threshold: 0.4,
      compared: { a: 0.3, b: 0.4, c: 0.5 },
    });
    // Two others only: no decision.
    expect(decide(c, curve([0.0, 0.0]), new Map([...others].slice(0, 2)))).toBeUndefined();
    // min: smaller is better.
    const min = config({ rule: "median", min_trials: 3, mode: "min" });
    expect(decide(min, curve([0.35]), new Map([...others].map(([k, v]) => [k, v])))?.threshold).toBe(0.2);
    expect(decide(min, curve([0.15]), others)).toBeUndefined();
  });

  it("asha: at each rung the best 1/reduction_factor go on (the best alone below reduction_factor values)", () => {
    const c = config({ rule: "asha", min_resource: 2, reduction_factor: 2 });
    // Rungs at steps 2, 4, 8. Others' values at rung 2 (their first point at or past step 2).
    const others = new Map([
      ["a", curve([0.1, 0.5], [1, 2])],
      ["b", curve([0.2, 0.7], [1, 3])],
      ["c", curve([0.3], [1])],
    ]);
    // Rung 2 holds 0.5, 0.7 and ours: three values, the best floor(3/2) = 1 go on: cut 0.7.
    expect(decide(c, curve([0.1, 0.6], [1, 2]), others)).toMatchObject({
      rung: 2,
      threshold: 0.7,
      value: 0.6,
    });
    expect(decide(c, curve([0.1, 0.8], [1, 2]), others)).toBeUndefined();
    // A point that is not the first past a rung decides nothing.
    expect(decide(c, curve([0.1, 0.8, 0.0], [1, 2, 3]), others)).toBeUndefined();
    // Alone at a rung it goes on.
    expect(decide(c, curve([0.0, 0.0], [1, 2]), new Map())).toBeUndefined();
  });

  it("protect_leaders: a trial ahead of every completed trial's final value goes on; a decision names the incumbent it did not beat", () => {
    // a completed with a collapse at its end (final 0.1); b completed at 0.8; c still running.
    const others = new Map([
      ["a", curve([0.5, 0.9, 0.1])],
      ["b", curve([0.4, 0.7, 0.8])],
      ["c", curve([0.6, 0.95])],
    ]);
    for (const rule of ["median", "asha"] as const) {
      const c = config({ rule, min_trials: 2, min_resource: 1, reduction_factor: 2 });
      // Step 1: the median of 0.4, 0.5, 0.6 is 0.5; asha's rung 1 keeps the best 2 of 4 (cut 0.5).
      const own = curve([0.3]);
      const expected = { rule, step: 1, value: 0.3, threshold: 0.5, compared: { a: 0.5, b: 0.4, c: 0.6 } };
      // Nothing completed: nothing protected, no incumbent.
      expect(decide(c, own, others)).toEqual(rule === "asha" ? { ...expected, rung: 1 } : expected);
      // Only a completed: 0.3 beats its final 0.1, so the trial goes on.
      expect(decide(c, own, others, new Set(["a"]))).toBeUndefined();
      expect(decide(c, curve([0.1]), others, new Set(["a"]))).toMatchObject({ value: 0.1 });
      expect(decide({ ...c, protect_leaders: false }, own, others, new Set(["a"]))).toMatchObject({
        value: 0.3,
      });
      expect(
        decide({ ...c, protect_leaders: false }, own, others, new Set(["a"]))?.incumbent,
      ).toBeUndefined();
      // a and b completed: the incumbent is b's 0.8, which 0.3 does not beat.
      const d = decide(c, own, others, new Set(["a", "b"]));
      expect(d?.incumbent).toEqual({ trial: "b", value: 0.8 });
      if (!d) continue;
      const curves = new Map([...others, ["t", own]]);
      const done = new Set(["a", "b"]);
      expect(checkDecision(c, d, own, curves, done)).toBeUndefined();
      // What verify says of an incumbent that the records do not give.
      expect(checkDecision(c, { ...d, incumbent: { trial: "b", value: 0.9 } }, own, curves, done)).toBe(
        "incumbent.value: got 0.9; b's recorded curve ends at 0.8",
      );
      expect(checkDecision(c, { ...d, incumbent: { trial: "c", value: 0.95 } }, own, curves, done)).toBe(
        'incumbent: "c" is no completed trial',
      );
      expect(checkDecision(c, { ...d, incumbent: { trial: "a", value: 0.1 } }, own, curves, done)).toMatch(
        /its value 0\.3 at step 1 beats the final value 0\.1 of the completed trial a .*protect_leaders should have kept it/,
      );
      expect(checkDecision({ ...c, protect_leaders: false }, d, own, curves, done)).toMatch(
        /incumbent: recorded, but the config's protect_leaders is false/,
      );
      expect(
        checkDecision(
          c,
          { ...d, incumbent: "b" as unknown as PruneDecision["incumbent"] },
          own,
          curves,
          done,
        ),
      ).toBe('incumbent: got "b"; expected {trial, value}');
    }
    // min: the incumbent is the smallest final, and a trial below it goes on. At step 1 the
    // median of 0.5, 0.9, 0.6 is 0.6: 0.7 is worse.
    const min = config({ rule: "median", min_trials: 2, mode: "min" });
    const losses = new Map([
      ["a", curve([0.5, 0.2])],
      ["b", curve([0.9, 0.8])],
      ["c", curve([0.6])],
    ]);
    expect(decide(min, curve([0.7]), losses, new Set(["a", "b"]))?.incumbent).toEqual({
      trial: "a",
      value: 0.2,
    });
    expect(decide(min, curve([0.7]), losses, new Set(["b"]))).toBeUndefined();
    expect(decide(min, curve([0.85]), losses, new Set(["b"]))?.incumbent).toEqual({ trial: "b", value: 0.8 });
  });

  it("checkDecision accepts a decision the curves give, and names what is wrong in one that they do not", () => {
    const c = config({ rule: "median", min_trials: 2 });
    const curves = new Map([
      ["a", curve([0.5])],
      ["b", curve([0.7])],
      ["t", curve([0.2])],
    ]);
    const d = decide(c, curves.get("t") as IndexedCurve, new Map([...curves].filter(([k]) => k !== "t")));
    expect(d).toBeDefined();
    if (!d) return;
    expect(checkDecision(c, d, curves.get("t") as IndexedCurve, curves)).toBeUndefined();
    // Its value above the threshold (the record edited, and the curve with it).
    const above = { ...d, value: 0.9 };
    expect(checkDecision(c, above, curve([0.9]), curves)).toMatch(
      /is not worse than the threshold 0\.6.*should not have been pruned/,
    );
    expect(checkDecision(c, { ...d, threshold: 0.1 }, curves.get("t") as IndexedCurve, curves)).toMatch(
      /threshold: got 0\.1; the recorded values give 0\.6/,
    );
    expect(
      checkDecision(c, { ...d, compared: { a: 0.9, b: 0.7 } }, curves.get("t") as IndexedCurve, curves),
    ).toMatch(/compared\.a: got 0\.9; a's recorded curve gives 0\.5/);
  });
});

describe("the board a trial is judged against", () => {
  it("of a resumed sweep's records (or an earlier wave's) knows which trials completed, whose last points are final values", () => {
    const curve = (values: number[]) => ({ metric: "acc", steps: values.map((_, i) => i + 1), values });
    const board = CurveBoard.of([
      { trial_id: "t0", status: "completed", curve: curve([0.5, 0.1]) },
      { trial_id: "t1", status: "pruned", curve: curve([0.2]) },
      { trial_id: "t2", status: "failed", curve: curve([0.9]) },
      { trial_id: "t3", status: "completed" },
    ]);
    expect(board.size).toBe(3);
    expect([...board.completed]).toEqual(["t0"]);
    board.complete("t2");
    expect([...board.completed]).toEqual(["t0", "t2"]);
  });
});

describe("a recorded curve (trials.jsonl, hostile input to verify)", () => {
  it("is read only when its steps and values are finite, of one length, and its steps go forward", () => {
    const good = recordedCurve({ metric: "acc", steps: [1, 2, 5], values: [0.1, 0.2, 0.3] });
    expect(typeof good === "string" ? good : good.firstAtOrPast(3)).toEqual({ step: 5, value: 0.3 });
    expect(recordedCurve({ steps: [1, 2], values: [0.1] })).toBe(
      "steps has 2 numbers and values 1; expected one value per step",
    );
    expect(recordedCurve({ steps: [1, 1], values: [0.1, 0.2] })).toBe(
      "point 2: step 1 does not follow step 1",
    );
    expect(recordedCurve({ steps: [1, "2"], values: [0.1, 0.2] })).toBe(
      'point 2: got step "2", value 0.2; expected finite numbers',
    );
    expect(recordedCurve([1, 2])).toBe("expected {metric, steps, values}");
    // Longer than any sweep records: refused before any work on its points.
    const long = Array.from({ length: 2001 }, (_, i) => i + 1);
    expect(recordedCurve({ steps: long, values: long })).toBe(
      "holds 2001 points; a trial records at most 2000",
    );
  });
});

describe("what the plan says of pruned trials", () => {
  it("counts them with the scored ones the model learns from, and says so", () => {
    expect(describeProposal("gp", 1, 2, 3).note).toBe(
      "gp: warm-up (Sobol points) until 6 trials have a score or were pruned (5 so far: 2 scored, 3 pruned, learnt at the worst score)",
    );
    expect(describeProposal("gp", 0, 2, 3).note).toBe(
      "gp: a Gaussian process, fitted to 5 trials (2 scored, 3 pruned, learnt at the worst score)",
    );
    expect(describeProposal("gp", 0, 4).note).toBe("gp: a Gaussian process, fitted to 4 scored trials");
  });
});

describe("metrics.jsonl as trainers write it", () => {
  it("skips a non-numeric value, a step that goes backwards and lines without the metric, each with one note", () => {
    const reader = new CurveReader("acc");
    const lines = [
      '{"step": 1, "acc": 0.1}',
      '{"step": 2, "acc": "high"}',
      '{"step": 3, "acc": NaN}',
      '{"step": 1, "acc": 0.5}',
      '{"step": 4, "loss": 2}',
      "not json",
      '{"step": 5, "acc": 0.3}',
      '{"acc": 0.4}',
    ];
    for (const [i, text] of lines.entries()) reader.add(text, i + 1);
    expect(reader.curve.points).toEqual([
      { step: 1, value: 0.1 },
      { step: 5, value: 0.3 },
    ]);
    expect([...reader.notes.values()]).toEqual([
      'metrics.jsonl:2: acc: got "high"; expected a finite number; such lines are skipped',
      "metrics.jsonl:3: not a JSON object; lines like it are skipped",
      "metrics.jsonl:4: step 1 does not follow step 1; steps that do not go forward are skipped",
      "metrics.jsonl:8: step: got nothing; expected a number; lines without one are skipped",
    ]);
    expect(reader.sawMetric).toBe(true);
    // A bounded curve: past its most points, lines are not judged, with one note.
    const short = new CurveReader("acc", 2);
    for (const [i, text] of ['{"step":1,"acc":1}', '{"step":2,"acc":1}', '{"step":3,"acc":1}'].entries())
      short.add(text, i + 1);
    expect(short.curve.points).toHaveLength(2);
    expect([...short.notes.values()]).toEqual([
      "metrics.jsonl:3: the curve holds 2 points of acc, the most kept; later lines are not judged",
    ]);
    // A metric named like an Object property is looked up on the line itself.
    const named = new CurveReader("toString");
    named.add('{"step": 1}', 1);
    expect(named.sawMetric).toBe(false);
    expect(named.notes.size).toBe(0);
    const none = new CurveReader("acc");
    none.add('{"step": 1, "loss": 1}', 1);
    expect(none.sawMetric).toBe(false);
  });
});

/** A sweep of the curve trainer: each trial's `quality` sets its curve, acc = quality * k / 8 at step k ("QxD": 0.01 from step D). */
async function curveSweep(
  dir: string,
  pruning: string,
  qualities: Array<number | string>,
  extra = "",
): Promise<void> {
  await writeFile(path.join(dir, "evalset.jsonl"), `${evalsetText(10)}\n`);
  await writeFile(
    path.join(dir, "sweep.yaml"),
    [
      "run_version: prune_v1",
      `num_samples: ${qualities.length}`,
      "sampler: grid",
      "recommend: best_observed",
      `evalset: ${path.join(dir, "evalset.jsonl")}`,
      `pruning: ${pruning}`,
      "search_space:",
      `  quality: {type: choice, values: ${JSON.stringify(qualities)}}`,
      extra,
      "trainer:",
      `  command: [node, ${JSON.stringify(path.join(repoRoot, "test/fixtures/curve-trainer.mjs"))}]`,
      "  timeout_minutes: 1",
    ].join("\n"),
  );
}

const sweepEnv = { TUNIX_RT_PRUNE_INTERVAL_MS: "10", STEP_MS: "40" };

/**
 * The prune step each trial should get, the trials running one at a time in order: the rule
 * written out again here, over the curves acc = quality * k / 8 (a quality "QxD" is the
 * fixture's diverging run: acc 0.01 from step D on). A pruned trial's curve ends where it was
 * pruned, give or take the points written before SIGTERM landed, which no later decision here
 * reaches. protect_leaders (unless `protect` is false): a trial whose value beats the final
 * value of every trial completed before it is not pruned. With `against`, each trial is judged
 * against those trials' whole curves only (an earlier wave's, all completed), as trials running
 * side by side that do not see each other.
 */
function expectedPrunes(
  rule: "median" | "asha",
  qualities: Array<number | string>,
  {
    minTrials = 2,
    against,
    protect = true,
  }: { minTrials?: number; against?: Array<number | string>; protect?: boolean } = {},
): Array<number | null> {
  const full = (q: number | string) => {
    const [quality, divergeAt] = String(q).split("x").map(Number) as [number, number | undefined];
    return Array.from({ length: 8 }, (_, k) =>
      divergeAt !== undefined && k + 1 >= divergeAt ? 0.01 : (quality * (k + 1)) / 8,
    );
  };
  const done: number[][] = against ? against.map(full) : [];
  const finals: number[] = done.map((c) => c[7] as number);
  const out: Array<number | null> = [];
  for (const q of qualities) {
    const values = full(q);
    let pruned: number | null = null;
    for (let k = 1; k <= 8 && pruned === null; k++) {
      const mine = values[k - 1] as number;
      const others = done.filter((c) => c.length >= k).map((c) => c[k - 1] as number);
      let prune = false;
      if (rule === "median") {
        if (others.length < minTrials) continue;
        const s = [...others].sort((a, b) => a - b);
        const m =
          s.length % 2
            ? (s[s.length >> 1] as number)
            : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
        prune = mine < m;
      } else if ([1, 2, 4, 8].includes(k)) {
        const all = [mine, ...others].sort((a, b) => b - a);
        const cut = all[Math.max(0, Math.floor(all.length / 2) - 1)] as number;
        prune = mine < cut;
      }
      if (prune && !(protect && finals.length > 0 && mine > Math.max(...finals))) pruned = k;
    }
    if (!against) {
      done.push(pruned === null ? values : values.slice(0, pruned));
      if (pruned === null) finals.push(values[7] as number);
    }
    out.push(pruned);
  }
  return out;
}

describe("a local sweep with pruning", () => {
  for (const rule of ["median", "asha"] as const) {
    it(`${rule}: prunes each trial at the step the rule predicts, keeps its curve, and verify takes each decision again`, async () => {
      const dir = await tempDir(`tunix-rt-prune-${rule}-`);
      const qualities = [0.9, 0.5, 0.8, 0.3, 0.95, 0.6];
      await curveSweep(
        dir,
        rule === "median"
          ? "{metric: eval_acc, rule: median, min_trials: 2, grace_seconds: 2}"
          : "{metric: eval_acc, rule: asha, min_resource: 1, reduction_factor: 2, grace_seconds: 2}",
        qualities,
      );
      const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1"], {
        cwd: dir,
        env: sweepEnv,
      });
      expect(r.code, r.stderr).toBe(0);
      const trials = await readJsonl(path.join(dir, "submission_runs/prune_v1/trials.jsonl"));
      // The grid's order is shuffled: the expectation follows the order the trials ran in.
      const ran = trials.map((t) => t.params.quality as number);
      const expected = expectedPrunes(rule, ran);
      expect(
        expected.some((s) => s !== null),
        "the sweep prunes something",
      ).toBe(true);
      expect(trials.map((t) => (t.status === "pruned" ? t.pruned.step : null))).toEqual(expected);
      for (const t of trials.filter((x) => x.status === "pruned")) {
        expect(t.primary_score).toBeNull();
        expect(t.curve.metric).toBe("eval_acc");
        expect(t.pruned.rule).toBe(rule);
        expect(r.stderr).toContain(`${t.trial_id} pruned primary_score=null`);
      }
      expect(await readFile(path.join(dir, "submission_runs/prune_v1/leaderboard.md"), "utf8")).toMatch(
        / \d pruned\./,
      );
      // The evidence's charts: each pruned trial a cross on its curve at its step, a grey ring in the history.
      const charts = path.join(dir, "submission_runs/prune_v1/charts");
      const crosses = [
        ...(await readFile(path.join(charts, "curves.svg"), "utf8")).matchAll(
          /data-trial="(t\d+)" data-pruned-step="(\d+)"/g,
        ),
      ].map((x) => [x[1], Number(x[2])]);
      const pruned = trials.filter((t) => t.status === "pruned");
      expect(crosses.sort()).toEqual(pruned.map((t) => [t.trial_id, t.pruned.step]).sort());
      expect(
        (await readFile(path.join(charts, "history.svg"), "utf8")).match(/data-status="pruned"/g),
      ).toHaveLength(pruned.length);
      expect((await runCli(["verify", "submission_runs/prune_v1"], { cwd: dir })).code).toBe(0);

      // Edited so that a pruned trial's value sits above its threshold: verify says so.
      const file = path.join(dir, "submission_runs/prune_v1/trials.jsonl");
      const edited = trials.map((t) => {
        if (t.status !== "pruned") return t;
        const high = t.pruned.threshold + 0.5;
        const i = t.curve.steps.indexOf(t.pruned.step);
        t.curve.values[i] = high;
        return { ...t, pruned: { ...t.pruned, value: high } };
      });
      await writeFile(file, `${edited.map((t) => JSON.stringify(t)).join("\n")}\n`);
      const bad = await runCli(["verify", "submission_runs/prune_v1"], { cwd: dir });
      expect(bad.code).toBe(1);
      expect(bad.stdout + bad.stderr).toMatch(
        // (Under asha the trial's own value is one of the rung's, so the cut moves with it.)
        rule === "median"
          ? /trials\.jsonl:\d+: pruned: t\d{4}: its value .* should not have been pruned/
          : /trials\.jsonl:\d+: pruned: t\d{4}: (threshold|compared|its value)/,
      );
    });
  }

  it("protect_leaders: once a diverging run has completed at 0.01, a trial above that is not pruned; without it, it is", async () => {
    const qualities = ["0.9x3", 0.4, 0.35, 0.3];
    const fates: Record<string, Array<number | null>> = {};
    for (const protect of [true, false]) {
      const dir = await tempDir(`tunix-rt-prune-protect-${protect}-`);
      await curveSweep(
        dir,
        `{metric: eval_acc, rule: median, min_trials: 1, protect_leaders: ${protect}, grace_seconds: 2}`,
        qualities,
      );
      const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1", "--seed", "1"], {
        cwd: dir,
        env: sweepEnv,
      });
      expect(r.code, r.stderr).toBe(0);
      const trials = await readJsonl(path.join(dir, "submission_runs/prune_v1/trials.jsonl"));
      const ran = trials.map((t) => t.params.quality as number | string);
      expect(ran[0], "the diverging run goes first (the grid's order under this seed)").toBe("0.9x3");
      const fate = trials.map((t) => (t.status === "pruned" ? t.pruned.step : null));
      expect(fate).toEqual(expectedPrunes("median", ran, { minTrials: 1, protect }));
      fates[String(protect)] = fate;
      for (const t of trials.filter((x) => x.status === "pruned")) {
        if (protect) expect(t.pruned.incumbent?.trial).toMatch(/^t\d{4}$/);
        else expect(t.pruned.incumbent).toBeUndefined();
      }
      expect((await runCli(["verify", "submission_runs/prune_v1"], { cwd: dir })).code).toBe(0);
      if (!protect) continue;
      // Edited so that a decision names the diverging run's final as its incumbent, which the
      // pruned trial's value beats: verify says protect_leaders should have kept it.
      const file = path.join(dir, "submission_runs/prune_v1/trials.jsonl");
      const diverged = trials[0];
      const edited = trials.map((t) =>
        t.status === "pruned"
          ? { ...t, pruned: { ...t.pruned, incumbent: { trial: diverged.trial_id, value: 0.01 } } }
          : t,
      );
      await writeFile(file, `${edited.map((t) => JSON.stringify(t)).join("\n")}\n`);
      const bad = await runCli(["verify", "submission_runs/prune_v1"], { cwd: dir });
      expect(bad.code).toBe(1);
      expect(bad.stdout + bad.stderr).toMatch(/protect_leaders should have kept it/);
    }
    // The diverging run's early values would prune the next trial; its final value protects it.
    expect(fates.true?.[1]).toBeNull();
    expect(fates.false?.[1]).toBe(1);
  });

  it("stops a trainer that ignores SIGTERM with SIGKILL after the grace, and does not run a pruned trial again on resume", async () => {
    const dir = await tempDir("tunix-rt-prune-kill-");
    await curveSweep(
      dir,
      "{metric: eval_acc, rule: median, min_trials: 1, grace_seconds: 0.3}",
      [0.9, 0.2],
      "",
    );
    // Both trials ignore SIGTERM (the first is never pruned: nothing to compare with).
    const config = path.join(dir, "sweep.yaml");
    await writeFile(
      config,
      (await readFile(config, "utf8")).replace(
        "  quality: {type: choice, values: [0.9,0.2]}",
        "  quality: {type: choice, values: [0.9,0.2]}\n  ignore_term: {type: choice, values: [true]}",
      ),
    );
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1", "--seed", "3"], {
      cwd: dir,
      env: { ...sweepEnv, STEP_MS: "100" },
    });
    expect(r.code, r.stderr).toBe(0);
    const trials = await readJsonl(path.join(dir, "submission_runs/prune_v1/trials.jsonl"));
    const pruned = trials.filter((t) => t.status === "pruned");
    expect(pruned.map((t) => t.params.quality)).toEqual([0.2]);
    const [p] = pruned;
    expect(p.signal).toBe("SIGKILL");
    expect(
      await readFile(path.join(dir, "runs/prune_v1/trials", p.trial_id, "output.log"), "utf8"),
    ).toContain("SIGTERM ignored");
    // Resume: nothing runs again.
    const record = path.join(dir, "runs/prune_v1/trials", p.trial_id, "trial.json");
    const before = (await stat(record)).mtimeMs;
    const again = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1", "--seed", "3"], {
      cwd: dir,
      env: sweepEnv,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain(`${p.trial_id} started`);
    expect((await stat(record)).mtimeMs).toBe(before);
  });

  it("a trainer that never writes the metric is never pruned, with one note saying so", async () => {
    const dir = await tempDir("tunix-rt-prune-none-");
    await curveSweep(dir, "{metric: eval_f1, rule: median, min_trials: 1}", [0.9, 0.2]);
    const r = await runCli(["sweep", "--config", "sweep.yaml", "--parallel", "1"], {
      cwd: dir,
      env: sweepEnv,
    });
    expect(r.code, r.stderr).toBe(0);
    const trials = await readJsonl(path.join(dir, "submission_runs/prune_v1/trials.jsonl"));
    expect(trials.map((t) => t.status)).toEqual(["completed", "completed"]);
    expect(trials[0].note).toBe(
      'metrics.jsonl: no line had "eval_f1", the pruning metric: this trial could not be pruned',
    );
  });

  it("imports a W&B hyperband file as ASHA pruning, and a sweep with it prunes", async () => {
    const dir = await tempDir("tunix-rt-prune-wandb-");
    await curveSweep(dir, "{metric: eval_acc}", [0.9, 0.5, 0.8, 0.3]);
    const ours = await readFile(path.join(dir, "sweep.yaml"), "utf8");
    const trainer = ours.slice(ours.indexOf("trainer:"));
    await writeFile(
      path.join(dir, "wandb.yaml"),
      [
        "method: grid",
        "run_cap: 4",
        "run_version: prune_v1",
        "metric: {name: eval_acc, goal: maximize}",
        "early_terminate: {type: hyperband, min_iter: 1, eta: 2}",
        `evalset: ${path.join(dir, "evalset.jsonl")}`,
        "parameters:",
        "  quality: {values: [0.9, 0.5, 0.8, 0.3]}",
        trainer,
      ].join("\n"),
    );
    const r = await runCli(["sweep", "--config", "wandb.yaml", "--parallel", "1"], {
      cwd: dir,
      env: sweepEnv,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('early_terminate: hyperband runs as ASHA pruning on "eval_acc" (max)');
    const trials = await readJsonl(path.join(dir, "submission_runs/prune_v1/trials.jsonl"));
    const ran = trials.map((t) => t.params.quality as number);
    expect(trials.map((t) => (t.status === "pruned" ? t.pruned.step : null))).toEqual(
      expectedPrunes("asha", ran),
    );
    expect(trials.some((t) => t.status === "pruned")).toBe(true);
  });
});

describe("on GitHub: a later wave's trial job, as the runner runs the bundle, prunes itself against the earlier waves' curves", () => {
  let results: ResultsStandIn;
  beforeAll(async () => {
    results = await ResultsStandIn.start();
  });
  afterAll(async () => {
    await results.close();
  });
  const qualities = [0.9, 0.5, 0.8, 0.3, 0.95, 0.6, 0.4, 0.7];
  const pruning = {
    median: "{metric: eval_acc, rule: median, min_trials: 2, grace_seconds: 2}",
    asha: "{metric: eval_acc, rule: asha, min_resource: 1, reduction_factor: 2, grace_seconds: 2}",
  };

  for (const rule of ["median", "asha"] as const) {
    it(`${rule}: wave 2's trials, side by side, are pruned at the step the rule predicts from wave 1's curves; wave 1's run to their end`, async () => {
      const dir = await tempDir(`tunix-rt-prune-gh-${rule}-`);
      await curveSweep(dir, pruning[rule], qualities, "waves: 2\nmax_concurrent_trials: 4");
      const run = randomUUID();
      const job = () => ({ workspace: dir, env: { ...results.envFor(run), ...sweepEnv } });
      const plan = { mode: "plan", config: "sweep.yaml", "max-waves": "2" };
      /** A wave's trial jobs, at the same time (a matrix), each recording its trial.json. */
      const runWave = async (matrix: string) => {
        const trials = JSON.parse(matrix).include as Array<{ sweep_id: string; trial_id: string }>;
        const steps = await Promise.all(
          trials.map((t) =>
            runBundle(
              "dist/sweep.js",
              { mode: "trial", config: "sweep.yaml", trial: JSON.stringify(t) },
              job(),
            ),
          ),
        );
        for (const step of steps) expect(step.code, step.stdout + step.stderr).toBe(0);
        const records = await Promise.all(
          trials.map(async (t) =>
            JSON.parse(await readFile(path.join(dir, "runs", t.sweep_id, t.trial_id, "trial.json"), "utf8")),
          ),
        );
        return { steps, records };
      };

      const first = await runBundle("dist/sweep.js", { ...plan, wave: "1" }, job());
      expect(first.code, first.stdout + first.stderr).toBe(0);
      expect(first.stdout).toContain(
        "wave 1's trials run to their end, and no trial sees the trials of its own wave",
      );
      const wave1 = await runWave(first.outputs.matrix as string);
      expect(wave1.records.map((r) => r.status)).toEqual([
        "completed",
        "completed",
        "completed",
        "completed",
      ]);
      expect(wave1.steps[0]?.stdout).toContain("a trial of wave 1 has no earlier wave's curves");

      const second = await runBundle(
        "dist/sweep.js",
        laterWave(plan, 2, first.outputs["sweep-id"] as string, first.outputs.planned as string),
        job(),
      );
      expect(second.code, second.stdout + second.stderr).toBe(0);
      const wave2 = await runWave(second.outputs.matrix as string);
      expect(wave2.steps[0]?.stdout).toMatch(/judged against the curves of 4 trial\(s\) of waves before 2/);
      const expected = expectedPrunes(
        rule,
        wave2.records.map((r) => r.params.quality),
        { against: wave1.records.map((r) => r.params.quality) },
      );
      expect(
        expected.some((s) => s !== null),
        "wave 2 prunes something",
      ).toBe(true);
      expect(wave2.records.map((r) => (r.status === "pruned" ? r.pruned.step : null))).toEqual(expected);
      // A pruned trial's job succeeds (no failed job to re-run), and its decision holds
      // against wave 1's recorded curves, as verify takes it again.
      const config = PruningSchema.parse(parse(pruning[rule]));
      const curves = new Map(wave1.records.map((r) => [r.trial_id, recordedCurve(r.curve) as IndexedCurve]));
      // Wave 1's trials all completed: the incumbent is the best of their final values.
      const completed = new Set<string>(wave1.records.map((r) => r.trial_id));
      const best = Math.max(...wave1.records.map((r) => r.params.quality as number));
      const leader = wave1.records.find((r) => r.params.quality === best);
      for (const [k, r] of wave2.records.entries()) {
        expect(wave2.steps[k]?.outputs.status).toBe(r.status);
        if (r.status !== "pruned") continue;
        expect(Object.keys(r.pruned.compared).sort()).toEqual([...curves.keys()].sort());
        expect(r.pruned.incumbent).toEqual({ trial: leader.trial_id, value: best });
        expect(
          checkDecision(config, r.pruned, recordedCurve(r.curve) as IndexedCurve, curves, completed),
        ).toBeUndefined();
      }
    });
  }
});
