import { bestTrial } from "../core/evidence/best-trial.js";
import type { PlannedRungTrial } from "../core/fidelity.js";
import type { SweepProgress, TrialStart } from "../runtime/sweep.js";
import type { TrialJson } from "../runtime/trial.js";

/** " [rung 1, budget 1500, from t0003]" for a trial of a successive-halving sweep, else "". */
const rungOf = (t: { rung?: unknown; budget?: unknown; parent?: unknown }) =>
  typeof t.rung === "number"
    ? ` [rung ${t.rung}, budget ${String(t.budget)}${typeof t.parent === "string" ? `, from ${t.parent}` : ""}]`
    : "";
const score = (s: number | null) => (s === null ? "null" : s.toFixed(4));
const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
};

/**
 * Progress of a sweep: on a terminal one status line redrawn in place (done / running /
 * failed, best so far, elapsed) with a line per finished trial above it; otherwise plain
 * lines only, one per event, for CI logs.
 */
export function createProgress({
  write,
  tty,
  now = () => Date.now(),
}: {
  write: (text: string) => void;
  tty: boolean;
  now?: () => number;
}): SweepProgress & { stop(): void } {
  const start = now();
  let total = 0;
  let done = 0;
  let failed = 0;
  let running = 0;
  let best: TrialJson | undefined;
  let timer: NodeJS.Timeout | undefined;
  const status = () =>
    `[${done}/${total} done, ${running} running, ${failed} failed] best ${best ? `${score(best.primary_score)} (${best.trial_id})` : "–"}  ${clock(now() - start)}`;
  const redraw = () => write(`\r\x1b[2K${status()}`);
  const line = (text: string) => (tty ? write(`\r\x1b[2K${text}\n${status()}`) : write(`${text}\n`));
  return {
    started(info) {
      total = info.total;
      done = info.total - info.toRun;
      const resumed = info.resumed ? `, ${info.resumed} already completed (resumed)` : "";
      const planned = info.final ? "" : " planned so far";
      const schedule = info.schedule ? `; ${info.schedule}` : "";
      line(
        `sweep ${info.sweepId}: ${info.total} trials${planned}, ${info.toRun} to run, ${info.parallel} at a time${resumed}${schedule}`,
      );
      if (tty) timer = setInterval(redraw, 1000).unref();
    },
    waveStarted(info) {
      // A wave planned in this run adds its trials to the total; a resumed one is in it already.
      total = Math.max(total, info.total);
      const rung = info.rung === undefined ? "" : ` (rung ${info.rung}, budget ${info.budget})`;
      const n = info.trial_ids.length;
      line(`wave ${info.wave}${rung}: ${n} trial${n === 1 ? "" : "s"}, ${info.toRun} to run`);
    },
    trialStarted(trial: PlannedRungTrial, info: TrialStart) {
      running++;
      const params = Object.entries(trial.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ");
      const where = `worker ${info.worker}${info.device === undefined ? "" : `, device ${info.device}`}`;
      const why = info.proposed === undefined ? "" : ` (${info.proposed})`;
      line(`${trial.trial_id} started (${where})${rungOf(trial)} ${params}${why}`);
    },
    trialFinished(record: TrialJson) {
      running--;
      done++;
      if (record.status !== "completed") failed++;
      // The best so far as the evidence will choose it (bestTrial: the highest budget first,
      // ties to the earlier trial id).
      best = bestTrial(best ? [best, record] : [record]) ?? best;
      const why = record.status === "completed" ? "" : `: ${record.error}`;
      // A failure shows what the trainer last said on stderr: usually the reason.
      const tail = record.status === "completed" ? [] : (record.stderr_tail ?? []).map((l) => `\n    | ${l}`);
      // An exit code's message already ends with the last line: show the lines before it.
      if (record.error?.startsWith("trainer exited with code") && tail.length) tail.pop();
      line(
        `${record.trial_id} ${record.status}${rungOf(record)} primary_score=${score(record.primary_score)} (${record.duration_s}s) [${done}/${total}]${why}${tail.join("")}`,
      );
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) write(`\r\x1b[2K${status()}\n`);
    },
  };
}
