/**
 * The sweep's live progress without a sweep: the ETA rule, which metrics.jsonl numbers are
 * shown, reading a file's last complete line, and the heartbeat / status line, all with an
 * injected clock (nothing sleeps).
 */
import { appendFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createProgress, formatDuration, formatEta } from "../src/cli/progress.js";
import { median, remainingMs } from "../src/core/progress/eta.js";
import { formatMetrics, type MetricsView, pickMetrics } from "../src/core/progress/metrics-view.js";
import type { PlannedRungTrial } from "../src/core/search/fidelity.js";
import { lastCompleteLine, readLastMetrics } from "../src/runtime/metrics-tail.js";
import type { TrialJson } from "../src/runtime/trial.js";
import { tempDir } from "./helpers/cli.js";

const min = 60_000;
/** What a terminal redraw starts with: back to the line's start, clear it. */
const clear = "\r\x1b[2K";

describe("ETA (remainingMs)", () => {
  it("has none until a trial has finished", () => {
    expect(remainingMs({ finishedMs: [], runningElapsedMs: [5 * min], waiting: 3, workers: 2 })).toBe(
      undefined,
    );
  });

  it("deals the trials left to the workers as they free up, each taking the median duration", () => {
    // 8 trials, 2 workers, 3 done (10, 12, 50 min: median 12), t4 at 4 min, t5 at 1 min, 3 waiting:
    // worker A frees at 8, B at 11; A takes one (20), B one (23), A the last (32).
    expect(
      remainingMs({
        finishedMs: [10 * min, 50 * min, 12 * min],
        runningElapsedMs: [4 * min, 1 * min],
        waiting: 3,
        workers: 2,
      }),
    ).toBe(32 * min);
    // The last trial counts whole: 1 left on 2 idle workers takes the median, not half of it.
    expect(remainingMs({ finishedMs: [10 * min], runningElapsedMs: [], waiting: 1, workers: 2 })).toBe(
      10 * min,
    );
    // A running trial past the median is taken to end now.
    expect(
      remainingMs({ finishedMs: [10 * min], runningElapsedMs: [15 * min], waiting: 0, workers: 1 }),
    ).toBe(0);
  });

  it("takes the median, so one quick crash does not halve the estimate", () => {
    expect(median([120, 3, 118])).toBe(118);
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(
      remainingMs({
        finishedMs: [120 * min, 0.05 * min, 118 * min],
        runningElapsedMs: [],
        waiting: 1,
        workers: 1,
      }),
    ).toBe(118 * min);
  });

  it("formats durations and ETAs short", () => {
    expect([
      formatDuration(42_400),
      formatDuration(252_000),
      formatDuration(65_000),
      formatDuration(7_500_000),
    ]).toEqual(["42s", "4m12s", "1m05s", "2h05m"]);
    expect([formatEta(20_000), formatEta(12 * min), formatEta(125 * min)]).toEqual(["<1m", "12m", "2h05m"]);
  });
});

describe("metrics.jsonl numbers shown", () => {
  it("shows step, then loss and the first eval_ field", () => {
    const view = pickMetrics({ step: 800, loss: 0.31234, lr: 0.001, eval_accuracy: 0.9, eval_loss: 0.4 });
    expect(view).toEqual({
      step: 800,
      values: [
        ["loss", 0.31234],
        ["eval_accuracy", 0.9],
      ],
    });
    expect(formatMetrics(view as MetricsView)).toBe("step 800 loss=0.3123 eval_accuracy=0.9");
    // The example trainer's usual line.
    expect(formatMetrics(pickMetrics({ step: 10, loss: 2.5, lr: 0.05 }) as MetricsView)).toBe(
      "step 10 loss=2.5",
    );
  });

  it("without loss or eval_ fields, the first two numbers besides step, epoch and the learning rate", () => {
    const view = pickMetrics({
      step: 3,
      epoch: 1,
      learning_rate: 1e-5,
      phase: "rl",
      reward: 0.5,
      kl: 0.0123456,
      x: 1,
    });
    expect(formatMetrics(view as MetricsView)).toBe("step 3 reward=0.5 kl=0.01235");
    expect(pickMetrics([1, 2])).toBe(undefined);
    expect(pickMetrics("step")).toBe(undefined);
    expect(formatMetrics(pickMetrics({ note: "warming up" }) as MetricsView)).toBe("");
  });

  it("reads only the last complete line: a partial last line is skipped", async () => {
    const dir = await tempDir("tunix-rt-metrics-");
    const file = path.join(dir, "metrics.jsonl");
    expect(await lastCompleteLine(file)).toBe(undefined); // no file yet
    await writeFile(file, '{"step": 10, "lo');
    expect(await readLastMetrics(file)).toBe(undefined); // no complete line yet
    await appendFile(file, 'ss": 0.5}\n{"step": 20, "loss"');
    expect(await readLastMetrics(file)).toEqual({ step: 10, values: [["loss", 0.5]] });
    await appendFile(file, ": 0.25}\r\n");
    expect(await readLastMetrics(file)).toEqual({ step: 20, values: [["loss", 0.25]] });
    // A long file: the tail holds the answer; a last line longer than the first window still reads.
    const long = `{"step": 30, "loss": 0.125, "note": "${"x".repeat(10_000)}"}`;
    await appendFile(file, `${'{"step": 1}\n'.repeat(50_000)}${long}\n{"partial`);
    expect(await lastCompleteLine(file)).toBe(long);
    // A line that is not JSON shows nothing (the progress keeps what it read before).
    await appendFile(file, "\nnot json\n");
    expect(await readLastMetrics(file)).toBe(undefined);
  });
});

const trial = (id: string): PlannedRungTrial => ({
  sweep_id: "s",
  trial_id: id,
  seed: 1,
  params: { learning_rate: 0.1 },
});
const record = (id: string, score: number | null, seconds: number): TrialJson => ({
  trial_id: id,
  params: { learning_rate: 0.1 },
  status: score === null ? "failed" : "completed",
  primary_score: score,
  sweep_id: "s",
  seed: 1,
  exit_code: score === null ? 1 : 0,
  signal: null,
  started_at: "2026-01-01T00:00:00.000Z",
  finished_at: "2026-01-01T00:10:00.000Z",
  duration_s: seconds,
  error: score === null ? "trainer exited with code 1" : null,
  command: ["train"],
  runner: "test",
});

/** A progress with a clock the test moves, and every write collected. */
function harness({
  tty = false,
  metrics = {} as Record<string, MetricsView>,
  columns = undefined as number | undefined,
} = {}) {
  let t = 1_000_000;
  const out: string[] = [];
  const progress = createProgress({
    write: (text) => out.push(text),
    tty,
    now: () => t,
    heartbeatMs: 3_600_000, // the tests tick by hand
    redrawMs: 3_600_000,
    readMetrics: async (file) => metrics[path.basename(path.dirname(file))],
    ...(columns === undefined ? {} : { columns: () => columns }),
  });
  return { progress, out, advance: (ms: number) => (t += ms) };
}

describe("heartbeat and status line", () => {
  it("a log gets a heartbeat line with counts, best, ETA and each running trial's time and metrics", async () => {
    const { progress, out, advance } = harness({
      metrics: { t0004: { step: 800, values: [["loss", 0.31]] } },
    });
    progress.started({ total: 8, toRun: 8, parallel: 2, sweepId: "s", resumed: 0, final: true });
    progress.trialStarted(trial("t0000"), { worker: 0, outDir: "/runs/t0000" });
    advance(2 * min);
    await progress.tick();
    // No ETA before a trial finished.
    expect(out.at(-1)).toBe("[0/8 done, 1 running, 7 left] best –: t0000 running 2m00s\n");
    progress.trialFinished(record("t0000", 0.8417, 600));
    progress.trialStarted(trial("t0004"), { worker: 0, outDir: "/runs/t0004" });
    advance(4 * min + 12_000);
    progress.trialStarted(trial("t0005"), { worker: 1, outDir: "/runs/t0005" });
    advance(65_000);
    await progress.tick();
    // Median 10 min; t0004 has 4m43s left, t0005 8m55s; 5 waiting: A 14m43, B 18m55, A 24m43,
    // B 28m55, A 34m43 -> 35m.
    expect(out.at(-1)).toBe(
      "[1/8 done, 2 running, 5 left] best 0.8417 (t0000), ETA 35m: t0004 running 5m17s, step 800 loss=0.31; t0005 running 1m05s\n",
    );
    progress.trialFinished(record("t0004", null, 3));
    expect(progress.heartbeat()).toMatch(
      /^\[2\/8 done, 1 failed, 1 running, 5 left\] best 0\.8417 \(t0000\), ETA /,
    );
  });

  it("says what re-evaluation runs, and says so when it runs nothing", () => {
    const { progress, out } = harness();
    progress.started({ total: 6, toRun: 6, parallel: 2, sweepId: "s", resumed: 0, final: true });
    progress.reevaluationStarted?.({
      targets: ["t0002", "t0004"],
      repeats: 2,
      trial_ids: ["t0006", "t0007", "t0008", "t0009"],
      toRun: 4,
      total: 10,
    });
    expect(out.at(-1)).toBe(
      "re-evaluation: 2 best configurations (t0002, t0004) run 2 more times each with new seeds: 4 trials, 4 to run; the best mean is promoted\n",
    );
    progress.reevaluationStarted?.({ targets: [], repeats: 2, trial_ids: [], toRun: 0, total: 6 });
    expect(out.at(-1)).toMatch(
      /^re-evaluation: no configuration runs again \(the model finds the scores free of noise/,
    );
  });

  it("writes no heartbeat while nothing runs, and nothing at all once stopped", async () => {
    const { progress, out } = harness();
    progress.started({ total: 1, toRun: 1, parallel: 1, sweepId: "s", resumed: 0, final: true });
    const before = out.length;
    await progress.tick();
    expect(out.length).toBe(before);
    progress.trialStarted(trial("t0000"), { worker: 0, outDir: "/runs/t0000" });
    progress.stop();
    await progress.tick();
    progress.trialOutput("t0000", "late");
    expect(out.length).toBe(before + 1); // the started line only
  });

  it("a metrics read still in flight when the sweep stops writes nothing", async () => {
    let release: (v: MetricsView) => void = () => {};
    const out: string[] = [];
    const progress = createProgress({
      write: (text) => out.push(text),
      tty: false,
      now: () => 0,
      heartbeatMs: 3_600_000,
      readMetrics: () => new Promise((resolve) => (release = resolve)),
    });
    progress.started({ total: 1, toRun: 1, parallel: 1, sweepId: "s", resumed: 0, final: true });
    progress.trialStarted(trial("t0000"), { worker: 0, outDir: "/runs/t0000" });
    const ticking = progress.tick();
    progress.stop();
    release({ step: 1, values: [] });
    await ticking;
    expect(out.join("")).not.toContain("running");
  });

  it("a resumed sweep has its best and ETA from the earlier records at once", () => {
    const { progress } = harness();
    progress.started({
      total: 4,
      toRun: 2,
      parallel: 1,
      sweepId: "s",
      resumed: 2,
      final: true,
      earlier: [record("t0000", 0.5, 60), record("t0001", 0.75, 180)],
    });
    // Median 2 min, 2 trials on 1 worker.
    expect(progress.heartbeat()).toBe("[2/4 done, 0 running, 2 left] best 0.7500 (t0001), ETA 4m");
  });

  it("a sweep that may plan more waves marks its ETA as a lower bound", () => {
    const { progress } = harness();
    progress.started({
      total: 2,
      toRun: 1,
      parallel: 1,
      sweepId: "s",
      resumed: 1,
      final: false,
      earlier: [record("t0000", 0.5, 120)],
    });
    expect(progress.heartbeat()).toBe("[1/2 done, 0 running, 1 left] best 0.5000 (t0000), ETA 2m+");
  });

  it("a terminal gets the status redrawn in place, cut to its width, and --follow lines above it", async () => {
    const { progress, out, advance } = harness({
      tty: true,
      columns: 60,
      metrics: { t0000: { step: 5, values: [] } },
    });
    progress.started({ total: 2, toRun: 2, parallel: 1, sweepId: "s", resumed: 0, final: true });
    progress.trialStarted(trial("t0000"), { worker: 0, outDir: "/runs/t0000" });
    advance(75_000);
    await progress.tick();
    const redraw = out.at(-1) as string;
    expect(redraw.startsWith("\r\x1b[2K01:15 [0/2 done, 1 running, 1 left] best –: t0000 running")).toBe(
      true,
    );
    expect(redraw.length - "\r\x1b[2K".length).toBeLessThan(60);
    expect(redraw.endsWith("…")).toBe(true);
    progress.trialOutput("t0000", "epoch 1");
    expect(out.at(-1)?.startsWith(`${clear}[t0000] epoch 1\n01:15 [0/2 done`)).toBe(true);
    progress.stop();
    expect(out.at(-1)?.startsWith(`${clear}01:15 `)).toBe(true);
    expect(out.at(-1)?.endsWith("\n")).toBe(true);
  });
});
