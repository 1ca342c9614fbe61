/**
 * Waves on GitHub: how many waves a schedule takes, each wave's share, and the history a
 * later wave is planned from (the run's trial records plus the earlier waves' planned
 * trials), pure and from real folders; then a wave-2 plan as the runner runs the bundle.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  mergePlanned,
  plainWaveCount,
  readWaveHistory,
  waveHistory,
  wavesNeeded,
} from "../../src/actions/sweep/waves.js";
import { type PlannedRungTrial, scheduledWaves, waveSize } from "../../src/core/fidelity.js";
import type { TrialRecord } from "../../src/core/types.js";
import { makeWorkspace, runBundle } from "./helpers.js";

const sweepId = "123e4567-e89b-12d3-a456-426614174000";
const planned = (id: string, extra: Partial<PlannedRungTrial> = {}): PlannedRungTrial => ({
  sweep_id: sweepId,
  trial_id: id,
  seed: 5,
  params: { x: 1 },
  ...extra,
});
const record = (id: string, status: TrialRecord["status"], score: number | null, sweep = sweepId) =>
  ({ sweep_id: sweep, trial_id: id, params: { x: 2 }, status, primary_score: score }) as TrialRecord;

describe("the wave schedule", () => {
  it("takes ceil(num_samples / size) plain waves, and one more per further rung", () => {
    const c = { max_concurrent_trials: 1, fidelity: undefined };
    expect(wavesNeeded({ ...c, num_samples: 10, waves: 3 })).toBe(3);
    expect(wavesNeeded({ ...c, num_samples: 10, waves: 1 })).toBe(1);
    // 9 in waves of ceil(9/4) = 3: three waves suffice.
    expect(wavesNeeded({ ...c, num_samples: 9, waves: 4 })).toBe(3);
    const fidelity = { min_budget: 1, max_budget: 9, eta: 3, resume: true };
    expect(wavesNeeded({ ...c, num_samples: 9, waves: 2, fidelity })).toBe(4);
  });

  it("without a waves key, follows the runners: one wave per round of max_concurrent_trials, at most 8", () => {
    const plain = (num_samples: number, max_concurrent_trials: number) =>
      scheduledWaves({ num_samples, max_concurrent_trials, waves: undefined, fidelity: undefined });
    expect(plain(5, 1)).toBe(5); // the M34 default: one trial a wave, each planned from every score
    expect(plain(16, 4)).toBe(4);
    expect(plain(17, 4)).toBe(5);
    expect(plain(4, 8)).toBe(1);
    expect(plain(256, 2)).toBe(8);
    expect(
      waveSize({ num_samples: 256, max_concurrent_trials: 2, waves: undefined, fidelity: undefined }),
    ).toBe(32);
    // With fidelity, rung 0 runs at once unless waves says otherwise; the rungs follow.
    const fidelity = { min_budget: 1, max_budget: 9, eta: 3, resume: true };
    expect(scheduledWaves({ num_samples: 9, max_concurrent_trials: 1, waves: undefined, fidelity })).toBe(1);
  });

  it("gives each wave its share, the last one the rest, none past waves or num_samples", () => {
    const config = { num_samples: 10, waves: 3, max_concurrent_trials: 1 };
    expect(plainWaveCount(config, 1, 0)).toBe(4);
    expect(plainWaveCount(config, 2, 4)).toBe(4);
    expect(plainWaveCount(config, 3, 8)).toBe(2);
    expect(plainWaveCount(config, 4, 10)).toBe(0);
    expect(plainWaveCount(config, 4, 2)).toBe(0);
    expect(plainWaveCount(config, 3, 12)).toBe(0);
  });
});

describe("a later wave's history", () => {
  it("keeps one record per trial (completed first), stands in for planned trials without one, drops other sweeps", () => {
    const history = waveHistory(
      [
        record("t0001", "failed", null),
        record("t0001", "completed", 0.5),
        record("t0000", "completed", 0.25),
        record("t0007", "completed", 0.9, "another-sweep"),
      ],
      [planned("t0000"), planned("t0001"), planned("t0002", { budget: 3, rung: 1, parent: "t0000" })],
      sweepId,
    );
    expect(history.map((r) => [r.trial_id, r.status, r.primary_score])).toEqual([
      ["t0000", "completed", 0.25],
      ["t0001", "completed", 0.5],
      ["t0002", "failed", null],
    ]);
    expect(history[2]).toMatchObject({ budget: 3, rung: 1, parent: "t0000", seed: 5, params: { x: 1 } });
  });

  it("merges the planned trials of every wave without repeats", () => {
    expect(
      mergePlanned([planned("t0000"), planned("t0001")], [planned("t0001"), planned("t0002")]).map(
        (t) => t.trial_id,
      ),
    ).toEqual(["t0000", "t0001", "t0002"]);
  });

  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-waves-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the records of downloaded artifacts (one folder each), with broken ones as notices", async () => {
    const artifacts = path.join(dir, "runs", sweepId);
    for (const [id, body] of [
      ["t0000", JSON.stringify(record("t0000", "completed", 0.75))],
      ["t0001", "{ truncated"],
    ] as const) {
      await mkdir(path.join(artifacts, `tunix-rt-trial-${sweepId}-${id}`), { recursive: true });
      await writeFile(path.join(artifacts, `tunix-rt-trial-${sweepId}-${id}`, "trial.json"), body);
    }
    const { history, notices } = await readWaveHistory(path.join("runs", sweepId), {
      cwd: dir,
      sweepId,
      planned: [planned("t0000"), planned("t0001")],
    });
    expect(history.map((r) => [r.trial_id, r.status])).toEqual([
      ["t0000", "completed"],
      ["t0001", "failed"],
    ]);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.file).toContain("t0001");
  });

  it("reads no folder (no artifact yet) as no records", async () => {
    const { history } = await readWaveHistory("runs/none", {
      cwd: dir,
      sweepId,
      planned: [planned("t0000")],
    });
    expect(history.map((r) => [r.trial_id, r.status])).toEqual([["t0000", "failed"]]);
  });
});

describe("a wave's plan, as the runner runs the bundle", () => {
  let workspace: string;
  beforeAll(async () => {
    workspace = await makeWorkspace("tunix-rt-waves-plan-");
  });
  afterAll(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  it("wave 1 plans its share; wave 2 is numbered after it and says it is the last; wave 3 plans nothing", async () => {
    const common = { mode: "plan", "num-samples": "5", "max-waves": "8", config: "" };
    // The test sweep is one wave: a copy of it in 2 waves.
    const text = await readFile(path.join(workspace, "training/sweep.yaml"), "utf8");
    await writeFile(
      path.join(workspace, "training/waves.yaml"),
      text.replace("num_samples: 3", "num_samples: 3\nwaves: 2"),
    );
    const first = await runBundle(
      "dist/sweep.js",
      { ...common, wave: "1", config: "training/waves.yaml" },
      { workspace },
    );
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.outputs.count).toBe("3");
    expect(first.outputs.done).toBe("false");
    expect(first.outputs.waves).toBe("2");
    const second = await runBundle(
      "dist/sweep.js",
      {
        ...common,
        config: "training/waves.yaml",
        wave: "2",
        "sweep-id": first.outputs["sweep-id"] as string,
        planned: first.outputs.planned as string,
      },
      { workspace },
    );
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const matrix = JSON.parse(second.outputs.matrix as string) as { include: Array<{ trial_id: string }> };
    expect(matrix.include.map((t) => t.trial_id)).toEqual(["t0003", "t0004"]);
    expect(second.outputs.done).toBe("true");
    const all = JSON.parse(second.outputs.planned as string) as { include: Array<{ trial_id: string }> };
    expect(all.include.map((t) => t.trial_id)).toEqual(["t0000", "t0001", "t0002", "t0003", "t0004"]);
    expect(second.summary).toContain("Wave 2 of at most 2");
    const third = await runBundle(
      "dist/sweep.js",
      { ...common, config: "training/waves.yaml", wave: "3", planned: second.outputs.planned as string },
      { workspace },
    );
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(third.outputs.count).toBe("0");
  });

  it("wave 1 refuses a schedule longer than the workflow's wave jobs", async () => {
    await writeFile(
      path.join(workspace, "training/long.yaml"),
      (await readFile(path.join(workspace, "training/sweep.yaml"), "utf8")).replace(
        "num_samples: 3",
        "num_samples: 9\nwaves: 9",
      ),
    );
    const step = await runBundle(
      "dist/sweep.js",
      { mode: "plan", wave: "1", "max-waves": "8", config: "training/long.yaml" },
      { workspace },
    );
    expect(step.code).toBe(1);
    expect(step.stdout).toContain("takes up to 9 waves");
  });

  it("history-from-artifacts needs the sweep's id", async () => {
    const step = await runBundle(
      "dist/sweep.js",
      { mode: "plan", wave: "2", "history-from-artifacts": "true", token: "t" },
      { workspace },
    );
    expect(step.code).toBe(1);
    expect(step.stdout).toContain("with.sweep-id: missing");
  });
});
