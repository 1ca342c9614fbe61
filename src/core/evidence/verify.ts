/**
 * Verifying an evidence folder (DESIGN.md, "Evidence folder"), in stages: each file against
 * its schema, then what makes it evidence rather than a template (no nulls where a sweep
 * must have put a value), then the cross-file rules (primary_score recomputed from
 * eval_rows.jsonl, the best trial of trials.jsonl named everywhere, run_version = folder),
 * and the two repository files the evidence names: each row re-graded against the evalset
 * (eval_summary.json eval_set), and the promoted config (run_manifest.json config_path)
 * checked to be this evidence's.
 *
 * Pure: the caller reads the files and feeds their text or parsed lines in, one file at a
 * time (JSONL line by line, so a large file streams); problems name evidence files by their
 * bare names (`eval_summary.json`) unless `nameEvidenceFile` says otherwise, and repository
 * files as the caller showed them.
 */

import { bestTrial } from "../best-trial.js";
import { type SweepConfig, validateConfig } from "../config/config.js";
import { messageOf, type Problem, quote } from "../errors.js";
import { EvalsetParser } from "../grading/evalset.js";
import { decodeGrades, gradesFileName, scoreOfValues, type TrialGrades } from "../grading/grades.js";
import { rowValue, ScoreAccumulator } from "../grading/score.js";
import { isObject, sameJson } from "../json.js";
import {
  describeJsonError,
  duplicateKeyMessage,
  escapeControlCharacters,
  JsonShapeError,
  lineOfPath,
  parseEvidenceJson,
  parseJsonText,
  scanJsonText,
} from "../json-text.js";
import { append, bytesText, limits } from "../limits.js";
import { type AggregatedTrial, recommendTrials } from "../report/leaderboard.js";
import { checkDecision, type IndexedCurve, type PruneDecision, recordedCurve } from "../search/pruning.js";
import type { Recommendation } from "../search/recommend.js";
import type { TrialRecord } from "../types.js";
import { recommendationRecord, shellQuote } from "./aggregate.js";
import { commandMismatch } from "./commands.js";
import { deriveEvidence, firstTextDifference } from "./derived.js";
import { checkPromotedConfig } from "./promoted-config.js";
import { RowRegrader } from "./regrade.js";
import {
  type BestParams,
  BestParamsSchema,
  EvalRowLineSchema,
  type EvalSummary,
  EvalSummarySchema,
  type EvidenceFileName,
  type EvidenceJsonFileName,
  evidenceFileNames,
  RecommendationSchema,
  type RunManifest,
  RunManifestSchema,
  schemaProblems,
  TrialLineSchema,
} from "./schemas.js";
import {
  type CommitTrials,
  listTrialIds,
  type SweepSource,
  type SweepWorktree,
  shortSha,
  sweepSource,
  type WorktreeState,
} from "./source.js";

/** Extra rules on top of the format: `kaggle` also requires a Gemma model the competition allows. */
export type VerifyProfile = "default" | "kaggle";

/** The models the `kaggle` profile accepts as run_manifest.json's model_id. */
export const kaggleModels = ["google/gemma-3-1b-it", "google/gemma-2-2b"] as const;

/** The sweep config keys a run may set apart from the file: `--run-version`, `--seed`, `--sampler`, `--num-samples`. */
const runOverrides = new Set(["run_version", "seed", "sampler", "num_samples"]);

/** Differences of a sweep config from the trusted one listed one by one; beyond, counted. */
const maxConfigDifferences = 5;

/** How far two scores may differ and still be the same score (they are recomputed in floating point). */
export const scoreTolerance = 1e-9;

/** One line of a JSONL file, as a streaming reader yields it. */
export type JsonlEntry =
  | { line: number; ok: true; value: unknown }
  /** `refused`: no syntax error, but refused all the same (too long, too deep, a key twice). */
  | { line: number; ok: false; error: string; refused?: boolean };

/** What to verify against. */
export interface VerifyOptions {
  /** The evidence folder's name: run_manifest.json and eval_summary.json must carry it as run_version. */
  runVersion: string;
  /** Extra rules (default: none). */
  profile?: VerifyProfile;
  /**
   * SHA-256 of the files the caller could read, by repository path (the sweep config named
   * by run_manifest.sweep_config_path): the manifest's recorded hash must match.
   */
  fileHashes?: Readonly<Record<string, string>>;
  /** How problems name an evidence file (default: its bare name, `eval_rows.jsonl`). */
  nameEvidenceFile?: (name: EvidenceFileName) => string;
  /**
   * The trusted rule (the pull-request check's): the evalset and the sweep config count only
   * as a trusted checkout (the base commit) has them, and what the evidence could leave
   * unchecked is a problem, not a note: an evalset not there, rows without a prediction to
   * re-grade, a sweep config not named or not there, a copy beside the evidence that differs.
   */
  trusted?: TrustedFiles;
}

/**
 * The trusted checkout, as the verifier reads it under the trusted rule (the caller reads the
 * files; YAML parsing lives outside the core).
 */
export interface TrustedFiles {
  /** How messages name the checkout (`the base commit 1a2b3c4`, `../base`). */
  shownAs: string;
  /** A repository file as the checkout has it: its text, or why it is not at hand. */
  file(repoPath: string): NamedFile;
  /** The SHA-256 of a repository file's bytes in the checkout, or undefined when it is not there. */
  sha256(repoPath: string): string | undefined;
  /** The sweep config at a repository path, loaded and validated, or why it cannot be. */
  config(repoPath: string): { shownAs: string; config: SweepConfig } | { shownAs: string; absent: string };
}

/**
 * A repository file the evidence names (its evalset, its promoted config), as the caller
 * found it: its text, or why it is not at hand. `shownAs` is how problems name it.
 */
export type NamedFile =
  | { shownAs: string; text: string }
  | {
      shownAs: string;
      /** Why it is not at hand, to follow the file's name: `is not in the zip`. */
      absent: string;
    };

/** The repository files the evidence names, by repository path as it names them. */
export interface NamedFiles {
  /** eval_summary.json eval_set. */
  evalSet?: string;
  /** run_manifest.json config_path. */
  configPath?: string;
  /** run_manifest.json sweep_config_path. */
  sweepConfigPath?: string;
}

interface TrialSummary {
  line: number;
  trial_id: string;
  status: "completed" | "failed" | "timeout" | "pruned" | "running";
  primary_score: number | null;
  params: Record<string, unknown>;
  /** Multi-fidelity sweeps: the best is chosen at the highest budget (`bestTrial`). */
  budget?: number;
  /** A re-evaluation run of this trial. */
  repeat_of?: string;
  /** The code it ran (`trialSourceOf`): absent in records of an older tunix-rt. */
  commit_sha?: string | null;
  worktree?: WorktreeState | null;
  started_at?: unknown;
  finished_at?: unknown;
  /** The argv it ran, as its record keeps it. */
  command?: unknown;
  /** The whole record, as trials.jsonl keeps it (the derived files are drawn from it). */
  record: Record<string, unknown>;
}

const whatItMeans: Record<EvidenceFileName, string> = {
  "run_manifest.json": "how the evidence was produced",
  "eval_summary.json": "the best trial's evaluation",
  "best_params.json": "the best trial and its parameters",
  "kaggle_output_log.txt": "the best trial's output log",
  "eval_rows.jsonl": "the best trial's graded rows, from which primary_score is recomputed",
  "trials.jsonl": "every trial's record, from which the best trial is found",
};

/**
 * Collects the problems of one evidence folder. For each file call `missing`, `unreadable`,
 * `jsonFile` or `outputLog`, or `present` then `evalRowsLine`/`trialsLine` per line, in any
 * order of files; then `finish()` once.
 */
export class EvidenceVerifier {
  readonly #options: Required<Omit<VerifyOptions, "trusted">> & Pick<VerifyOptions, "trusted">;
  readonly #problems: Problem[] = [];
  /** Problems in repository files (the evalset, the promoted config): named as the caller showed them. */
  readonly #repoProblems: Problem[] = [];
  readonly #notes: string[] = [];
  #regrader: RowRegrader | undefined;
  #evalsetGiven = false;
  #promoted: { shownAs: string; text: string } | undefined;
  #promotedGiven = false;
  /** Files that could not be used (missing, unreadable, invalid): cross-checks skip them. */
  readonly #unusable = new Set<EvidenceFileName>();
  readonly #seen = new Set<EvidenceFileName>();
  readonly #keyLines = new Map<EvidenceFileName, Map<string, number>>();
  #manifest: RunManifest | undefined;
  #summary: EvalSummary | undefined;
  #best: BestParams | undefined;
  #recommendation: { trial: TrialSummary | undefined; why: string; problem?: Problem } | undefined;
  /** The recommendation recomputed from trials.jsonl (`#recommended`), which the derived files are drawn with. */
  #recomputed: Recommendation | undefined;
  #sweepConfigChecked: ReturnType<typeof validateConfig> | undefined;
  readonly #score = new ScoreAccumulator();
  readonly #rowIds = new Map<string, number>();
  #rowLines = 0;
  readonly #trials: TrialSummary[] = [];
  readonly #trialIds = new Map<string, number>();
  #trialLines = 0;

  /** SHA-256 of repository files the caller read after construction (`knownHash`). */
  readonly #hashes = new Map<string, string>();
  /** Problems found per file and field (`#add`), listed or not. */
  readonly #perRule = new Map<string, number>();
  #trustedConfig: SweepConfig | undefined;
  #trustedConfigGiven = false;
  /** grades.jsonl: each trial's row values by trial id. */
  readonly #grades = new Map<string, { line: number; values: Array<number | undefined> }>();
  #gradesGiven = false;
  #gradesUnusable = false;
  #gradeLines = 0;
  /** The counted value of each row of eval_rows.jsonl, in order (the best trial's grades must be these). */
  readonly #rowValues: Array<number | undefined> = [];
  #derivedGiven: { leaderboard: string | undefined; charts: ReadonlyMap<string, string> } | undefined;

  constructor(options: VerifyOptions) {
    this.#options = { profile: "default", fileHashes: {}, nameEvidenceFile: (name) => name, ...options };
  }

  /** The trusted checkout, under the trusted rule. */
  get #trusted(): TrustedFiles | undefined {
    return this.#options.trusted;
  }

  /** The SHA-256 of a repository file's bytes, as read (the sweep config the manifest names: its recorded hash must match). */
  knownHash(repoPath: string, sha256: string): void {
    this.#hashes.set(repoPath, sha256);
  }

  /**
   * Gives the repository files the evidence names, once the JSON files are in (and before
   * the rows stream): the evalset the rows are re-graded against and the promoted config,
   * from `beside` (the repository the evidence lies in: a folder's checkout, a zip's
   * members). Under the trusted rule the evalset and the sweep config come from the trusted
   * checkout instead, and a copy beside the evidence that differs from it is a problem.
   */
  repositoryFiles(beside: (repoPath: string) => NamedFile): void {
    const { evalSet, configPath, sweepConfigPath } = this.namedFiles();
    const trusted = this.#trusted;
    if (evalSet !== undefined) {
      if (trusted) {
        const truth = trusted.file(evalSet);
        const theirs = beside(evalSet);
        if ("text" in truth && "text" in theirs && truth.text !== theirs.text)
          this.#changedRepoFile(theirs.shownAs, "evalset");
        this.evalset(truth);
      } else this.evalset(beside(evalSet));
    }
    if (configPath !== undefined) this.promotedConfig(beside(configPath));
    if (trusted && sweepConfigPath !== undefined) {
      const theirs = beside(sweepConfigPath);
      const truth = trusted.file(sweepConfigPath);
      if ("text" in truth && "text" in theirs && truth.text !== theirs.text)
        this.#changedRepoFile(theirs.shownAs, "sweep config");
      this.#trustedSweepConfig(trusted.config(sweepConfigPath));
    }
  }

  /**
   * The repository files the evidence names, from the JSON files given so far (so call it
   * after `jsonFile` for run_manifest.json and eval_summary.json); a name is left out when its
   * file is unusable.
   */
  namedFiles(): NamedFiles {
    const sweepConfigPath = this.#manifest?.sweep_config_path;
    return {
      ...(this.#summary ? { evalSet: this.#summary.eval_set } : {}),
      ...(this.#manifest ? { configPath: this.#manifest.config_path } : {}),
      ...(sweepConfigPath === undefined ? {} : { sweepConfigPath }),
    };
  }

  /**
   * The evalset eval_summary.json names, as found: each row of eval_rows.jsonl is then
   * re-graded against it as it streams (so give it before the first `evalRowsLine`). Not at
   * hand, the rows are not re-graded, and a note says so.
   */
  evalset(found: NamedFile): void {
    this.#evalsetGiven = true;
    const named = quote(this.#summary?.eval_set ?? found.shownAs);
    if ("absent" in found) {
      const trusted = this.#trusted;
      if (trusted)
        this.#add({
          file: "eval_summary.json",
          path: "eval_set",
          message: `got ${named}; it ${found.absent}, and under the trusted rule the rows are re-graded against the evalset in ${trusted.shownAs}: the evidence must name one that is there`,
        });
      else
        this.#notes.push(
          `eval_rows.jsonl was not re-graded: eval_summary.json eval_set ${named} ${found.absent}`,
        );
      return;
    }
    const parser = new EvalsetParser(found.shownAs);
    for (const entry of jsonlEntries(found.text)) parser.add(entry);
    const result = parser.finish();
    if (!result.ok) {
      const [first] = result.problems;
      const more = result.problems.length - 1;
      if (first) {
        this.#repoProblems.push({
          ...first,
          message: `${first.message}${more > 0 ? ` (and ${more} more problem${more === 1 ? "" : "s"})` : ""}; eval_summary.json eval_set names this evalset, and eval_rows.jsonl cannot be re-graded against it`,
        });
      }
      return;
    }
    this.#regrader = new RowRegrader(result.items, found.shownAs, { requirePredictions: !!this.#trusted });
  }

  /**
   * Under the trusted rule: a repository file the evidence names (the evalset, the sweep
   * config) whose copy beside the evidence is not the trusted checkout's. The evidence was
   * verified against the trusted copy; the change itself is a problem, named on the file, so
   * evidence can never pass on a copy of its own making.
   */
  #changedRepoFile(shownAs: string, what: string): void {
    const trusted = this.#trusted?.shownAs ?? "the trusted checkout";
    this.#repoProblems.push({
      file: shownAs,
      path: "",
      message: `differs from its copy in ${trusted}: the evidence is verified against that copy, and a change to the ${what} needs a pull request of its own, reviewed and merged before evidence made with it`,
    });
  }

  /**
   * Under the trusted rule: the sweep config that run_manifest.json sweep_config_path names,
   * as the trusted checkout has it (loaded and validated), or why it is not at hand. The
   * evidence's best_params.json sweep_config must be it, but for what a run may override
   * (run_version, seed, sampler, num_samples).
   */
  #trustedSweepConfig(found: ReturnType<TrustedFiles["config"]>): void {
    this.#trustedConfigGiven = true;
    if ("absent" in found) {
      this.#add({
        file: "run_manifest.json",
        path: "sweep_config_path",
        message: `got ${quote(this.#manifest?.sweep_config_path ?? found.shownAs)}; the sweep config ${found.absent}`,
      });
      return;
    }
    this.#trustedConfig = found.config;
  }

  /**
   * The promoted config run_manifest.json names, as found: it must be this evidence's (its
   * run_version, sweep, best trial, params, budget). Named but not there is a problem.
   */
  promotedConfig(found: NamedFile): void {
    this.#promotedGiven = true;
    if ("absent" in found) {
      this.#add({
        file: "run_manifest.json",
        path: "config_path",
        message: `got ${quote(this.#manifest?.config_path ?? found.shownAs)}; the promoted config ${found.absent}`,
      });
      return;
    }
    this.#promoted = { shownAs: found.shownAs, text: found.text };
  }

  /** What could not be checked and why (the evalset not at hand, ...): for the user to know, not problems. */
  get notes(): readonly string[] {
    return this.#notes;
  }

  /** The file is there (call before streaming a JSONL file, so an empty one is "empty", not "missing"). */
  present(name: EvidenceFileName): void {
    this.#seen.add(name);
  }

  /** The file is not in the folder. */
  missing(name: EvidenceFileName): void {
    this.#seen.add(name);
    this.#unusable.add(name);
    this.#add({ file: name, path: "", message: `missing; the evidence needs it (${whatItMeans[name]})` });
  }

  /** The file is there but could not be read (`reason`: permission denied, is a directory, ...). */
  unreadable(name: EvidenceFileName, reason: string): void {
    this.#seen.add(name);
    this.#unusable.add(name);
    this.#add({ file: name, path: "", message: `cannot read: ${reason}` });
  }

  /** The text of one of the three JSON files: parsed, checked against its schema and for template nulls. */
  jsonFile(name: EvidenceJsonFileName, text: string): void {
    this.#seen.add(name);
    const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
    // One linear scan first: a document nested too deep is never parsed or walked.
    const shape = scanJsonText(body);
    if (shape.tooDeep) {
      this.#unusable.add(name);
      this.#add({
        file: name,
        line: shape.tooDeep.line,
        path: "",
        message: `nests objects and arrays deeper than ${limits.jsonDepth} levels; not read further`,
      });
      return;
    }
    const parsed = parseJsonText(text);
    if (!parsed.ok) {
      this.#unusable.add(name);
      this.#add({
        file: name,
        ...(parsed.line === undefined ? {} : { line: parsed.line }),
        path: "",
        message: `not valid JSON: ${parsed.reason}`,
      });
      return;
    }
    this.#keyLines.set(name, shape.lines);
    for (const twice of shape.duplicates)
      this.#add({ file: name, line: twice.line, path: twice.path, message: duplicateKeyMessage(twice.path) });
    const schema =
      name === "run_manifest.json"
        ? RunManifestSchema
        : name === "eval_summary.json"
          ? EvalSummarySchema
          : BestParamsSchema;
    const result = schema.safeParse(parsed.value, { reportInput: true });
    if (!result.success) {
      this.#unusable.add(name);
      if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
        this.#add({ file: name, path: "", message: `got ${quote(parsed.value)}; expected a JSON object` });
      } else {
        for (const problem of schemaProblems(result.error, name)) this.#add(problem);
      }
      return;
    }
    const before = this.#problems.length;
    if (name === "run_manifest.json") {
      this.#manifest = result.data as RunManifest;
      this.#checkManifest(this.#manifest);
    } else if (name === "eval_summary.json") {
      this.#summary = result.data as EvalSummary;
      this.#checkSummary(this.#summary);
    } else {
      this.#best = result.data as BestParams;
      this.#checkBestParams(this.#best);
    }
    const notes = (result.data as { notes?: unknown }).notes;
    if (this.#problems.length > before && typeof notes === "string" && /\btemplate\b/i.test(notes)) {
      this.#add({
        file: name,
        path: "notes",
        message: `this file is a template, not evidence of a sweep (notes: ${quote(notes)})`,
      });
    }
  }

  /** The text of `kaggle_output_log.txt`. */
  outputLog(text: string): void {
    const name = "kaggle_output_log.txt";
    this.#seen.add(name);
    if (text.trim() === "") {
      this.#add({ file: name, path: "", message: "is empty; expected the best trial's output log" });
      return;
    }
    // The M34 template's markers: a log that still holds them was never replaced by a real one.
    const lines = text.split("\n");
    const index = lines.findIndex((l) => /^\s*(PLACEHOLDER:|Status:\s*TEMPLATE\b)/.test(l));
    if (index >= 0) {
      this.#add({
        file: name,
        line: index + 1,
        path: "",
        message: `holds the template line ${quote(lines[index]?.trim())}; expected the best trial's output log`,
      });
    }
  }

  /**
   * Counts a JSONL file as seen, and whether its line parsed. A line that did not is reported
   * and makes its file unusable for the cross-file rules: it could hold any value (a row whose
   * score a recomputation would miss, a record that could be the best trial), so a mismatch
   * found without it would not be the fault.
   */
  #readable(
    file: "eval_rows.jsonl" | "trials.jsonl",
    entry: JsonlEntry,
  ): entry is Extract<JsonlEntry, { ok: true }> {
    this.#seen.add(file);
    if (entry.ok) return true;
    this.#unusable.add(file);
    this.#add({
      file,
      line: entry.line,
      path: "",
      message: entry.refused
        ? escapeControlCharacters(entry.error)
        : `not valid JSON: ${describeJsonError(entry.error, "").reason}`,
    });
    return false;
  }

  /**
   * Whether the `count`th line of a JSONL file is past its cap: the first past it is one
   * problem (the file is then unusable for the cross-file rules), the rest are not read.
   */
  #beyondCap(file: "eval_rows.jsonl" | "trials.jsonl", count: number, cap: number, what: string): boolean {
    if (count <= cap) return false;
    if (count === cap + 1) {
      this.#seen.add(file);
      this.#unusable.add(file);
      this.#add({ file, path: "", message: `holds more than ${cap} ${what}; not read further` });
    }
    return true;
  }

  /** Whether a JSONL file's lines past this point are no longer read (its cap was passed). */
  full(file: "eval_rows.jsonl" | "trials.jsonl"): boolean {
    return file === "eval_rows.jsonl" ? this.#rowLines > limits.rows : this.#trialLines > limits.trials;
  }

  /** One line of `eval_rows.jsonl` (blank lines are not given). */
  evalRowsLine(entry: JsonlEntry): void {
    const file = "eval_rows.jsonl";
    if (this.#beyondCap(file, ++this.#rowLines, limits.rows, "rows")) return;
    if (!this.#readable(file, entry)) return;
    this.#score.add(entry.value);
    this.#rowValues.push(rowValue(entry.value));
    const result = EvalRowLineSchema.safeParse(entry.value, { reportInput: true });
    if (!result.success) {
      for (const problem of schemaProblems(result.error, file, entry.line)) this.#add(problem);
      return;
    }
    const id = result.data.id;
    if (id !== undefined) {
      const key = JSON.stringify(id);
      const first = this.#rowIds.get(key);
      if (first !== undefined) {
        this.#add({
          file,
          line: entry.line,
          path: "id",
          message: `got ${quote(id)} again (first on line ${first}); expected one row per evalset item`,
        });
      } else {
        this.#rowIds.set(key, entry.line);
      }
    }
    this.#regrader?.row(entry.line, entry.value as Record<string, unknown>);
  }

  /** One line of `trials.jsonl` (blank lines are not given). */
  trialsLine(entry: JsonlEntry): void {
    const file = "trials.jsonl";
    if (this.#beyondCap(file, ++this.#trialLines, limits.trials, "trials")) return;
    if (!this.#readable(file, entry)) return;
    const result = TrialLineSchema.safeParse(entry.value, { reportInput: true });
    if (!result.success) {
      this.#unusable.add(file); // an invalid record could be the best trial, as an unreadable one
      for (const problem of schemaProblems(result.error, file, entry.line)) this.#add(problem);
      return;
    }
    const trial = result.data;
    const first = this.#trialIds.get(trial.trial_id);
    if (first !== undefined) {
      this.#add({
        file,
        line: entry.line,
        path: "trial_id",
        message: `got ${quote(trial.trial_id)} again (first on line ${first}); expected each trial once`,
      });
      return;
    }
    this.#trialIds.set(trial.trial_id, entry.line);
    this.#trials.push({
      line: entry.line,
      trial_id: trial.trial_id,
      status: trial.status,
      primary_score: trial.primary_score,
      params: trial.params,
      ...(trial.budget === undefined ? {} : { budget: trial.budget }),
      ...(typeof trial.repeat_of === "string" ? { repeat_of: trial.repeat_of } : {}),
      ...(trial.commit_sha === undefined ? {} : { commit_sha: trial.commit_sha }),
      ...(trial.worktree === undefined ? {} : { worktree: trial.worktree }),
      ...(trial.started_at === undefined ? {} : { started_at: trial.started_at }),
      ...(trial.finished_at === undefined ? {} : { finished_at: trial.finished_at }),
      ...(trial.command === undefined ? {} : { command: trial.command }),
      record: entry.value as Record<string, unknown>,
    });
  }

  /** grades.jsonl is there (its lines follow); without it, tunix-rt's evidence is missing a file. */
  gradesPresent(): void {
    this.#gradesGiven = true;
  }

  /** grades.jsonl could not be read. */
  gradesUnreadable(reason: string): void {
    this.#gradesGiven = true;
    this.#gradesUnusable = true;
    this.#add({ file: gradesFileName, path: "", message: `cannot read: ${reason}` });
  }

  /** One line of grades.jsonl: a trial's row values, to recompute its primary_score. */
  gradesLine(entry: JsonlEntry): void {
    const file = gradesFileName;
    if (++this.#gradeLines > limits.trials) {
      if (this.#gradeLines === limits.trials + 1)
        this.#add({ file, path: "", message: `holds more than ${limits.trials} lines; not read further` });
      return;
    }
    if (!entry.ok) {
      this.#add({ file, line: entry.line, path: "", message: entry.error });
      return;
    }
    const line = entry.value as Partial<TrialGrades> | null;
    const values = decodeGrades(line?.grades);
    if (!line || typeof line !== "object" || typeof line.trial_id !== "string" || values === undefined) {
      this.#add({
        file,
        line: entry.line,
        path: typeof line?.trial_id === "string" ? "grades" : "trial_id",
        message: `got ${quote(typeof line?.trial_id === "string" ? line.grades : line?.trial_id)}; expected {trial_id, rows, counted, grades: a string of 1, 0 and - or a list of numbers in 0..1 and nulls, eval_rows_sha256, predictions_sha256}`,
      });
      return;
    }
    if (this.#grades.has(line.trial_id)) {
      this.#add({
        file,
        line: entry.line,
        path: "trial_id",
        message: `got ${quote(line.trial_id)} again (first on line ${this.#grades.get(line.trial_id)?.line}); expected one line per trial`,
      });
      return;
    }
    this.#grades.set(line.trial_id, { line: entry.line, values });
  }

  /**
   * The derived files as the evidence holds them: leaderboard.md (undefined: absent) and
   * each chart by its name in charts/. They are drawn again and compared at `finish`.
   */
  derivedFiles(files: { leaderboard: string | undefined; charts: ReadonlyMap<string, string> }): void {
    this.#derivedGiven = files;
  }

  /**
   * Every problem found, the cross-file rules' included: by file in the evidence order, then
   * by line; then those of the repository files (the evalset, the promoted config).
   */
  finish(): Problem[] {
    for (const name of evidenceFileNames) if (!this.#seen.has(name)) this.missing(name);
    this.#endOfJsonl();
    this.#crossCheck();
    this.#finishRegrade();
    for (const [rule, count] of this.#perRule) {
      if (count <= limits.problemsPerRule) continue;
      const [file = "", path = ""] = rule.split("\u0000");
      this.#problems.push({
        file,
        path,
        message: `and ${count - limits.problemsPerRule} more problem${count - limits.problemsPerRule === 1 ? "" : "s"} of this file and field (the first ${limits.problemsPerRule} are listed)`,
      });
    }
    // The evidence files in their order, then grades.jsonl and the derived files.
    const order = (p: Problem) => {
      const i = evidenceFileNames.indexOf(p.file as EvidenceFileName);
      return i >= 0 ? i : p.file === gradesFileName ? evidenceFileNames.length : evidenceFileNames.length + 1;
    };
    const name = this.#options.nameEvidenceFile;
    const evidence = this.#problems
      .map((problem, index) => ({ problem, index }))
      .sort(
        (a, b) =>
          order(a.problem) - order(b.problem) ||
          (a.problem.line ?? 0) - (b.problem.line ?? 0) ||
          a.index - b.index,
      )
      .map(({ problem }) => ({ ...problem, file: name(problem.file as EvidenceFileName) }));
    const repo = this.#repoProblems.map((problem) => ({
      ...problem,
      path: escapeControlCharacters(problem.path),
      message: escapeControlCharacters(problem.message),
    }));
    return [...evidence, ...repo];
  }

  /** The re-grade's own findings (evalset items without a row, ...), and notes on what was not checked. */
  #finishRegrade(): void {
    if (this.#regrader) {
      const { problems, notes } = this.#regrader.finish({ complete: !this.#unusable.has("eval_rows.jsonl") });
      for (const problem of problems) this.#add(problem);
      append(this.#notes, notes);
    } else if (!this.#evalsetGiven) {
      this.#notes.push(
        this.#summary
          ? "eval_rows.jsonl was not re-graded: no evalset was given to verify against"
          : "eval_rows.jsonl was not re-graded: eval_summary.json, which names the evalset, could not be used",
      );
    }
    if (!this.#promotedGiven && this.#manifest) {
      this.#notes.push(
        `the promoted config ${quote(this.#manifest.config_path)} (run_manifest.json config_path) was not checked: it was not given`,
      );
    }
  }

  #add(problem: Problem): void {
    // At most `problemsPerRule` problems of one file and field are listed; the rest are
    // counted, and `finish` says how many (a file of a million bad lines costs no more).
    const rule = `${problem.file}\u0000${problem.path}`;
    const listed = this.#perRule.get(rule) ?? 0;
    this.#perRule.set(rule, listed + 1);
    if (listed >= limits.problemsPerRule) return;
    // JSON files get the line of the key the problem is about, for annotations.
    if (problem.line === undefined) {
      const lines = this.#keyLines.get(problem.file as EvidenceFileName);
      const line = lines && lineOfPath(lines, problem.path);
      if (line !== undefined) problem = { ...problem, line };
    }
    // Keys come from the files as they are ("a\nb" is a valid JSON key): escape control
    // characters, so every problem stays one line of output.
    this.#problems.push({
      ...problem,
      path: escapeControlCharacters(problem.path),
      message: escapeControlCharacters(problem.message),
    });
  }

  #nullProblem(file: EvidenceFileName, path: string, what: string): void {
    this.#add({ file, path, message: `is null; evidence must carry ${what}` });
  }

  #checkManifest(manifest: RunManifest): void {
    const file = "run_manifest.json";
    if (manifest.tuning_job_id === null)
      this.#nullProblem(file, "tuning_job_id", "the id of the sweep that produced it");
    if (manifest.trial_id === null) this.#nullProblem(file, "trial_id", "the best trial's id");
    this.#checkRunVersion(file, manifest.run_version);
    if (
      this.#options.profile === "kaggle" &&
      !(kaggleModels as readonly string[]).includes(manifest.model_id ?? "")
    ) {
      this.#add({
        file,
        path: "model_id",
        message: `got ${quote(manifest.model_id)}; the kaggle profile expects one of ${kaggleModels.join(", ")}`,
      });
    }
  }

  #checkSummary(summary: EvalSummary): void {
    const file = "eval_summary.json";
    if (summary.primary_score === null) this.#nullProblem(file, "primary_score", "the best trial's score");
    if (summary.metrics.answer_correctness === null)
      this.#nullProblem(file, "metrics.answer_correctness", "the best trial's answer correctness");
    this.#checkRunVersion(file, summary.run_version);
  }

  #checkBestParams(best: BestParams): void {
    const file = "best_params.json";
    if (best.tuning_job_id === null)
      this.#nullProblem(file, "tuning_job_id", "the id of the sweep that produced it");
    if (best.trial_id === null) this.#nullProblem(file, "trial_id", "the best trial's id");
    if (best.primary_score === null) this.#nullProblem(file, "primary_score", "the best trial's score");
    const names = Object.keys(best.params);
    if (names.length === 0)
      this.#add({
        file,
        path: "params",
        message: "is empty; evidence must carry the best trial's parameters",
      });
    for (const name of names) {
      if (best.params[name] === null) this.#nullProblem(file, `params.${name}`, "the best trial's value");
    }
  }

  #checkRunVersion(file: EvidenceFileName, runVersion: string): void {
    if (runVersion !== this.#options.runVersion) {
      this.#add({
        file,
        path: "run_version",
        message: `got ${quote(runVersion)}; expected ${quote(this.#options.runVersion)}, the evidence folder's name`,
      });
    }
  }

  #endOfJsonl(): void {
    if (!this.#unusable.has("eval_rows.jsonl") && this.#rowLines === 0) {
      this.#unusable.add("eval_rows.jsonl");
      this.#add({
        file: "eval_rows.jsonl",
        path: "",
        message: "has no rows; expected the best trial's graded rows",
      });
    }
    if (!this.#unusable.has("trials.jsonl") && this.#trialLines === 0) {
      this.#unusable.add("trials.jsonl");
      this.#add({ file: "trials.jsonl", path: "", message: "has no trials; expected every trial's record" });
    }
  }

  #crossCheck(): void {
    this.#checkTrustedConfig();
    this.#checkModel();
    this.#checkBestRecord();
    this.#checkScores();
    this.#checkBestTrial();
    this.#checkProvenance();
    this.#checkSource();
    this.#checkPromoted();
    this.#checkGrades();
    this.#checkCommands();
    this.#checkPruning();
    this.#checkDerived();
    const manifest = this.#manifest;
    const best = this.#best;
    if (manifest?.tuning_job_id && best?.tuning_job_id && manifest.tuning_job_id !== best.tuning_job_id) {
      this.#add({
        file: "run_manifest.json",
        path: "tuning_job_id",
        message: `got ${quote(manifest.tuning_job_id)}; best_params.json has ${quote(best.tuning_job_id)}`,
      });
    }
  }

  /**
   * Under the trusted rule, the sweep config: named by the manifest, found in the trusted
   * checkout, and the one best_params.json records (but for a run's overrides). The
   * recommendation is recomputed from best_params.json's copy, so it must be the trusted one.
   */
  #checkTrustedConfig(): void {
    const trusted = this.#trusted;
    if (!trusted) return;
    const manifest = this.#manifest;
    if (manifest && manifest.sweep_config_path === undefined && !this.#trustedConfigGiven) {
      this.#add({
        file: "run_manifest.json",
        path: "sweep_config_path",
        message: `missing; under the trusted rule the sweep config the evidence came from is checked against the one in ${trusted.shownAs}, so the manifest must name it`,
      });
    }
    const config = this.#trustedConfig;
    const best = this.#best;
    if (!config || !best) return;
    const plain = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v)) ?? "null",
      ) as Record<string, unknown>;
    const expected = plain(config);
    const claimed = plain(best.sweep_config);
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(claimed)])].filter(
      (key) => !runOverrides.has(key),
    );
    const differing = keys.filter((key) => !sameJson(claimed[key], expected[key]));
    for (const key of differing.slice(0, maxConfigDifferences)) {
      this.#add({
        file: "best_params.json",
        path: `sweep_config.${key}`,
        message: `got ${quote(claimed[key])}; ${manifest?.sweep_config_path ?? "the sweep config"} in ${trusted.shownAs} has ${quote(expected[key])}`,
      });
    }
    if (differing.length > maxConfigDifferences) {
      this.#add({
        file: "best_params.json",
        path: "sweep_config",
        message: `and ${differing.length - maxConfigDifferences} more keys differ from the sweep config in ${trusted.shownAs} (not listed)`,
      });
    }
  }

  /**
   * The model and dataset the manifest names are the sweep config's (best_params.json
   * sweep_config): a manifest that claims a Gemma model for a sweep of another one would
   * otherwise pass the kaggle profile.
   */
  #checkModel(): void {
    const manifest = this.#manifest;
    const config = this.#best?.sweep_config as Record<string, unknown> | undefined;
    if (!manifest || !config) return;
    const pairs: Array<[keyof RunManifest & string, string]> = [
      ["model_id", "base_model_id"],
      ["dataset", "dataset_key"],
    ];
    for (const [field, key] of pairs) {
      const want = config[key];
      if ((typeof want === "string" || want === null) && manifest[field] !== want)
        this.#add({
          file: "run_manifest.json",
          path: field,
          message: `got ${quote(manifest[field])}; best_params.json sweep_config.${key} is ${quote(want)}, the sweep that produced this evidence`,
        });
    }
  }

  /**
   * What the manifest and the summary say of the best trial's run is what its own record in
   * trials.jsonl says: the command it ran (shell-quoted for reading), and when it finished
   * (eval_summary.json evaluated_at; the manifest's timestamp, when the evidence was written,
   * is not before it).
   */
  #checkBestRecord(): void {
    const manifest = this.#manifest;
    if (!manifest || this.#unusable.has("trials.jsonl")) return;
    const record = this.#trials.find((t) => t.trial_id === manifest.trial_id);
    if (!record) return;
    const at = `trials.jsonl line ${record.line} (${record.trial_id})`;
    const argv = record.command;
    if (Array.isArray(argv) && argv.every((a) => typeof a === "string")) {
      const want = shellQuote(argv as string[]);
      if (manifest.command !== want)
        this.#add({
          file: "run_manifest.json",
          path: "command",
          message: `got ${quote(manifest.command)}; ${at} ran ${quote(want)}`,
        });
    }
    const finished = typeof record.finished_at === "string" ? Date.parse(record.finished_at) : Number.NaN;
    if (Number.isNaN(finished)) return;
    const summary = this.#summary;
    if (summary && Date.parse(summary.evaluated_at) !== finished)
      this.#add({
        file: "eval_summary.json",
        path: "evaluated_at",
        message: `got ${quote(summary.evaluated_at)}; ${at} finished at ${quote(record.finished_at)}`,
      });
    if (Date.parse(manifest.timestamp) < finished)
      this.#add({
        file: "run_manifest.json",
        path: "timestamp",
        message: `got ${quote(manifest.timestamp)}; ${at} finished later, at ${quote(record.finished_at)}, and the evidence is written after its trials`,
      });
  }

  /**
   * What the manifest records of its provenance and the files can confirm: the shape of the
   * commit, config hash, toolkit and run URL; the config's hash against the config itself
   * when the caller could read it; the trial counts against trials.jsonl.
   */
  #checkProvenance(): void {
    const manifest = this.#manifest as (RunManifest & Record<string, unknown>) | undefined;
    if (!manifest) return;
    const file = "run_manifest.json";
    const shape = (key: string, pattern: RegExp, expected: string) => {
      const value = manifest[key];
      if (value !== undefined && value !== null && (typeof value !== "string" || !pattern.test(value))) {
        this.#add({ file, path: key, message: `got ${quote(value)}; expected ${expected}` });
      }
    };
    shape("commit_sha", /^(?:[0-9a-f]{7,64}|unknown)$/, 'a git commit sha (7 to 64 hex digits) or "unknown"');
    shape("sweep_config_sha256", /^[0-9a-f]{64}$/, "64 lowercase hex digits (SHA-256)");
    shape("toolkit", /^tunix-rt \d+\.\d+\.\d+\S*$/, 'the tool and version, like "tunix-rt 0.1.0"');
    shape(
      "workflow_run_url",
      /^https:\/\/[^/\s]+\/[^/\s]+\/[^/\s]+\/actions\/runs\/\d+(?:\/attempts\/\d+)?$/,
      "a workflow run URL, https://<host>/<owner>/<repo>/actions/runs/<id>",
    );
    if (manifest.seed !== undefined && !(Number.isInteger(manifest.seed) && (manifest.seed as number) >= 0)) {
      this.#add({ file, path: "seed", message: `got ${quote(manifest.seed)}; expected a whole number >= 0` });
    }
    const configPath = manifest.sweep_config_path;
    const recorded = manifest.sweep_config_sha256;
    const hashes = { ...this.#options.fileHashes, ...Object.fromEntries(this.#hashes) };
    const trusted = this.#trusted;
    // Own keys only: a path such as "constructor" must not find Object's members. Under the
    // trusted rule, the trusted checkout's copy is the one the recorded hash must match.
    const actual =
      typeof configPath !== "string"
        ? undefined
        : trusted
          ? trusted.sha256(configPath)
          : Object.hasOwn(hashes, configPath)
            ? hashes[configPath]
            : undefined;
    if (typeof recorded === "string" && actual !== undefined && actual !== recorded) {
      this.#add({
        file,
        path: "sweep_config_sha256",
        message: `got ${recorded}; ${configPath}${trusted ? ` in ${trusted.shownAs}` : ""} hashes to ${actual} (the config changed since the sweep ran)`,
      });
    }
    const counts = manifest.trials as Record<string, unknown> | undefined;
    if (counts && typeof counts === "object" && !this.#unusable.has("trials.jsonl")) {
      const count = (status?: string) =>
        this.#trials.filter((t) => status === undefined || t.status === status).length;
      const check = (key: string, actualCount: number) => {
        const value = counts[key];
        if (typeof value === "number" && value !== actualCount) {
          this.#add({
            file,
            path: `trials.${key}`,
            message: `got ${value}; trials.jsonl holds ${actualCount}`,
          });
        }
      };
      check("total", count());
      check("completed", count("completed"));
      check("failed", count("failed"));
      check("timeout", count("timeout"));
    }
  }

  /**
   * The code the evidence came from. Each trial's record keeps the commit and the working
   * tree it started from; run_manifest.json commit_sha, commits and worktree are recomputed
   * from them (`sweepSource`, the rule aggregate wrote them by) and must agree, so a manifest
   * cannot call clean what a trial ran dirty. Records of an older tunix-rt keep none: the
   * manifest's own claim is then all there is, and a note says so. A dirty or mixed-commit
   * run is a warning.
   */
  #checkSource(): void {
    const manifest = this.#manifest as (RunManifest & Record<string, unknown>) | undefined;
    if (!manifest) return;
    const source = this.#unusable.has("trials.jsonl")
      ? undefined
      : sweepSource(this.#trials, manifest.trial_id);
    if (source) this.#compareSource(manifest, source);
    const claimed = manifest.worktree;
    if (source?.unknown.length && claimed !== undefined) {
      const total = source.unknown.length + source.recorded.size;
      this.#notes.push(
        `trials.jsonl: ${source.unknown.length} of ${total} trials (${listTrialIds(source.unknown)}) keep no commit or working tree (records of an older tunix-rt): run_manifest.json commit_sha and worktree could not be checked against ${source.unknown.length === total ? "them" : "those"}`,
      );
    }
    this.#warnSource(manifest, source);
  }

  /** run_manifest.json commit_sha, commits and worktree against what the trials' records give. */
  #compareSource(manifest: RunManifest & Record<string, unknown>, source: SweepSource): void {
    const file = "run_manifest.json";
    const trialAt = (id: string) => `trials.jsonl line ${this.#trialIds.get(id)} (${id})`;
    const expected = source.worktree;
    const claimed = manifest.worktree;
    if (expected !== undefined) {
      if (claimed === undefined) {
        this.#add({
          file,
          path: "worktree",
          message: `missing; the trials' records give ${quote(expected)}`,
        });
      } else if (expected === null || !isObject(claimed)) {
        if (!sameJson(claimed, expected))
          this.#add({
            file,
            path: "worktree",
            message: `got ${quote(claimed)}; ${expected === null ? "every trial in trials.jsonl ran outside git (worktree null)" : `the trials' records give ${quote(expected)}`}`,
          });
      } else {
        const keys = ["dirty", "changed", "files", "diff_sha256", "dirty_trials", "unknown_trials"] as const;
        const key = keys.find((k) => !sameJson(claimed[k], (expected as SweepWorktree)[k]));
        if (key) {
          const firstDirty = expected.dirty_trials[0];
          const tree = firstDirty === undefined ? undefined : source.recorded.get(firstDirty)?.worktree;
          const message =
            key === "dirty" && firstDirty !== undefined && tree
              ? `got ${quote(claimed.dirty)}; ${trialAt(firstDirty)} ran from uncommitted changes (${describeChange(tree)})${expected.dirty_trials.length > 1 ? `, and ${expected.dirty_trials.length - 1} more trial${expected.dirty_trials.length === 2 ? "" : "s"}` : ""}: the manifest must say what the trials' records say`
              : key === "dirty"
                ? `got ${quote(claimed.dirty)}; every trial in trials.jsonl ran from a clean working tree`
                : `got ${quote(claimed[key])}; the trials' records give ${quote(expected[key])}`;
          this.#add({ file, path: `worktree.${key}`, message });
        }
      }
    }
    if (source.commit !== undefined && typeof manifest.trial_id === "string") {
      const commit = source.commit ?? "unknown";
      if (manifest.commit_sha !== commit)
        this.#add({
          file,
          path: "commit_sha",
          message: `got ${quote(manifest.commit_sha)}; expected ${quote(commit)}, the commit ${trialAt(manifest.trial_id)}, the best trial, ran at${source.commit === null ? " (none: it ran outside git)" : ""}`,
        });
    }
    if (source.recorded.size > 0) {
      const commits = source.commits.length > 1 ? source.commits : undefined;
      if (!sameJson(manifest.commits, commits))
        this.#add({
          file,
          path: "commits",
          message: commits
            ? `${manifest.commits === undefined ? "missing" : `got ${quote(manifest.commits)}`}; the trials in trials.jsonl ran at ${commits.length} commits: ${describeCommits(commits)}`
            : `got ${quote(manifest.commits)}; the trials in trials.jsonl ran at ${source.commits.length === 1 ? "one commit" : "no commit"}, and commits is written only for several`,
        });
    }
  }

  /** Warnings for a run whose trials ran from uncommitted changes or at several commits. */
  #warnSource(manifest: RunManifest & Record<string, unknown>, source: SweepSource | undefined): void {
    const kaggle = this.#options.profile === "kaggle";
    if (source?.worktree !== undefined) {
      const tree = source.worktree;
      if (tree?.dirty) {
        const ids = tree.dirty_trials;
        const started = source.recorded.size + source.unknown.length;
        this.#notes.push(
          `warning: run_manifest.json: worktree.dirty: ${ids.length} of ${started} trials (${listTrialIds(ids)}) ran from uncommitted changes (${describeChange(tree)}): commit_sha alone does not reproduce ${ids.length === 1 ? "it" : "them"}${kaggle ? `; commit the changes and run the sweep again with --fresh for a submission (a plain re-run resumes and keeps these trials)` : ""}`,
        );
      }
    } else {
      // Evidence of an older tunix-rt: the state the sweep started from, as the manifest says.
      const worktree = manifest.worktree;
      if (isObject(worktree) && worktree.dirty === true) {
        const first =
          Array.isArray(worktree.files) && typeof worktree.files[0] === "string"
            ? `, first ${worktree.files[0]}`
            : "";
        this.#notes.push(
          `warning: run_manifest.json: worktree.dirty: the sweep ran from uncommitted changes (${String(worktree.changed)} path${worktree.changed === 1 ? "" : "s"}${first}; diff sha256 ${String(worktree.diff_sha256)}): commit_sha alone does not reproduce it${kaggle ? "; commit the changes and run the sweep again with --fresh for a submission" : ""}`,
        );
      }
    }
    if (source && source.commits.length > 1) {
      this.#notes.push(
        `warning: run_manifest.json: commits: the trials ran at ${source.commits.length} commits (${describeCommits(source.commits)}), so their scores come from different code${source.commit ? `; commit_sha ${shortSha(source.commit)} is the best trial's` : ""}${kaggle ? "; run the sweep again from one commit with --fresh for a submission" : ""}`,
      );
    }
  }

  /** best_params.json sweep_config, validated once (undefined without best_params.json). */
  get #sweepConfig(): ReturnType<typeof validateConfig> | undefined {
    if (!this.#best) return undefined;
    this.#sweepConfigChecked ??= validateConfig(this.#best.sweep_config, "best_params.json");
    return this.#sweepConfigChecked;
  }

  /** Whether the evidence says tunix-rt wrote it (best_params.json source). */
  get #ours(): boolean {
    return this.#best !== undefined && /^tunix-rt\b/.test(this.#best.source);
  }

  /**
   * Every scored trial's primary_score (rows and counted too) recomputed from its line of
   * grades.jsonl, so the recommendation's whole input is checked; and the best trial's
   * grades must be the values of its rows in eval_rows.jsonl.
   */
  #checkGrades(): void {
    if (this.#unusable.has("trials.jsonl") || this.#gradesUnusable) return;
    const file = gradesFileName;
    if (!this.#gradesGiven) {
      if (this.#ours)
        this.#add({
          file,
          path: "",
          message:
            "missing; tunix-rt keeps every scored trial's grades beside trials.jsonl, so that each primary_score there is recomputed (evidence of an earlier tunix-rt: run aggregate again)",
        });
      return;
    }
    const scored = new Set<string>();
    for (const t of this.#trials) {
      if (t.status !== "completed" || t.primary_score === null) continue;
      scored.add(t.trial_id);
      const grades = this.#grades.get(t.trial_id);
      if (!grades) {
        this.#add({
          file: "trials.jsonl",
          line: t.line,
          path: "primary_score",
          message: `got ${t.primary_score}; it cannot be recomputed: grades.jsonl has no line for ${t.trial_id}`,
        });
        continue;
      }
      const again = scoreOfValues(grades.values);
      const where = `grades.jsonl line ${grades.line} gives`;
      if (again.primary_score === null || !sameScore(again.primary_score, t.primary_score))
        this.#add({
          file: "trials.jsonl",
          line: t.line,
          path: "primary_score",
          message: `got ${t.primary_score}; ${where} ${again.primary_score} (${again.counted} of ${again.rows} rows counted)`,
        });
      for (const key of ["rows", "counted"] as const) {
        const claimed = t.record[key];
        if (typeof claimed === "number" && claimed !== again[key])
          this.#add({
            file: "trials.jsonl",
            line: t.line,
            path: key,
            message: `got ${claimed}; ${where} ${again[key]}`,
          });
      }
    }
    for (const [id, grades] of this.#grades) {
      if (!scored.has(id))
        this.#add({
          file,
          line: grades.line,
          path: "trial_id",
          message: `got ${quote(id)}; trials.jsonl has no completed trial with a score of that id`,
        });
    }
    const bestId = this.#best?.trial_id;
    const bestGrades = typeof bestId === "string" ? this.#grades.get(bestId) : undefined;
    if (!bestGrades || this.#unusable.has("eval_rows.jsonl")) return;
    const rows = this.#rowValues;
    const n = Math.max(rows.length, bestGrades.values.length);
    for (let i = 0; i < n; i++) {
      if (rows[i] === bestGrades.values[i]) continue;
      const show = (v: number | undefined, has: boolean) =>
        !has ? "no row" : v === undefined ? "nothing" : String(v);
      this.#add({
        file,
        line: bestGrades.line,
        path: "grades",
        message: `are not the best trial's rows (${bestId}, eval_rows.jsonl): row ${i + 1} counts ${show(bestGrades.values[i], i < bestGrades.values.length)} here and ${show(rows[i], i < rows.length)} there`,
      });
      break;
    }
  }

  /** Each trial's params against the argv its record ran (the sweep config's trainer command). */
  #checkCommands(): void {
    const config = this.#sweepConfig;
    const template = config?.ok ? config.value.trainer?.command : undefined;
    if (!template || this.#unusable.has("trials.jsonl")) return;
    for (const t of this.#trials) {
      const wrong = commandMismatch(
        template,
        { trial_id: t.trial_id, params: t.params, seed: t.record.seed, budget: t.budget },
        t.command,
        config?.ok ? config.value.search_space : {},
      );
      if (wrong)
        this.#add({
          file: "trials.jsonl",
          line: t.line,
          path: "params",
          message: `${quote(t.params)} is not what ${t.trial_id} ran: ${wrong}`,
        });
    }
  }

  /**
   * Each pruned trial's decision taken again from the curves trials.jsonl records: its own
   * point, every value it was compared with, the threshold the rule gives, that its value
   * was on the pruned side of it, and (protect_leaders) that it did not beat its incumbent, a
   * completed trial's recorded final value. (Which trials had reached the step, or completed,
   * at the time cannot be told afterwards: the decision names the ones it saw, and each must
   * be as recorded.)
   */
  #checkPruning(): void {
    const config = this.#sweepConfig;
    if (!config?.ok || this.#unusable.has("trials.jsonl")) return;
    const pruning = config.value.pruning;
    // Each recorded curve indexed once (decisions look values up by step, never by scan).
    const curves = new Map<string, IndexedCurve>();
    // protect_leaders: a decision's incumbent must be a completed trial.
    const completed = new Set(
      this.#trials.filter((t) => t.record.status === "completed").map((t) => t.trial_id),
    );
    if (pruning)
      for (const t of this.#trials) {
        if (t.record.curve === undefined) continue;
        const curve = recordedCurve(t.record.curve);
        if (typeof curve === "string")
          this.#add({ file: "trials.jsonl", line: t.line, path: "curve", message: curve });
        else curves.set(t.trial_id, curve);
      }
    for (const t of this.#trials) {
      if (t.record.status !== "pruned") continue;
      const decision = t.record.pruned as PruneDecision | undefined;
      const at = { file: "trials.jsonl" as const, line: t.line };
      if (!pruning) {
        this.#add({
          ...at,
          path: "status",
          message: `got "pruned"; the sweep config has no pruning section`,
        });
        continue;
      }
      if (!decision || typeof decision !== "object" || typeof decision.compared !== "object") {
        this.#add({
          ...at,
          path: "pruned",
          message: "missing; a pruned trial records the decision that stopped it",
        });
        continue;
      }
      const own = curves.get(t.trial_id);
      const wrong = own
        ? checkDecision(pruning, decision, own, curves, completed)
        : "its curve is missing or not readable; the decision cannot be taken again";
      if (wrong) this.#add({ ...at, path: "pruned", message: `${t.trial_id}: ${wrong}` });
    }
  }

  /**
   * leaderboard.md and charts/*.svg drawn again from trials.jsonl and the sweep config (with
   * the manifest's sweep id and trials not run), each compared with the file byte for byte.
   */
  #checkDerived(): void {
    const given = this.#derivedGiven;
    const config = this.#sweepConfig;
    if (!given || !this.#ours || this.#unusable.has("trials.jsonl") || !this.#best || !config?.ok) return;
    const manifest = this.#manifest as (RunManifest & { trials?: { not_run?: unknown } }) | undefined;
    const notRun = typeof manifest?.trials?.not_run === "number" ? manifest.trials.not_run : 0;
    const derived = deriveEvidence({
      config: config.value,
      trials: this.#trials.map((t) => t.record as unknown as AggregatedTrial),
      sweepId: manifest?.tuning_job_id ?? this.#best.tuning_job_id ?? null,
      notRun,
      // The recommendation verify already recomputed from the same records (a model fit spared).
      ...(this.#recomputed ? { recommendation: this.#recomputed } : {}),
    });
    const why =
      "drawn again from trials.jsonl and the sweep config (edited after the sweep, or written by another version of tunix-rt)";
    const compare = (name: string, got: string | undefined, expected: string) => {
      if (got === undefined) {
        this.#add({
          file: name,
          path: "",
          message: `missing; tunix-rt writes it with the evidence, ${why.replace(/ \(.*$/, "")}`,
        });
        return;
      }
      const d = firstTextDifference(got, expected);
      if (d)
        this.#add({
          file: name,
          line: d.line,
          path: "",
          message: `is not the file ${why}: at line ${d.line}, column ${d.column}, it has ${JSON.stringify(d.got)} where the drawing has ${JSON.stringify(d.expected)}`,
        });
    };
    compare("leaderboard.md", given.leaderboard, derived.leaderboardMd);
    const drawn = new Map(derived.charts.map((c) => [c.file, c.svg] as const));
    for (const [name, svg] of drawn) compare(`charts/${name}`, given.charts.get(name), svg);
    for (const name of [...given.charts.keys()].sort())
      if (!drawn.has(name))
        this.#add({
          file: `charts/${name}`,
          path: "",
          message: `is not a chart of this sweep (drawn again: ${[...drawn.keys()].join(", ") || "none"})`,
        });
  }

  /** The promoted config must be this evidence's: its run_version, sweep, best trial, params and budget. */
  #checkPromoted(): void {
    const promoted = this.#promoted;
    if (!promoted) return;
    const manifest = this.#manifest;
    const best = this.#best;
    // The best trial as trials.jsonl decides it; else as the files name it.
    const winner = this.#unusable.has("trials.jsonl") ? undefined : this.#recommended()?.trial;
    const trialId = winner
      ? { value: winner.trial_id, from: "the best completed trial in trials.jsonl" }
      : best && best.trial_id !== null
        ? { value: best.trial_id, from: "best_params.json trial_id" }
        : manifest
          ? { value: manifest.trial_id, from: "run_manifest.json trial_id" }
          : undefined;
    const problems = checkPromotedConfig(promoted.text, promoted.shownAs, {
      runVersion: this.#options.runVersion,
      ...(manifest ? { tuningJobId: manifest.tuning_job_id } : {}),
      ...(trialId ? { trialId } : {}),
      ...(best
        ? { best: { params: best.params, budget: (best as BestParams & { budget?: unknown }).budget } }
        : {}),
    });
    append(this.#repoProblems, problems);
  }

  /** primary_score, recomputed from eval_rows.jsonl, must be the one eval_summary.json and best_params.json state. */
  #checkScores(): void {
    if (this.#unusable.has("eval_rows.jsonl")) return;
    const { primary_score: recomputed, rows, counted } = this.#score.result;
    if (recomputed === null) {
      this.#add({
        file: "eval_rows.jsonl",
        path: "",
        message: `none of its ${rows} rows has a metrics.answer_correctness or score in 0..1; primary_score cannot be recomputed`,
      });
      return;
    }
    const source = `the primary_score recomputed from eval_rows.jsonl (${counted} of ${rows} rows counted)`;
    const check = (file: EvidenceFileName, path: string, value: number | null | undefined) => {
      if (typeof value === "number" && !sameScore(value, recomputed)) {
        this.#add({ file, path, message: `got ${value}; expected ${recomputed}, ${source}` });
      }
    };
    check("eval_summary.json", "primary_score", this.#summary?.primary_score);
    check("eval_summary.json", "metrics.answer_correctness", this.#summary?.metrics.answer_correctness);
    check("best_params.json", "primary_score", this.#best?.primary_score);
  }

  /**
   * The best trial as trials.jsonl decides it, by the rule best_params.json `recommendation`
   * names, recomputed here (`recommendTrials` with the sweep config's space and seed): the
   * trial, why it is the best, and a problem when the recorded recommendation is not what
   * the records give. Evidence without a recommendation (M34's, earlier tunix-rt's) chose the
   * best observed score.
   */
  #recommended(): { trial: TrialSummary | undefined; why: string; problem?: Problem } | undefined {
    if (this.#recommendation !== undefined) return this.#recommendation;
    const file = "best_params.json";
    const claimed = (this.#best as (BestParams & { recommendation?: unknown }) | undefined)?.recommendation;
    const observedBest = () => {
      const winner = bestTrial(this.#trials);
      const atBudget = winner?.budget === undefined ? "" : ` at the highest budget ${winner.budget}`;
      return { trial: winner, why: `primary_score ${winner?.primary_score}, the highest${atBudget}` };
    };
    const parsed = RecommendationSchema.safeParse(claimed);
    if (
      claimed === undefined &&
      this.#best !== undefined &&
      /^tunix-rt\b/.test(this.#best.source) &&
      this.#sweepConfig?.ok
    ) {
      // tunix-rt writes the block whenever the sweep config lets it be recomputed; without it,
      // another rule than the sweep's (the best observed score) would stand.
      this.#recommendation = {
        ...observedBest(),
        problem: {
          file,
          path: "recommendation",
          message:
            "missing; tunix-rt writes how the best configuration was chosen (its rule, estimate and runs), and verify recomputes it from trials.jsonl and the sweep config",
        },
      };
    } else if (claimed === undefined || this.#best === undefined) {
      this.#recommendation = observedBest();
    } else if (!parsed.success) {
      this.#recommendation = {
        ...observedBest(),
        problem: {
          file,
          path: "recommendation",
          message: `got ${quote(claimed)}; expected {rule, trial_id, estimate, observed, mean, spread, count, trial_ids} as tunix-rt writes it`,
        },
      };
    } else {
      const config = this.#sweepConfig as ReturnType<typeof validateConfig>;
      if (!config.ok) {
        this.#recommendation = {
          ...observedBest(),
          problem: {
            file,
            path: "sweep_config",
            message: `is not a valid sweep config (${config.problems[0]?.path}: ${config.problems[0]?.message}); the recommendation cannot be recomputed`,
          },
        };
      } else {
        // trials.jsonl lines passed TrialLineSchema: their params are parameter values.
        const again = recommendTrials(config.value, this.#trials as unknown as TrialRecord[]);
        this.#recomputed = again;
        const best = again.best;
        const trial = best && this.#trials.find((t) => t.trial_id === best.trial_ids[0]);
        const how =
          again.rule === "model"
            ? `the model's estimate ${best?.estimate} of its true score, the highest`
            : again.rule === "repeats_mean"
              ? `the mean ${best?.mean} of its ${best?.count} runs, the highest among the re-evaluated`
              : `primary_score ${trial?.primary_score}, the highest${trial?.budget === undefined ? "" : ` at the highest budget ${trial.budget}`}`;
        // The whole block as aggregate writes it from these records, field by field: the rule,
        // the trial, every number (within the scores' tolerance), the runs and the notes.
        const expected = best ? recommendationRecord(again) : undefined;
        const differs = expected ? firstDifference(parsed.data, expected) : undefined;
        this.#recommendation = {
          trial,
          why: how,
          ...(differs
            ? {
                problem: {
                  file,
                  path: `recommendation.${differs.key}`,
                  message: `got ${quote(differs.got)}; recomputed from trials.jsonl and the sweep config it is ${quote(differs.want)} (${again.rule}: ${best?.trial_id} with estimate ${best?.estimate})`,
                },
              }
            : {}),
        };
      }
    }
    return this.#recommendation;
  }

  /** The best trial of trials.jsonl is the one best_params.json and run_manifest.json name, with its params and score. */
  #checkBestTrial(): void {
    const best = this.#best;
    const manifest = this.#manifest;
    if (this.#unusable.has("trials.jsonl")) {
      // Without the trials, the two files can still be checked against each other.
      if (best?.trial_id && manifest?.trial_id && best.trial_id !== manifest.trial_id) {
        this.#add({
          file: "run_manifest.json",
          path: "trial_id",
          message: `got ${quote(manifest.trial_id)}; best_params.json has ${quote(best.trial_id)}`,
        });
      }
      return;
    }
    const recommended = this.#recommended();
    const winner = recommended?.trial;
    if (!recommended || !winner) {
      if (recommended?.problem) this.#add(recommended.problem);
      else
        this.#add({
          file: "trials.jsonl",
          path: "",
          message: "has no completed trial with a primary_score; evidence needs a best trial",
        });
      return;
    }
    const why = `the best completed trial in trials.jsonl is ${quote(winner.trial_id)} (line ${winner.line}: ${recommended.why})`;
    if (recommended.problem) this.#add(recommended.problem);
    const checkNamed = (file: EvidenceFileName, named: string | null | undefined) => {
      if (typeof named !== "string" || named === winner.trial_id) return;
      const known = this.#trialIds.has(named);
      this.#add({
        file,
        path: "trial_id",
        message: `got ${quote(named)}${known ? "" : ", which is not in trials.jsonl"}; ${why}`,
      });
    };
    checkNamed("best_params.json", best?.trial_id);
    checkNamed("run_manifest.json", manifest?.trial_id);
    // best_params.json must agree with the trial it names (whether or not that one is the best).
    const named = best?.trial_id ? this.#trials.find((t) => t.trial_id === best.trial_id) : undefined;
    if (!best || !named) return;
    if (!sameParams(best.params, named.params)) {
      this.#add({
        file: "best_params.json",
        path: "params",
        message: `got ${quote(best.params)}; trials.jsonl line ${named.line} (${named.trial_id}) has ${quote(named.params)}`,
      });
    }
    if (
      best.primary_score !== null &&
      named.primary_score !== null &&
      !sameScore(best.primary_score, named.primary_score)
    ) {
      this.#add({
        file: "best_params.json",
        path: "primary_score",
        message: `got ${best.primary_score}; trials.jsonl line ${named.line} (${named.trial_id}) has ${named.primary_score}`,
      });
    }
  }
}

/**
 * The first field where a recorded recommendation block differs from the one recomputed
 * (`recommendationRecord`): numbers within `scoreTolerance`, the rest as JSON. Undefined when
 * they agree on every field either has.
 */
function firstDifference(
  got: Record<string, unknown>,
  want: Record<string, unknown>,
): { key: string; got: unknown; want: unknown } | undefined {
  for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = got[key];
    const b = want[key];
    const same = typeof a === "number" && typeof b === "number" ? sameScore(a, b) : sameJson(a, b);
    if (!same) return { key, got: a, want: b };
  }
  return undefined;
}

/** Whether two scores are equal within `scoreTolerance`. */
export function sameScore(a: number, b: number): boolean {
  return Math.abs(a - b) <= scoreTolerance;
}

/** A working tree's change for a message: how many paths, the first, and its hash. */
function describeChange(tree: WorktreeState): string {
  const first = tree.files[0] === undefined ? "" : `, first ${tree.files[0]}`;
  const hash = tree.diff_sha256 === null ? "several different changes" : `diff sha256 ${tree.diff_sha256}`;
  return `${tree.changed} path${tree.changed === 1 ? "" : "s"}${first}; ${hash}`;
}

/** The commits trials ran at, for a message: each abbreviated, with its trials. */
function describeCommits(commits: readonly CommitTrials[]): string {
  return commits.map((c) => `${shortSha(c.commit_sha)}: ${listTrialIds(c.trial_ids)}`).join("; ");
}

/** Same keys, same values (params are flat: numbers, strings, booleans, null). */
function sameParams(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && Object.is(a[key], b[key]));
}

/** Everything the pure verification needs of a folder, already read (for callers that hold it in memory). */
export interface EvidenceContents extends VerifyOptions {
  /** File name -> text; an absent name is a missing file (grades.jsonl: judged by who wrote the evidence). */
  files: Partial<Record<EvidenceFileName | typeof gradesFileName, string>>;
  /** The derived files as the evidence holds them (leaderboard.md, charts by name). */
  derived?: { leaderboard: string | undefined; charts: ReadonlyMap<string, string> };
  /**
   * Finds a repository file the evidence names (its evalset, its promoted config) by its
   * repository path. Without it neither is looked for, and notes say so.
   */
  findRepoFile?: (repoPath: string) => NamedFile;
  /** Told what could not be checked (see `EvidenceVerifier.notes`). */
  onNote?: (note: string) => void;
}

/** Verifies an evidence folder held in memory: the JSONL files are split into lines here. */
export function verifyEvidence(contents: EvidenceContents): Problem[] {
  const verifier = new EvidenceVerifier(contents);
  const isJsonl = (name: EvidenceFileName) => name === "eval_rows.jsonl" || name === "trials.jsonl";
  // The JSON files first: they name the evalset the rows are re-graded against as they stream.
  for (const name of evidenceFileNames.filter((n) => !isJsonl(n))) {
    const text = contents.files[name];
    if (text === undefined) verifier.missing(name);
    else if (name === "kaggle_output_log.txt") verifier.outputLog(text);
    else verifier.jsonFile(name as EvidenceJsonFileName, text);
  }
  if (contents.findRepoFile) verifier.repositoryFiles(contents.findRepoFile);
  for (const name of evidenceFileNames.filter(isJsonl)) {
    const text = contents.files[name];
    if (text === undefined) {
      verifier.missing(name);
      continue;
    }
    verifier.present(name);
    for (const entry of jsonlEntries(text)) {
      if (name === "eval_rows.jsonl") verifier.evalRowsLine(entry);
      else verifier.trialsLine(entry);
    }
  }
  const grades = contents.files[gradesFileName];
  if (grades !== undefined) {
    verifier.gradesPresent();
    for (const entry of jsonlEntries(grades)) verifier.gradesLine(entry);
  }
  if (contents.derived) verifier.derivedFiles(contents.derived);
  const problems = verifier.finish();
  for (const note of verifier.notes) contents.onNote?.(note);
  return problems;
}

/**
 * Splits JSONL text into parsed lines as the streaming reader (`readJsonl`) reads a file, so
 * a zip and a folder get the same verdict: blank lines skipped, a byte-order mark dropped
 * from the first line only, Python's NaN and Infinity read.
 */
export function* jsonlEntries(text: string): Generator<JsonlEntry> {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]?.replace(/\r$/, "") ?? "";
    if (i === 0 && raw.startsWith("\uFEFF")) raw = raw.slice(1);
    if (raw.length > limits.lineBytes) {
      yield {
        line: i + 1,
        ok: false,
        refused: true,
        error: `is longer than ${bytesText(limits.lineBytes)}; not read`,
      };
      continue;
    }
    if (raw.trim() === "") continue;
    let entry: JsonlEntry;
    try {
      entry = { line: i + 1, ok: true, value: parseEvidenceJson(raw) };
    } catch (error) {
      entry = {
        line: i + 1,
        ok: false,
        error: messageOf(error),
        ...(error instanceof JsonShapeError ? { refused: true } : {}),
      };
    }
    yield entry;
  }
}
