import path from "node:path";
import { bestTrial } from "../core/best-trial.js";
import { paramText } from "../core/config/space.js";
import { lineText } from "../core/escape.js";
import { remainingMs } from "../core/progress/eta.js";
import { formatMetrics, type MetricsView } from "../core/progress/metrics-view.js";
import type { PlannedRungTrial } from "../core/search/fidelity.js";
import { outcomeSuffix } from "../core/search/trial-record.js";
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
const pad2 = (n: number) => String(n).padStart(2, "0");

/** How long a trial has run: `42s`, `4m12s`, `2h05m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad2(Math.floor((s % 3600) / 60))}m`;
}

/** A time left, to the minute: `<1m`, `12m`, `2h05m`. */
export function formatEta(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 1) return "<1m";
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h${pad2(m % 60)}m`;
}

/** The running trials listed on a heartbeat line at most; the rest are counted. */
const listedRunning = 8;

/** How the progress of a sweep is shown. */
export interface ProgressOptions {
  write: (text: string) => void;
  /** A terminal: one status line redrawn in place. Otherwise (a log) plain lines and heartbeats. */
  tty: boolean;
  /** The clock (ms), a parameter so tests never sleep. */
  now?: () => number;
  /** A log's heartbeat interval, while trials run (ms; default 60 000). */
  heartbeatMs?: number;
  /** A terminal's redraw interval (ms; default 1000). */
  redrawMs?: number;
  /**
   * Reads what to show of a running trial's metrics.jsonl (its last complete line); without
   * it no metrics are shown.
   */
  readMetrics?: (file: string) => Promise<MetricsView | undefined>;
  /** The terminal's width: the status line is cut to fit, as a wrapped line cannot be redrawn. */
  columns?: () => number | undefined;
}

/** A sweep's progress display. */
export interface Progress extends SweepProgress {
  trialOutput(trialId: string, line: string): void;
  /**
   * What the timer does: reads the running trials' metrics, then writes a heartbeat line (a
   * log, while trials run) or redraws the status line (a terminal). Tests call it directly.
   */
  tick(): Promise<void>;
  /** The status as a heartbeat line shows it now. */
  heartbeat(): string;
  /** Stops the timer; a terminal gets its status line once more, ended. Nothing is written after. */
  stop(): void;
}

interface Running {
  since: number;
  outDir: string;
  metrics?: MetricsView;
}

/**
 * Progress of a sweep: a line per event (sweep, wave, trial started, finished, and with
 * `--follow` each line a trainer prints, `[t0003] …`), and between them the status: the
 * trials done / running / left, the best so far, the ETA (see `remainingMs`) and each running
 * trial's time and metrics.jsonl numbers. On a terminal the status is one line redrawn in
 * place under the event lines; in a log it is a heartbeat line every `heartbeatMs` while
 * trials run, e.g. `[3/8 done, 2 running, 3 left] best 0.8417 (t0006), ETA 12m: t0004
 * running 4m12s, step 800 loss=0.31; t0005 running 1m05s`.
 */
export function createProgress({
  write,
  tty,
  now = () => Date.now(),
  heartbeatMs = 60_000,
  redrawMs = 1000,
  readMetrics,
  columns,
}: ProgressOptions): Progress {
  const start = now();
  let total = 0;
  let final = true;
  let workers = 1;
  let done = 0;
  let failed = 0;
  let best: TrialJson | undefined;
  /** Durations (ms) of the finished trials: this invocation's and the resumed records'. */
  const durations: number[] = [];
  const running = new Map<string, Running>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let polling = false;

  const finish = (record: TrialJson) => {
    if (typeof record.duration_s === "number") durations.push(record.duration_s * 1000);
    // The best so far as the evidence will choose it (bestTrial: the highest budget first,
    // ties to the earlier trial id).
    best = bestTrial(best ? [best, record] : [record]) ?? best;
  };
  const summary = () => {
    const t = now();
    const left = Math.max(0, total - done - running.size);
    const counts = `[${done}/${total} done${failed ? `, ${failed} failed` : ""}, ${running.size} running, ${left} left]`;
    const eta = remainingMs({
      finishedMs: durations,
      runningElapsedMs: [...running.values()].map((r) => t - r.since),
      waiting: left,
      workers,
    });
    // A sweep still planning waves may grow: its ETA is for the trials planned so far.
    const etaText = eta === undefined ? "" : `, ETA ${formatEta(eta)}${final ? "" : "+"}`;
    return `${counts} best ${best ? `${score(best.primary_score)} (${best.trial_id})` : "–"}${etaText}`;
  };
  const details = () => {
    const t = now();
    const shown = [...running].slice(0, listedRunning).map(([id, r]) => {
      const metrics = r.metrics ? formatMetrics(r.metrics) : "";
      return `${id} running ${formatDuration(t - r.since)}${metrics ? `, ${metrics}` : ""}`;
    });
    if (running.size > listedRunning) shown.push(`${running.size - listedRunning} more running`);
    return shown.join("; ");
  };
  const heartbeat = () => (running.size ? `${summary()}: ${details()}` : summary());
  const status = () => {
    // Trial ids, metric names and values come from the trainers' files: one terminal line.
    const text = lineText(`${clock(now() - start)} ${heartbeat()}`);
    const width = columns?.();
    // A line that wraps cannot be redrawn in place: cut it to the terminal's width.
    return width && text.length >= width ? `${text.slice(0, Math.max(1, width - 2))}…` : text;
  };
  const redraw = () => write(`\r\x1b[2K${status()}`);
  /**
   * Writes lines of progress. Each may hold what a trainer wrote (its error, its stderr, its
   * output under --follow): `lineText` keeps each one line, with no escape sequence of its own.
   */
  const line = (...texts: string[]) => {
    if (stopped) return;
    const text = texts.map(lineText).join("\n");
    if (tty) write(`\r\x1b[2K${text}\n${status()}`);
    else write(`${text}\n`);
  };
  const poll = async () => {
    if (!readMetrics || polling) return;
    polling = true;
    try {
      await Promise.all(
        [...running.values()].map(async (r) => {
          const metrics = await readMetrics(path.join(r.outDir, "metrics.jsonl")).catch(() => undefined);
          // An unreadable or half-written line keeps the numbers read before.
          if (metrics) r.metrics = metrics;
        }),
      );
    } finally {
      polling = false;
    }
  };
  const tick = async () => {
    if (stopped || (!tty && running.size === 0)) return;
    await poll();
    // Stopped meanwhile (the sweep ended, Ctrl-C): the final line has been written.
    if (stopped) return;
    if (tty) redraw();
    else if (running.size) write(`${lineText(heartbeat())}\n`);
  };

  return {
    started(info) {
      total = info.total;
      final = info.final;
      workers = Math.max(1, info.parallel);
      done = info.total - info.toRun;
      for (const record of info.earlier ?? []) finish(record);
      const resumed = info.resumed ? `, ${info.resumed} already completed (resumed)` : "";
      const planned = info.final ? "" : " planned so far";
      const schedule = info.schedule ? `; ${info.schedule}` : "";
      const beyond = info.beyond
        ? `, ${info.beyond} more planned by an earlier run with a higher num_samples (not run now, kept in the evidence)`
        : "";
      line(
        `sweep ${info.sweepId}: ${info.total} trials${planned}, ${info.toRun} to run, ${info.parallel} at a time${resumed}${beyond}${schedule}`,
      );
      if (!stopped && !timer) timer = setInterval(() => void tick(), tty ? redrawMs : heartbeatMs).unref();
    },
    waveStarted(info) {
      // A wave planned in this run adds its trials to the total; a resumed one is in it already.
      total = Math.max(total, info.total);
      const rung = info.rung === undefined ? "" : ` (rung ${info.rung}, budget ${info.budget})`;
      const n = info.trial_ids.length;
      line(`wave ${info.wave}${rung}: ${n} trial${n === 1 ? "" : "s"}, ${info.toRun} to run`);
    },
    reevaluationStarted(info) {
      total = Math.max(total, info.total);
      const n = info.trial_ids.length;
      if (n === 0) {
        line(
          "re-evaluation: no configuration runs again (the model finds the scores free of noise, so a re-run would repeat its score; or nothing was scored)",
        );
        return;
      }
      line(
        `re-evaluation: ${info.targets.length} best configuration${info.targets.length === 1 ? "" : "s"} (${info.targets.join(", ")}) run ${info.repeats} more time${info.repeats === 1 ? "" : "s"} each with new seeds: ${n} trial${n === 1 ? "" : "s"}, ${info.toRun} to run; the best mean is promoted`,
      );
    },
    trialStarted(trial: PlannedRungTrial, info: TrialStart) {
      running.set(trial.trial_id, { since: now(), outDir: info.outDir });
      const params = Object.entries(trial.params)
        .map(([k, v]) => `${k}=${paramText(v)}`)
        .join(" ");
      const where = `worker ${info.worker}${info.device === undefined ? "" : `, device ${info.device}`}`;
      const why = info.proposed === undefined ? "" : ` (${info.proposed})`;
      line(`${trial.trial_id} started (${where})${rungOf(trial)} ${params}${why}`);
    },
    trialFinished(record: TrialJson) {
      running.delete(record.trial_id);
      done++;
      if (record.status !== "completed" && record.status !== "pruned") failed++;
      finish(record);
      const why = outcomeSuffix(record);
      // A failure shows what the trainer last said on stderr: usually the reason.
      const tail = record.status === "completed" ? [] : (record.stderr_tail ?? []).map((l) => `    | ${l}`);
      // An exit code's message already ends with the last line: show the lines before it.
      if (record.error?.startsWith("trainer exited with code") && tail.length) tail.pop();
      line(
        `${record.trial_id} ${record.status}${rungOf(record)} primary_score=${score(record.primary_score)} (${record.duration_s}s) [${done}/${total}]${why}`,
        ...tail,
      );
    },
    trialOutput(trialId, text) {
      line(`[${trialId}] ${text}`);
    },
    leftoverTrainers({ stopped, unchecked, holder }) {
      const who = holder
        ? `the sweep that held the lock (pid ${holder.pid}, since ${holder.started_at})`
        : "an earlier sweep";
      const list = (groups: typeof stopped) => groups.map((g) => `${g.trial_id} (group ${g.pid})`).join(", ");
      if (stopped.length)
        line(
          `stopped ${stopped.length} trainer${stopped.length === 1 ? "" : "s"} left running by ${who}: ${list(stopped)}; their trials run again now, alone`,
        );
      if (unchecked.length)
        line(
          `warning: ${unchecked.length} trainer${unchecked.length === 1 ? "" : "s"} recorded by ${who} may still run (${list(unchecked)}): without /proc they cannot be told from other processes, so they were not stopped`,
        );
    },
    tick,
    heartbeat,
    stop() {
      if (stopped) return;
      if (timer) clearInterval(timer);
      timer = undefined;
      if (tty) write(`\r\x1b[2K${status()}\n`);
      stopped = true;
    },
  };
}
