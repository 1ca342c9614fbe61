import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { compareTrialIds } from "../core/best-trial.js";
import type { SweepConfig } from "../core/config/config.js";
import { InputError } from "../core/errors.js";
import { bestConfigYaml, evidenceDocuments, type Provenance, trialLine } from "../core/evidence/aggregate.js";
import { deriveEvidence } from "../core/evidence/derived.js";
import { attestationFileName } from "../core/evidence/schemas.js";
import { manifestSource, sweepSource } from "../core/evidence/source.js";
import { encodeGrades, gradesFileName, scoreOfValues, type TrialGrades } from "../core/grading/grades.js";
import { rowValue } from "../core/grading/score.js";
import { redact, redactDeep, secretValuesOf } from "../core/redact.js";
import type { AggregatedTrial, LeaderboardRow, TrialCounts } from "../core/report/leaderboard.js";
import type { ReportInput } from "../core/report/report.js";
import type { PlannedRungTrial } from "../core/search/fidelity.js";
import { preferRecord, standInRecord } from "../core/search/trial-record.js";
import { describeFsError, forEachJsonl, sha256OfFile, writeFileAtomic, writeJsonAtomic } from "./files.js";
import { checkTrialRecord } from "./history.js";
import { writeCharts } from "./report.js";

/** A trial folder found under the trials folder: its record and where it lies. */
export interface FoundTrial {
  record: AggregatedTrial;
  dir: string;
}

/** What aggregate saw that did not make it into the leaderboard as is. */
export interface AggregateNotice {
  file: string;
  message: string;
}

/** What `aggregate` produced. */
export interface AggregateResult {
  sweepId: string | null;
  trials: AggregatedTrial[];
  leaderboard: LeaderboardRow[];
  counts: TrialCounts;
  best: AggregatedTrial | undefined;
  /** The evidence folder, when evidence was written (a best trial exists). */
  runDir: string | null;
  bestConfigFile: string | null;
  leaderboardFile: string;
  leaderboardMd: string;
  notices: AggregateNotice[];
  /** The sweep report's inputs (trials, space, importance): report.html is made from them. */
  report: ReportInput;
  /** The charts written into the evidence folder's charts/ (none without a best trial). */
  charts: string[];
}

/** How to aggregate. */
export interface AggregateOptions {
  config: SweepConfig;
  /** Folder holding trial folders (any depth: `<trial>/trial.json`, artifact folders, ...). */
  trialsDir: string;
  /** The evidence folder; its name must be the run_version. */
  runDir: string;
  /** Where the promoted config goes (`promotedConfigPath(run_version)` by default). */
  bestConfigFile: string;
  /** Repository root, for the relative paths evidence records. */
  cwd: string;
  /**
   * Its `commit` and `worktree` are the state when the sweep started or the evidence is
   * written: what the manifest says only of trials whose records keep no source
   * (`manifestSource`).
   */
  provenance: Omit<Provenance, "bestRunId" | "runVersion" | "bestConfigPath" | "commits">;
  /**
   * The planned trials, when known (GitHub): a planned trial without a record counts as
   * failed, since its job ran (or should have) and left nothing.
   */
  planned?: readonly PlannedRungTrial[];
  /**
   * The records and their folders, when the caller holds them (a local sweep keeps what its
   * trials returned); default: every trial.json under `trialsDir`, read and checked.
   */
  records?: readonly FoundTrial[];
  /** Trials of the sweep that never started (a local sweep's spent failure budget): counted as not run. */
  notRun?: number;
  /** Only records of this sweep count (default: the sweep most records belong to). */
  sweepId?: string;
  /** Names secrets whose values are redacted from the log that becomes evidence. */
  env?: NodeJS.ProcessEnv;
  /** How a trial folder is named in best_params.best_run_id (default: its relative path). */
  runIdOf?: (found: FoundTrial) => string;
}

/** Finds every `trial.json` under a folder (sorted), not following symlinks. */
async function findTrialFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string, depth: number) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (error) {
      if (depth === 0)
        throw new InputError(
          `${path.relative(process.cwd(), dir) || dir}: cannot read trials folder: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : describeFsError(error)}`,
        );
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < 6) await walk(p, depth + 1);
      else if (e.isFile() && e.name === "trial.json") found.push(p);
    }
  };
  await walk(dir, 0);
  return found.sort();
}

/** Reads trial records; broken ones become notices, never a crash. */
export async function readTrialRecords(
  trialsDir: string,
  cwd: string,
): Promise<{ found: FoundTrial[]; notices: AggregateNotice[] }> {
  const notices: AggregateNotice[] = [];
  const found: FoundTrial[] = [];
  for (const file of await findTrialFiles(trialsDir)) {
    const shown = path.relative(cwd, file) || file;
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      notices.push({
        file: shown,
        message: `unreadable or truncated trial record, skipped: ${(error as Error).message}`,
      });
      continue;
    }
    const problems = checkTrialRecord(value, { file: shown });
    if (problems.length) {
      notices.push({
        file: shown,
        message: `invalid trial record, skipped: ${problems[0]?.path}: ${problems[0]?.message}`,
      });
      continue;
    }
    found.push({ record: value as AggregatedTrial, dir: path.dirname(file) });
  }
  return { found, notices };
}

/**
 * Keeps one record per trial id: a completed one over any other, then the one that
 * finished last (a re-run's attempt over the earlier one).
 */
function dedupe(found: FoundTrial[], notices: AggregateNotice[], cwd: string): FoundTrial[] {
  const byId = new Map<string, FoundTrial>();
  for (const f of found) {
    const other = byId.get(f.record.trial_id);
    if (!other) {
      byId.set(f.record.trial_id, f);
      continue;
    }
    const keep = preferRecord(f.record, other.record) ? f : other;
    const drop = keep === f ? other : f;
    byId.set(f.record.trial_id, keep);
    notices.push({
      file: path.relative(cwd, path.join(drop.dir, "trial.json")),
      message: `second record of trial ${f.record.trial_id}; kept ${path.relative(cwd, path.join(keep.dir, "trial.json"))} (${keep.record.status})`,
    });
  }
  return [...byId.values()].sort((a, b) => compareTrialIds(a.record.trial_id, b.record.trial_id));
}

/** The sweep most records belong to (ties: the lexically first id, so the choice is stable). */
function majoritySweep(found: readonly FoundTrial[]): string | undefined {
  const counts = new Map<string, number>();
  for (const f of found)
    if (typeof f.record.sweep_id === "string")
      counts.set(f.record.sweep_id, (counts.get(f.record.sweep_id) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

/** Keeps at most `max` bytes of a log: its start and its end, with a line between. */
function clipLog(text: string, max = 48 * 1024): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max / 4);
  const tail = text.slice(text.length - (max * 3) / 4);
  return `${head}\n[tunix-rt: ${text.length - head.length - tail.length} characters of the log left out here; the full log is the trial's output.log]\n${tail}`;
}

/**
 * grades.jsonl: for each scored trial, its rows' counted values and the hashes of its
 * eval_rows.jsonl and predictions.jsonl (core/grades.ts), by trial id. A scored trial whose
 * folder holds no rows (a record without its folder) has no line, and verify says so.
 */
async function gradesLines(kept: readonly FoundTrial[], trials: readonly AggregatedTrial[]): Promise<string> {
  const dirOf = new Map(kept.map((f) => [f.record, f.dir] as const));
  const lines: string[] = [];
  for (const t of trials) {
    const dir = dirOf.get(t);
    if (t.status !== "completed" || t.primary_score === null || dir === undefined) continue;
    const rowsFile = path.join(dir, "eval_rows.jsonl");
    const values: Array<number | undefined> = [];
    // One pass: the values and the file's hash.
    const rowsHash = createHash("sha256");
    try {
      await forEachJsonl(rowsFile, (entry) => values.push(entry.ok ? rowValue(entry.value) : undefined), {
        onBytes: (bytes) => rowsHash.update(bytes),
      });
    } catch {
      continue;
    }
    const predictions = path.join(dir, "predictions.jsonl");
    const score = scoreOfValues(values);
    const line: TrialGrades = {
      trial_id: t.trial_id,
      rows: score.rows,
      counted: score.counted,
      grades: encodeGrades(values),
      eval_rows_sha256: rowsHash.digest("hex"),
      predictions_sha256: (await stat(predictions).catch(() => null))
        ? await sha256OfFile(predictions)
        : null,
    };
    lines.push(`${JSON.stringify(line)}\n`);
  }
  return lines.join("");
}

/**
 * Aggregates a sweep: reads every trial record, builds the leaderboard, picks the best, and
 * (when there is a best) writes the evidence folder, `leaderboard.md` beside it and the
 * promoted config. With no best trial nothing in the evidence folder is touched and the
 * leaderboard goes to the trials folder.
 */
export async function aggregate(options: AggregateOptions): Promise<AggregateResult> {
  const { config, cwd } = options;
  const runDir = path.resolve(cwd, options.runDir);
  if (path.basename(runDir) !== config.run_version) {
    throw new InputError(
      `--run-dir: got ${JSON.stringify(options.runDir)}; the evidence folder's name must be the run_version ${JSON.stringify(config.run_version)}`,
    );
  }
  const { found: all, notices } = options.records
    ? { found: [...options.records], notices: [] as AggregateNotice[] }
    : await readTrialRecords(path.resolve(cwd, options.trialsDir), cwd);
  const sweepId = options.sweepId ?? options.planned?.[0]?.sweep_id ?? majoritySweep(all);
  const ofSweep = all.filter((f) => {
    if (sweepId === undefined || f.record.sweep_id === sweepId) return true;
    notices.push({
      file: path.relative(cwd, path.join(f.dir, "trial.json")),
      message: `record of another sweep (${String(f.record.sweep_id)}), skipped`,
    });
    return false;
  });
  const kept = dedupe(ofSweep, notices, cwd);
  const trials: AggregatedTrial[] = kept.map((f) => f.record);
  for (const planned of options.planned ?? []) {
    if (trials.some((t) => t.trial_id === planned.trial_id)) continue;
    trials.push(
      standInRecord(
        planned,
        "failed",
        "no trial record was found (its job never ran, or its artifact is missing)",
      ),
    );
    notices.push({ file: planned.trial_id, message: "planned trial has no record; counted as failed" });
  }
  trials.sort((a, b) => compareTrialIds(a.trial_id, b.trial_id));

  // The derived files (leaderboard.md, the charts) are drawn from the records exactly as
  // trials.jsonl keeps them (redacted, through JSON), so verify can draw them again.
  const secrets = secretValuesOf(options.env ?? {});
  const trialLines = trials.map((t) => JSON.stringify(redactDeep(trialLine(t), secrets)));
  const recorded = JSON.parse(`[${trialLines.join(",")}]`) as AggregatedTrial[];
  const derived = deriveEvidence({
    config,
    trials: recorded,
    sweepId: sweepId ?? null,
    notRun: options.notRun ?? 0,
  });
  const { recommendation, leaderboard, counts, leaderboardMd, report } = derived;
  const best = trials.find((t) => t.trial_id === derived.best?.trial_id);

  const result = {
    sweepId: sweepId ?? null,
    trials,
    leaderboard,
    counts,
    best,
    leaderboardMd,
    notices,
    report,
  };
  if (!best) {
    const leaderboardFile = path.join(path.resolve(cwd, options.trialsDir), "leaderboard.md");
    await writeFileAtomic(leaderboardFile, leaderboardMd);
    return { ...result, runDir: null, bestConfigFile: null, leaderboardFile, charts: [] };
  }

  const bestFound = kept.find((f) => f.record === best);
  const rel = (p: string) => path.relative(cwd, p).split(path.sep).join("/");
  const bestConfigFile = path.resolve(cwd, options.bestConfigFile);
  // What the manifest says of the code comes from the trials' records, taken as each started.
  const source = manifestSource(sweepSource(trials, best.trial_id), options.provenance);
  const provenance: Provenance = {
    ...options.provenance,
    ...source,
    runVersion: config.run_version,
    bestConfigPath: rel(bestConfigFile),
    bestRunId: bestFound ? (options.runIdOf?.(bestFound) ?? rel(bestFound.dir)) : null,
  };
  const raw = evidenceDocuments(config, best, counts, provenance, recommendation);
  const docs = {
    run_manifest: redactDeep(raw.run_manifest, secrets),
    eval_summary: raw.eval_summary,
    best_params: redactDeep(raw.best_params, secrets),
  };

  // The best trial's graded rows must exist: they are how anyone recomputes primary_score.
  const rowsSource = bestFound ? path.join(bestFound.dir, "eval_rows.jsonl") : undefined;
  if (!rowsSource || !(await stat(rowsSource).catch(() => null))) {
    throw new InputError(
      `${rowsSource ? rel(rowsSource) : best.trial_id}: the best trial's eval_rows.jsonl is missing; evidence cannot be written without it`,
    );
  }
  const log = bestFound ? await readFile(path.join(bestFound.dir, "output.log"), "utf8").catch(() => "") : "";
  const cleanLog = redact(clipLog(log), secrets);
  const logText = cleanLog.trim() === "" ? "(the best trial's trainer printed nothing)\n" : cleanLog;

  // An earlier run's signature vouches for files about to change: it goes first, so no crash
  // can leave it beside new evidence. The sweep's workflow signs the new files anew.
  await rm(path.join(runDir, attestationFileName), { force: true });
  // Each file is written atomically.
  await writeJsonAtomic(path.join(runDir, "run_manifest.json"), docs.run_manifest);
  await writeJsonAtomic(path.join(runDir, "eval_summary.json"), docs.eval_summary);
  await writeJsonAtomic(path.join(runDir, "best_params.json"), docs.best_params);
  await writeFileAtomic(path.join(runDir, "kaggle_output_log.txt"), logText);
  await writeFileAtomic(path.join(runDir, "eval_rows.jsonl"), await readFile(rowsSource));
  await writeFileAtomic(path.join(runDir, "trials.jsonl"), trialLines.map((line) => `${line}\n`).join(""));
  await writeFileAtomic(path.join(runDir, gradesFileName), await gradesLines(kept, trials));
  const leaderboardFile = path.join(runDir, "leaderboard.md");
  await writeFileAtomic(leaderboardFile, leaderboardMd);
  await writeFileAtomic(bestConfigFile, bestConfigYaml(config, best, provenance, recommendation));
  // The charts are evidence too: drawn from trials.jsonl's records, committed and zipped with it.
  const charts = await writeCharts(runDir, derived.charts);
  return { ...result, runDir, bestConfigFile, leaderboardFile, charts };
}
