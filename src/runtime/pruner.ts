/**
 * Pruning while a trial trains: its `metrics.jsonl` is read as it grows (only complete lines:
 * a line still being written waits for its newline), the pruning metric's points go on a
 * board shared by the sweep's trials, and each new point is judged against every other
 * trial's curve so far (src/core/search/pruning.ts). A decision stops the trainer.
 */
import { open } from "node:fs/promises";
import {
  type CurvePoint,
  CurveReader,
  decide,
  type IndexedCurve,
  type PruneDecision,
  type PruningConfig,
  recordedCurve,
} from "../core/search/pruning.js";

/**
 * Every trial's curve of the pruning metric so far, by trial id: what decisions are taken
 * against. A running trial's curve is its reader's own, growing in place (no copy per point).
 */
export class CurveBoard {
  readonly #curves = new Map<string, IndexedCurve>();
  readonly #completed = new Set<string>();

  /** The board of a sweep's finished records (a resumed sweep's): their recorded curves. */
  static of(records: Iterable<{ trial_id: string; curve?: unknown; status?: unknown }>): CurveBoard {
    const board = new CurveBoard();
    for (const r of records) {
      const curve = r.curve === undefined ? undefined : recordedCurve(r.curve);
      if (curve !== undefined && typeof curve !== "string") {
        board.set(r.trial_id, curve);
        if (r.status === "completed") board.complete(r.trial_id);
      }
    }
    return board;
  }

  /** The trials that completed (protect_leaders: their curves' last points are final values). */
  get completed(): ReadonlySet<string> {
    return this.#completed;
  }

  /** Marks a trial completed: its curve is whole, its last point its final value. */
  complete(trialId: string): void {
    this.#completed.add(trialId);
  }

  /** How many trials' curves it holds. */
  get size(): number {
    return this.#curves.size;
  }

  set(trialId: string, curve: IndexedCurve): void {
    this.#curves.set(trialId, curve);
  }

  /** Every curve but `trialId`'s. */
  *others(trialId: string): Generator<readonly [string, IndexedCurve]> {
    for (const entry of this.#curves) if (entry[0] !== trialId) yield entry;
  }
}

/** What a watch saw, when stopped. */
export interface WatchResult {
  points: CurvePoint[];
  decision?: PruneDecision;
  /** One line per kind of metrics line skipped, and a note when the metric never came. */
  notes: string[];
}

/**
 * Watches a trial's metrics.jsonl every `intervalMs`, judging each new point; `onPrune` is
 * called once, with the decision, when the rule prunes the trial. `stop` reads what is left
 * (the trainer has ended), and returns the curve, the decision and notes.
 */
export function watchMetrics({
  file,
  config,
  trialId,
  board,
  onPrune,
  intervalMs = 500,
}: {
  file: string;
  config: PruningConfig;
  trialId: string;
  board: CurveBoard;
  onPrune: (decision: PruneDecision) => void;
  intervalMs?: number | undefined;
}): { stop: () => Promise<WatchResult> } {
  const reader = new CurveReader(config.metric);
  let offset = 0;
  let partial = Buffer.alloc(0);
  let line = 0;
  let decision: PruneDecision | undefined;
  let reading: Promise<void> = Promise.resolve();

  board.set(trialId, reader.curve);
  const take = (text: string) => {
    line++;
    const point = reader.add(text.replace(/\r$/, ""), line);
    if (!point || decision) return;
    decision = decide(config, reader.curve, board.others(trialId), board.completed);
    if (decision) onPrune(decision);
  };
  const readMore = async () => {
    const handle = await open(file, "r").catch(() => undefined);
    if (!handle) return;
    try {
      for (;;) {
        const chunk = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
        if (bytesRead === 0) return;
        offset += bytesRead;
        let data = Buffer.concat([partial, chunk.subarray(0, bytesRead)]);
        for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
          take(data.subarray(0, nl).toString("utf8"));
          data = data.subarray(nl + 1);
        }
        // A line longer than 1 MiB is no metrics line: dropped as it comes.
        partial = data.length > 1 << 20 ? Buffer.alloc(0) : Buffer.from(data);
      }
    } finally {
      await handle.close();
    }
  };
  const tick = () => {
    reading = reading.then(readMore).catch(() => undefined);
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      tick();
      await reading;
      const notes = [...reader.notes.values()];
      if (partial.toString("utf8").trim() !== "")
        notes.push(`metrics.jsonl:${line + 1}: the last line has no newline (torn, or not flushed); skipped`);
      if (!reader.sawMetric)
        notes.push(
          `metrics.jsonl: no line had "${config.metric}", the pruning metric: this trial could not be pruned`,
        );
      return { points: reader.curve.points, ...(decision ? { decision } : {}), notes };
    },
  };
}

/**
 * How often a running trial's metrics.jsonl is read, from TUNIX_RT_PRUNE_INTERVAL_MS when it
 * is a positive number of milliseconds (tests read often); else undefined, the default 500 ms.
 */
export function pruneIntervalFrom(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const ms = Number(env.TUNIX_RT_PRUNE_INTERVAL_MS);
  return ms > 0 ? ms : undefined;
}
