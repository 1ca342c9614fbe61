import { compareTrialIds } from "../../core/best-trial.js";
import {
  type PlannedRungTrial,
  scheduledWaves,
  type WaveConfig,
  waveSize,
} from "../../core/search/fidelity.js";
import { preferRecord, standInRecord } from "../../core/search/trial-record.js";
import type { TrialRecord } from "../../core/types.js";

/**
 * How many trials wave `wave` (1-based) of a sweep without fidelity plans, given how many the
 * earlier waves planned: a wave's size, fewer for the last, none past the config's `waves`
 * or once num_samples trials are planned. Counting the planned trials (not the records)
 * keeps a wave whose jobs died without an artifact from being planned a second time.
 */
export function plainWaveCount(config: WaveConfig, wave: number, plannedBefore: number): number {
  if (wave > scheduledWaves(config)) return 0;
  return Math.max(0, Math.min(waveSize(config), config.num_samples - plannedBefore));
}

/**
 * The history a wave is planned from: one record per trial of the sweep (a completed one
 * over any other, as aggregate keeps them), and, for every trial an earlier wave planned
 * that left no record (its runner died before the upload, or its job was cancelled), a
 * failed stand-in with its params, budget, rung and parent. So new trials are numbered after
 * every planned one (no artifact name is reused) and successive halving sees the gap.
 * Records of other sweeps are left out. Sorted by trial id.
 */
export function waveHistory(
  records: readonly TrialRecord[],
  planned: readonly PlannedRungTrial[],
  sweepId: string,
): TrialRecord[] {
  const byId = new Map<string, TrialRecord>();
  for (const record of records) {
    if (typeof record.sweep_id === "string" && record.sweep_id !== sweepId) continue;
    const other = byId.get(record.trial_id);
    if (!other || preferRecord(record, other)) byId.set(record.trial_id, record);
  }
  for (const trial of planned) {
    if (byId.has(trial.trial_id)) continue;
    byId.set(trial.trial_id, standInRecord({ ...trial, sweep_id: sweepId }, "failed"));
  }
  return [...byId.values()].sort((a, b) => compareTrialIds(a.trial_id, b.trial_id));
}

/**
 * The planned trials of every wave so far: the earlier waves' (the previous plan's
 * `planned` output) and this wave's, without repeats (a re-run plan job plans the same ids).
 */
export function mergePlanned(
  earlier: readonly PlannedRungTrial[],
  now: readonly PlannedRungTrial[],
): PlannedRungTrial[] {
  const seen = new Set<string>();
  const all: PlannedRungTrial[] = [];
  for (const trial of [...earlier, ...now]) {
    if (seen.has(trial.trial_id)) continue;
    seen.add(trial.trial_id);
    all.push(trial);
  }
  return all;
}

/** What a wave's plan keeps in its artifact (`tunix-rt-wave-<sweep_id>-<wave>`). */
export const waveFiles = {
  history: "history.jsonl",
  trials: "trials.json",
  outputs: "outputs.json",
} as const;

/**
 * The records of a wave artifact's history.jsonl (a plan job of this sweep wrote it; an
 * unreadable line, a truncated download, is left out).
 */
export function parseHistory(text: string): TrialRecord[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as TrialRecord];
      } catch {
        return [];
      }
    });
}
