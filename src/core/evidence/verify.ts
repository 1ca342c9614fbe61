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
 *
 * This file is the driver: it takes what the caller read and hands it to the rules, which
 * live in verify/, one module per evidence file and one for the rules that read several:
 *
 *   context.ts          what has been read, the problems and notes so far, `add`
 *   presence.ts         every file: there and readable
 *   json-file.ts        the JSON files parsed and against their schema; nulls, run_version, templates
 *   manifest.ts         run_manifest.json on its own
 *   summary.ts          eval_summary.json on its own
 *   best-params.ts      best_params.json on its own
 *   output-log.ts       kaggle_output_log.txt
 *   jsonl.ts            the JSONL files' lines: parsed, within the file's cap
 *   rows.ts             eval_rows.jsonl
 *   trials.ts           trials.jsonl: its records, their commands, the pruning decisions
 *   grades.ts           grades.jsonl: each scored trial's primary_score recomputed
 *   evalset.ts          the rows re-graded against the evalset
 *   promoted-config.ts  the promoted config
 *   trusted.ts          the trusted rule: copies beside the evidence, the sweep config
 *   best-trial.ts       the best trial, by the recommendation recomputed
 *   source.ts           the code the trials ran
 *   derived.ts          leaderboard.md and the charts drawn again
 *   cross-file.ts       the rest that reads several files: model, command, scores, provenance
 *
 * The rule of the folder: a module holds the rules of one file (or the cross-file ones), reads
 * and adds to the context only, and imports no other rule module but for a shared helper
 * (json-file.ts, jsonl.ts, best-trial.ts's `recommended`); this driver holds no rule. A new
 * rule about a file goes in that file's module, in the check this driver already calls, and
 * its test in test/verify-rules.test.ts. A new check run once every file is in is one more
 * entry in `finalRules` below: problems of one file and line are listed in the order the
 * rules ran, so that list's order is part of the output.
 */
import type { Problem } from "../errors.js";
import { gradesFileName } from "../grading/grades.js";
import { limits } from "../limits.js";
import {
  type BestParams,
  type EvalSummary,
  type EvidenceFileName,
  type EvidenceJsonFileName,
  evidenceFileNames,
  type RunManifest,
} from "./schemas.js";
import { checkBestParams } from "./verify/best-params.js";
import { checkBestTrial } from "./verify/best-trial.js";
import {
  type DerivedFiles,
  type NamedFile,
  type NamedFiles,
  VerifyContext,
  type VerifyOptions,
} from "./verify/context.js";
import {
  checkBestRecord,
  checkModel,
  checkProvenance,
  checkScores,
  checkTuningJobId,
} from "./verify/cross-file.js";
import { checkDerived } from "./verify/derived.js";
import { finishRegrade, useEvalset } from "./verify/evalset.js";
import { checkGrades, gradesLine, gradesUnreadable } from "./verify/grades.js";
import { checkTemplate, readJsonFile } from "./verify/json-file.js";
import { type JsonlEntry, jsonlEntries } from "./verify/jsonl.js";
import { checkManifest } from "./verify/manifest.js";
import { checkOutputLog } from "./verify/output-log.js";
import { fileMissing, fileUnreadable } from "./verify/presence.js";
import { checkPromoted, notePromotedUnchecked, usePromotedConfig } from "./verify/promoted-config.js";
import { checkHasRows, evalRowsLine } from "./verify/rows.js";
import { checkSource } from "./verify/source.js";
import { checkSummary } from "./verify/summary.js";
import { checkCommands, checkHasTrials, checkPruning, trialsLine } from "./verify/trials.js";
import { checkTrustedConfig, checkTrustedCopy, useTrustedSweepConfig } from "./verify/trusted.js";

export {
  type NamedFile,
  type NamedFiles,
  sameScore,
  scoreTolerance,
  type TrustedFiles,
  type VerifyOptions,
  type VerifyProfile,
} from "./verify/context.js";
export { type JsonlEntry, jsonlEntries } from "./verify/jsonl.js";
export { kaggleModels } from "./verify/manifest.js";

/**
 * The rules run once every file is in, in this order: the JSONL files' ends, the cross-file
 * rules, then what the re-grade and the promoted config leave.
 */
const finalRules: ReadonlyArray<(ctx: VerifyContext) => void> = [
  checkHasRows,
  checkHasTrials,
  checkTrustedConfig,
  checkModel,
  checkBestRecord,
  checkScores,
  checkBestTrial,
  checkProvenance,
  checkSource,
  checkPromoted,
  checkGrades,
  checkCommands,
  checkPruning,
  checkDerived,
  checkTuningJobId,
  finishRegrade,
  notePromotedUnchecked,
];

/**
 * Collects the problems of one evidence folder. For each file call `missing`, `unreadable`,
 * `jsonFile` or `outputLog`, or `present` then `evalRowsLine`/`trialsLine` per line, in any
 * order of files; then `finish()` once.
 */
export class EvidenceVerifier {
  readonly #ctx: VerifyContext;

  constructor(options: VerifyOptions) {
    this.#ctx = new VerifyContext(options);
  }

  /** The SHA-256 of a repository file's bytes, as read (the sweep config the manifest names: its recorded hash must match). */
  knownHash(repoPath: string, sha256: string): void {
    this.#ctx.hashes.set(repoPath, sha256);
  }

  /**
   * Gives the repository files the evidence names, once the JSON files are in (and before
   * the rows stream): the evalset the rows are re-graded against and the promoted config,
   * from `beside` (the repository the evidence lies in: a folder's checkout, a zip's
   * members). Under the trusted rule the evalset and the sweep config come from the trusted
   * checkout instead, and a copy beside the evidence that differs from it is a problem.
   */
  repositoryFiles(beside: (repoPath: string) => NamedFile): void {
    const ctx = this.#ctx;
    const { evalSet, configPath, sweepConfigPath } = this.namedFiles();
    const trusted = ctx.trusted;
    if (evalSet !== undefined) {
      if (trusted) {
        const truth = trusted.file(evalSet);
        const theirs = beside(evalSet);
        checkTrustedCopy(ctx, truth, theirs, "evalset");
        useEvalset(ctx, truth);
      } else useEvalset(ctx, beside(evalSet));
    }
    if (configPath !== undefined) usePromotedConfig(ctx, beside(configPath));
    if (trusted && sweepConfigPath !== undefined) {
      const theirs = beside(sweepConfigPath);
      const truth = trusted.file(sweepConfigPath);
      checkTrustedCopy(ctx, truth, theirs, "sweep config");
      useTrustedSweepConfig(ctx, trusted.config(sweepConfigPath));
    }
  }

  /**
   * The repository files the evidence names, from the JSON files given so far (so call it
   * after `jsonFile` for run_manifest.json and eval_summary.json); a name is left out when its
   * file is unusable.
   */
  namedFiles(): NamedFiles {
    const { manifest, summary } = this.#ctx;
    const sweepConfigPath = manifest?.sweep_config_path;
    return {
      ...(summary ? { evalSet: summary.eval_set } : {}),
      ...(manifest ? { configPath: manifest.config_path } : {}),
      ...(sweepConfigPath === undefined ? {} : { sweepConfigPath }),
    };
  }

  /**
   * The evalset eval_summary.json names, as found: each row of eval_rows.jsonl is then
   * re-graded against it as it streams (so give it before the first `evalRowsLine`). Not at
   * hand, the rows are not re-graded, and a note says so.
   */
  evalset(found: NamedFile): void {
    useEvalset(this.#ctx, found);
  }

  /**
   * The promoted config run_manifest.json names, as found: it must be this evidence's (its
   * run_version, sweep, best trial, params, budget). Named but not there is a problem.
   */
  promotedConfig(found: NamedFile): void {
    usePromotedConfig(this.#ctx, found);
  }

  /** What could not be checked and why (the evalset not at hand, ...): for the user to know, not problems. */
  get notes(): readonly string[] {
    return this.#ctx.notes;
  }

  /** The file is there (call before streaming a JSONL file, so an empty one is "empty", not "missing"). */
  present(name: EvidenceFileName): void {
    this.#ctx.seen.add(name);
  }

  /** The file is not in the folder. */
  missing(name: EvidenceFileName): void {
    fileMissing(this.#ctx, name);
  }

  /** The file is there but could not be read (`reason`: permission denied, is a directory, ...). */
  unreadable(name: EvidenceFileName, reason: string): void {
    fileUnreadable(this.#ctx, name, reason);
  }

  /** The text of one of the three JSON files: parsed, checked against its schema and for template nulls. */
  jsonFile(name: EvidenceJsonFileName, text: string): void {
    const ctx = this.#ctx;
    const document = readJsonFile(ctx, name, text);
    if (document === undefined) return;
    const before = ctx.problems.length;
    if (name === "run_manifest.json") {
      ctx.manifest = document as RunManifest;
      checkManifest(ctx, ctx.manifest);
    } else if (name === "eval_summary.json") {
      ctx.summary = document as EvalSummary;
      checkSummary(ctx, ctx.summary);
    } else {
      ctx.best = document as BestParams;
      checkBestParams(ctx, ctx.best);
    }
    checkTemplate(ctx, name, document, before);
  }

  /** The text of `kaggle_output_log.txt`. */
  outputLog(text: string): void {
    checkOutputLog(this.#ctx, text);
  }

  /** Whether a JSONL file's lines past this point are no longer read (its cap was passed). */
  full(file: "eval_rows.jsonl" | "trials.jsonl"): boolean {
    const ctx = this.#ctx;
    return file === "eval_rows.jsonl" ? ctx.rowLines > limits.rows : ctx.trialLines > limits.trials;
  }

  /** One line of `eval_rows.jsonl` (blank lines are not given). */
  evalRowsLine(entry: JsonlEntry): void {
    evalRowsLine(this.#ctx, entry);
  }

  /** One line of `trials.jsonl` (blank lines are not given). */
  trialsLine(entry: JsonlEntry): void {
    trialsLine(this.#ctx, entry);
  }

  /** grades.jsonl is there (its lines follow); without it, tunix-rt's evidence is missing a file. */
  gradesPresent(): void {
    this.#ctx.gradesGiven = true;
  }

  /** grades.jsonl could not be read. */
  gradesUnreadable(reason: string): void {
    gradesUnreadable(this.#ctx, reason);
  }

  /** One line of grades.jsonl: a trial's row values, to recompute its primary_score. */
  gradesLine(entry: JsonlEntry): void {
    gradesLine(this.#ctx, entry);
  }

  /**
   * The derived files as the evidence holds them: leaderboard.md (undefined: absent) and
   * each chart by its name in charts/. They are drawn again and compared at `finish`.
   */
  derivedFiles(files: DerivedFiles): void {
    this.#ctx.derived = files;
  }

  /**
   * Every problem found, the cross-file rules' included: by file in the evidence order, then
   * by line; then those of the repository files (the evalset, the promoted config).
   */
  finish(): Problem[] {
    const ctx = this.#ctx;
    for (const name of evidenceFileNames) if (!ctx.seen.has(name)) fileMissing(ctx, name);
    for (const rule of finalRules) rule(ctx);
    return ctx.listProblems();
  }
}

/** Everything the pure verification needs of a folder, already read (for callers that hold it in memory). */
export interface EvidenceContents extends VerifyOptions {
  /** File name -> text; an absent name is a missing file (grades.jsonl: judged by who wrote the evidence). */
  files: Partial<Record<EvidenceFileName | typeof gradesFileName, string>>;
  /** The derived files as the evidence holds them (leaderboard.md, charts by name). */
  derived?: DerivedFiles;
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
