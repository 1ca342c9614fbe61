import { access, constants, mkdir, open, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fillPlaceholders, type SweepConfig } from "../core/config/config.js";
import { paramText } from "../core/config/space.js";
import {
  expandWandbMacro,
  type WandbArgMacro,
  wandbArgsFile,
  wandbArgsJson,
  wandbMacroOf,
} from "../core/config/wandb-args.js";
import { InputError } from "../core/errors.js";
import type { WorktreeState } from "../core/evidence/source.js";
import { shortNumber } from "../core/progress/metrics-view.js";
import { lineRedactor, redact, secretValuesOf } from "../core/redact.js";
import type { PlannedRungTrial } from "../core/search/fidelity.js";
import type { Curve, PruneDecision } from "../core/search/pruning.js";
import { plannedRecord } from "../core/search/trial-record.js";
import type { EvalItem, PlannedTrial, TrialRecord, TrialStatus } from "../core/types.js";
import { type Clock, isoTime, systemClock } from "./clock.js";
import { describeFsError, rewriteLines, writeFileAtomic, writeJsonAtomic } from "./files.js";
import { type Profile, timed } from "./profile.js";
import { trialSource } from "./provenance.js";
import { type CurveBoard, watchMetrics } from "./pruner.js";
import { gradeTrialOutput } from "./trial-grade.js";
import { LineSplitter, runTrialProcess } from "./trial-process.js";

/** Everything `trial.json` holds (DESIGN.md, "History / trial records"). */
export interface TrialJson extends TrialRecord {
  sweep_id: string;
  seed: number;
  exit_code: number | null;
  signal: string | null;
  started_at: string;
  finished_at: string | null;
  duration_s: number | null;
  /** Why the trial did not complete; null when it completed (what it met is in `note`). */
  error: string | null;
  /** The argv as run (placeholders filled). */
  command: string[];
  /** Which machine ran it (`RUNNER_NAME` on GitHub, else the host name). */
  runner: string;
  /**
   * The commit checked out when the trial started (full sha), null outside git; absent in
   * records of an older tunix-rt.
   */
  commit_sha?: string | null;
  /**
   * How the working tree differed from that commit when the trial started (the tool's outputs
   * and the trial's own folder left out), null outside git; absent in older records.
   */
  worktree?: WorktreeState | null;
  /** Graded rows, and how many counted towards primary_score. */
  rows?: number;
  counted?: number;
  /** Evalset ids the trainer gave no prediction for (graded 0). */
  missing_predictions?: number;
  /** Predictions whose id is not in the evalset (ignored). */
  extra_predictions?: number;
  /**
   * A completed trial: what grading met that did not fail it (evalset items without a
   * prediction, prediction ids not in the evalset, rows that did not count), in one line.
   * Shown wherever the trial's outcome is: the sweep's line, the leaderboard, the summary.
   */
  note?: string;
  /** Successive halving: the rung the trial ran at (its budget is `budget`). */
  rung?: number;
  /** Successive halving: the trial of the rung below whose configuration this one continues. */
  parent?: string;
  /** The folder the trainer was told to resume from (`TUNIX_RT_RESUME_FROM`), when it was. */
  resume_from?: string;
  /** A trial that did not complete: the last lines its trainer wrote to stderr (redacted). */
  stderr_tail?: string[];
  /**
   * A trial of a local sweep planned one at a time: the trials whose records its sampler saw
   * (every other earlier trial was running), so its proposal can be replayed from trials.jsonl.
   */
  proposed_from?: string[];
  /** With `pruning`: the pruning metric's curve as metrics.jsonl gave it. */
  curve?: Curve;
  /** A pruned trial: the decision, which verify takes again from the recorded curves. */
  pruned?: PruneDecision;
  /** With `tracked_metric`: its last value in metrics.jsonl (null when none was written). */
  tracked_metric?: { name: string; value: number | null };
}

/** Files a trial attempt writes; removed before a new attempt in the same folder. */
const trialOutputs = [
  "trial.json",
  "output.log",
  "predictions.jsonl",
  "eval_rows.jsonl",
  "metrics.jsonl",
  wandbArgsFile,
];

/** How to run one trial. */
export interface RunTrialOptions {
  /** Where the time of each step goes (`npm run bench:overhead`), when measured. */
  profile?: Profile;
  /**
   * The sweep found no commit to run from (not a git repository, or none yet): the trial
   * records no source without asking git again, as it would find none either.
   */
  outsideGit?: boolean;
  config: SweepConfig;
  trial: PlannedRungTrial;
  /** The trial's folder: trial.json, output.log, predictions, eval_rows.jsonl land here. */
  outDir: string;
  /** Repository root: the trainer's working directory and the base of relative paths. */
  cwd: string;
  /** The environment the trainer inherits (the contract's variables are added). */
  env: NodeJS.ProcessEnv;
  /** Extra variables for this trial only (a worker's CUDA_VISIBLE_DEVICES). */
  extraEnv?: Record<string, string>;
  /** Stops the trainer (Ctrl-C); the record then says "interrupted". */
  signal?: AbortSignal;
  /** The evalset's items, read once for a whole sweep (`evalsetLoader`); default: read per trial. */
  loadEvalset?: () => Promise<readonly EvalItem[]>;
  /** Secret values to hide besides those of secret-looking variables in `env`. */
  secrets?: readonly string[];
  /**
   * Receives the trainer's output as it comes (a terminal echo), one line at a time (each of
   * stdout and stderr split on its own), redacted as output.log is: a secret the trainer
   * prints reaches neither.
   */
  echoLines?: (line: string) => void;
  clock?: Clock;
  /** Grace between SIGTERM and SIGKILL (ms). */
  graceMs?: number;
  /**
   * Path of a checkpoint folder the trainer may resume from (`TUNIX_RT_RESUME_FROM`): the
   * caller resolves it (a local sweep: the parent's trial folder; on GitHub: the parent's
   * downloaded artifact). Relative paths are resolved against `cwd`.
   */
  resumeFrom?: string;
  /** Recorded as `proposed_from` (see TrialJson). */
  proposedFrom?: readonly string[];
  /** Told the trainer's process group when it starts (`runTrialProcess`'s onSpawn). */
  onTrainer?: (pid: number) => void;
  /**
   * With the config's `pruning`: the sweep's curves, against which this trial's metrics.jsonl
   * is judged as it grows (a decision stops the trainer); without it the trial is not pruned.
   */
  board?: CurveBoard;
  /** How often metrics.jsonl is read for pruning (ms; default 500). */
  pruneIntervalMs?: number | undefined;
}

/**
 * The argv of a trial: the config's command with every placeholder filled. `{output_dir}` is
 * relative to the working directory when the folder lies inside it, so the command recorded
 * in evidence reads the same on every machine (TUNIX_RT_OUTPUT_DIR stays absolute).
 */
export function trialArgv(
  config: SweepConfig,
  trial: PlannedTrial,
  outDir: string,
  cwd?: string,
  env: Readonly<Record<string, string | undefined>> = {},
): string[] {
  const relative = cwd === undefined ? outDir : path.relative(cwd, outDir);
  const shown =
    cwd !== undefined && relative && !relative.startsWith("..") && !path.isAbsolute(relative)
      ? relative
      : outDir;
  const values = placeholderValues(trial, shown);
  // A W&B command's macros (src/core/config/wandb-args.ts) are whole elements, each giving zero or more.
  return (config.trainer?.command ?? []).flatMap((arg) => {
    const macro = wandbMacroOf(arg);
    if (macro === undefined) return [fillPlaceholders(arg, values)];
    if (macro.startsWith("envvar:")) return [env[macro.slice("envvar:".length)] ?? ""];
    return expandWandbMacro(
      macro as WandbArgMacro,
      trial.params,
      config.search_space,
      path.join(shown, wandbArgsFile),
    );
  });
}

/** The values that `{placeholders}` take for one trial. */
export function placeholderValues(trial: PlannedTrial, outDir: string): Record<string, string> {
  const values: Record<string, string> = {
    trial_id: trial.trial_id,
    output_dir: outDir,
    seed: String(trial.seed),
  };
  if (trial.budget !== undefined) values.budget = String(trial.budget);
  // A list or mapping (a choice's value) as JSON; anything else as JavaScript writes it.
  for (const [name, value] of Object.entries(trial.params)) values[name] = paramText(value);
  return values;
}

/** The environment of the trial contract (DESIGN.md, "Trial contract"), without the inherited one. */
export function trialEnv(
  config: SweepConfig,
  trial: PlannedTrial,
  outDir: string,
  cwd: string,
): Record<string, string> {
  const values = placeholderValues(trial, outDir);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config.trainer?.env ?? {}))
    env[key] = fillPlaceholders(value, values);
  Object.assign(env, {
    TUNIX_RT_TRIAL_ID: trial.trial_id,
    TUNIX_RT_SWEEP_ID: trial.sweep_id,
    TUNIX_RT_PARAMS_FILE: path.join(outDir, "params.json"),
    TUNIX_RT_OUTPUT_DIR: outDir,
    TUNIX_RT_SEED: String(trial.seed),
  });
  if (config.evalset) env.TUNIX_RT_EVALSET = path.resolve(cwd, config.evalset);
  if (trial.budget !== undefined) env.TUNIX_RT_BUDGET = String(trial.budget);
  return env;
}

/** A path as evidence shows it: relative to the working directory when inside it. */
function shownPath(p: string, cwd: string): string {
  const relative = path.relative(cwd, p);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative)
    ? relative.split(path.sep).join("/")
    : p;
}

/**
 * An echo of a trainer's raw output as redacted lines: each stream is split into lines and
 * redacted on its own (a private-key block printed on stderr spans stderr's lines only), as
 * output.log is redacted line by line; a chunk is never printed before its line is whole.
 */
function redactedEcho(
  echo: (line: string) => void,
  secrets: readonly string[],
): { write: (chunk: Buffer, stream: "stdout" | "stderr") => void; end: () => void } {
  const splitterOf = () => {
    const redactLine = lineRedactor(secrets);
    return new LineSplitter((line) => echo(redactLine(line)));
  };
  const streams = { stdout: splitterOf(), stderr: splitterOf() };
  return {
    write: (chunk, stream) => streams[stream].write(chunk),
    end: () => {
      streams.stdout.end();
      streams.stderr.end();
    },
  };
}

/** Ensures the trial folder exists and is writable, or throws exit 2 naming it. */
async function prepareOutDir(outDir: string, shownAs: string): Promise<void> {
  try {
    await mkdir(outDir, { recursive: true });
    await access(outDir, constants.W_OK);
    if (!(await stat(outDir)).isDirectory()) throw new Error("not a directory");
  } catch (error) {
    throw new InputError(`${shownAs}: trial folder is not writable: ${describeFsError(error)}`);
  }
}

/**
 * Runs one trial end to end: the trainer, then grading, then `trial.json` (atomically). A
 * record is written in every case where the folder is writable; the returned record says
 * how it went. Throws only for input errors (exit 2).
 */
export async function runTrial(options: RunTrialOptions): Promise<TrialJson> {
  const { config, trial, cwd } = options;
  const clock = options.clock ?? systemClock;
  const outDir = path.resolve(cwd, options.outDir);
  if (!config.trainer)
    throw new InputError("config: trainer: missing; this command runs trials and needs trainer.command");
  const profile = options.profile;
  await timed(profile, "trial: folder", () => prepareOutDir(outDir, options.outDir));

  const argv = trialArgv(config, trial, outDir, cwd, options.env);
  const resumeFrom = options.resumeFrom ? path.resolve(cwd, options.resumeFrom) : undefined;
  // The code this trial runs is the code checked out now: a sweep resumed later, from
  // another commit or after an edit was reverted, must not be able to speak for it.
  const source = options.outsideGit
    ? { commit_sha: null, worktree: null }
    : await timed(profile, "trial: git source", () => trialSource(cwd, outDir));
  const recordSecrets = [...secretValuesOf(options.env), ...(options.secrets ?? [])];
  const started = clock.now();
  const base: TrialJson = {
    ...plannedRecord(trial),
    exit_code: null,
    signal: null,
    started_at: isoTime(started),
    finished_at: null,
    duration_s: null,
    error: null,
    // A W&B command's {wandb:envvar:NAME} puts the environment in argv: a secret among it
    // (an API key) is redacted in the record, which travels into evidence and the zip.
    command: argv.map((arg) => redact(arg, recordSecrets)),
    runner: options.env.RUNNER_NAME || os.hostname(),
    commit_sha: source.commit_sha,
    worktree: source.worktree,
    ...(resumeFrom === undefined ? {} : { resume_from: shownPath(resumeFrom, cwd) }),
    ...(options.proposedFrom === undefined ? {} : { proposed_from: [...options.proposedFrom] }),
  };
  const recordFile = path.join(outDir, "trial.json");
  // A new attempt starts clean: outputs of an earlier attempt must not be graded as this one's.
  await timed(profile, "trial: folder", async () => {
    await Promise.all(trialOutputs.map((name) => rm(path.join(outDir, name), { force: true })));
    try {
      // The record says "running" until the trial ends; if a power cut loses it, the trial runs
      // again anyway, so these two need no flush to disk (the final record below does).
      await writeJsonAtomic(path.join(outDir, "params.json"), trial.params, { durable: false });
      // A W&B command's {wandb:args_json_file} names this file: the params as W&B's agent writes them.
      if (config.trainer?.command.includes("{wandb:args_json_file}"))
        await writeFileAtomic(
          path.join(outDir, wandbArgsFile),
          `${wandbArgsJson(trial.params, config.search_space)}\n`,
          { durable: false },
        );
      await writeJsonAtomic(recordFile, base, { durable: false });
    } catch (error) {
      throw new InputError(`${outDir}: trial folder is not writable: ${(error as Error).message}`);
    }
  });

  const env: NodeJS.ProcessEnv = {
    ...options.env,
    ...trialEnv(config, trial, outDir, cwd),
    ...options.extraEnv,
  };
  if (resumeFrom) env.TUNIX_RT_RESUME_FROM = resumeFrom;
  // The log travels on (artifacts, evidence, summaries): secrets the trainer printed stop here.
  const secrets = [...new Set([...secretValuesOf(env), ...(options.secrets ?? [])])];
  const lines = options.echoLines && redactedEcho(options.echoLines, secrets);
  const trainerStarted = performance.now();
  // Pruning: a decision aborts the trainer as Ctrl-C does, SIGTERM then SIGKILL after the grace.
  const prune = new AbortController();
  const pruning = config.pruning;
  const watch =
    pruning && options.board
      ? watchMetrics({
          file: path.join(outDir, "metrics.jsonl"),
          config: pruning,
          trialId: trial.trial_id,
          board: options.board,
          onPrune: () => prune.abort(),
          intervalMs: options.pruneIntervalMs,
        })
      : undefined;
  const ran = await runTrialProcess({
    argv,
    cwd,
    env,
    logFile: path.join(outDir, "output.log"),
    timeoutMs: (config.trainer.timeout_minutes ?? 120) * 60_000,
    graceMs: options.graceMs ?? (pruning ? pruning.grace_seconds * 1000 : undefined),
    signal: watch
      ? options.signal
        ? AbortSignal.any([options.signal, prune.signal])
        : prune.signal
      : options.signal,
    echo: lines ? (chunk, stream) => lines.write(chunk, stream) : undefined,
    stderrLine: lineRedactor(secrets),
    ...(options.onTrainer ? { onSpawn: options.onTrainer } : {}),
  });
  lines?.end();
  const watched = await watch?.stop();
  const tracked = config.tracked_metric
    ? {
        tracked_metric: {
          name: config.tracked_metric.name,
          value: await lastMetricValue(path.join(outDir, "metrics.jsonl"), config.tracked_metric.name),
        },
      }
    : {};
  profile?.add("trial: trainer process", performance.now() - trainerStarted);
  await timed(profile, "trial: redact output.log", () =>
    rewriteLines(path.join(outDir, "output.log"), lineRedactor(secrets)).catch(() => undefined),
  );
  const finished = clock.now();
  const record: TrialJson = {
    ...base,
    exit_code: ran.exitCode,
    signal: ran.signal,
    finished_at: isoTime(finished),
    duration_s: Math.round(finished - started) / 1000,
    ...(watched && watched.points.length > 0 && pruning
      ? {
          curve: {
            metric: pruning.metric,
            steps: watched.points.map((p) => p.step),
            values: watched.points.map((p) => p.value),
          },
        }
      : {}),
    ...(watched?.notes.length ? { note: watched.notes.join("; ") } : {}),
    ...tracked,
  };

  // What the trainer last said on stderr is usually why it failed: the record keeps it.
  const tail = ran.stderrTail;
  const fail = (status: TrialStatus, error: string): TrialJson => ({
    ...record,
    status,
    error,
    ...(tail.length ? { stderr_tail: tail } : {}),
  });
  let final: TrialJson;
  if (ran.spawnError) final = fail("failed", ran.spawnError);
  else if (watched?.decision && ran.interrupted && prune.signal.aborted && options.signal?.aborted !== true) {
    // (A decision found only after the trainer ended on its own is moot: the trial completed.)
    // Pruned: neither completed nor failed; the decision says why, and verify takes it again.
    const d = watched.decision;
    final = {
      ...record,
      status: "pruned",
      primary_score: null,
      error: null,
      pruned: d,
      note: [
        `pruned at step ${d.step}: ${pruning?.metric} ${shortNumber(d.value)} is worse than ${d.rule === "median" ? `the median ${shortNumber(d.threshold)} of ${Object.keys(d.compared).length} other trials` : `the cut ${shortNumber(d.threshold)} of rung ${d.rung} (${Object.keys(d.compared).length + 1} trials)`}`,
        ...watched.notes,
      ].join("; "),
    };
  } else if (ran.interrupted)
    final = fail("failed", "interrupted (the sweep was stopped); it runs again on resume");
  else if (ran.timedOut)
    final = fail(
      "timeout",
      `timed out after ${config.trainer.timeout_minutes} min; the trainer and its process group were stopped`,
    );
  else if (ran.signal) final = fail("failed", `trainer was killed by ${ran.signal}`);
  else if (ran.exitCode !== 0)
    final = fail(
      "failed",
      // The last thing it said on stderr is usually why (a traceback's last line): the
      // leaderboard and the pull request show this message.
      `trainer exited with code ${ran.exitCode}${tail.length ? `: ${tail[tail.length - 1]}` : ""} (see output.log)`,
    );
  else {
    // Whatever grading meets, the record must not stay at "running".
    const graded = await timed(profile, "trial: grading", () =>
      gradeTrialOutput({
        outDir,
        evalset: config.evalset ? path.resolve(cwd, config.evalset) : undefined,
        evalsetShown: config.evalset,
        ...(options.loadEvalset ? { loadEvalset: options.loadEvalset } : {}),
      }).catch((error: unknown) => ({
        status: "failed" as const,
        error: `grading failed: ${error instanceof Error ? error.message : String(error)}`,
        fields: { primary_score: null },
      })),
    );
    // Grading's note and the metrics' notes, both kept.
    const notes = [(graded.fields as { note?: string }).note, record.note].filter(
      (n): n is string => typeof n === "string",
    );
    final = {
      ...record,
      ...graded.fields,
      status: graded.status,
      error: graded.error,
      ...(notes.length ? { note: notes.join("; ") } : {}),
    };
  }
  await timed(profile, "trial: record", () => writeJsonAtomic(recordFile, final));
  return final;
}

/**
 * The last finite number a metrics.jsonl line gives `name` (its last MiB read, from the end),
 * or null when none does or the file is not there.
 */
export async function lastMetricValue(file: string, name: string): Promise<number | null> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return null;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 1 << 20);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split("\n");
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const record: unknown = JSON.parse(lines[i] as string);
        if (record !== null && typeof record === "object" && Object.hasOwn(record, name)) {
          const value = (record as Record<string, unknown>)[name];
          if (typeof value === "number" && Number.isFinite(value)) return value;
        }
      } catch {
        // A torn or partial line (the first of the window, or a trainer killed mid-write).
      }
    }
    return null;
  } finally {
    await handle.close();
  }
}
