/**
 * What the verifier has read of one evidence folder, and the problems and notes found so far:
 * the context every rule module of verify/ reads and adds to. Plain fields, set by the driver
 * (verify.ts) and the modules that read a file; `add` is the one way a problem is listed.
 */
import { type SweepConfig, validateConfig } from "../../config/config.js";
import { type Problem, quote } from "../../errors.js";
import { gradesFileName } from "../../grading/grades.js";
import { ScoreAccumulator } from "../../grading/score.js";
import { escapeControlCharacters, lineOfPath } from "../../json-text.js";
import { limits } from "../../limits.js";
import type { Recommendation } from "../../search/recommend.js";
import type { RowRegrader } from "../regrade.js";
import {
  type BestParams,
  type EvalSummary,
  type EvidenceFileName,
  evidenceFileNames,
  type RunManifest,
} from "../schemas.js";
import type { WorktreeState } from "../source.js";

/** Extra rules on top of the format: `kaggle` also requires a Gemma model the competition allows. */
export type VerifyProfile = "default" | "kaggle";

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

/** One valid line of trials.jsonl, as the rules read it. */
export interface TrialSummary {
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

/** The best trial as trials.jsonl decides it, why it is the best, and what is wrong with the recorded recommendation. */
export interface Recommended {
  trial: TrialSummary | undefined;
  why: string;
  problem?: Problem;
}

/** The derived files as the evidence holds them: leaderboard.md (undefined: absent) and each chart by name. */
export interface DerivedFiles {
  leaderboard: string | undefined;
  charts: ReadonlyMap<string, string>;
}

/** How far two scores may differ and still be the same score (they are recomputed in floating point). */
export const scoreTolerance = 1e-9;

/** Whether two scores are equal within `scoreTolerance`. */
export function sameScore(a: number, b: number): boolean {
  return Math.abs(a - b) <= scoreTolerance;
}

export class VerifyContext {
  readonly options: Required<Omit<VerifyOptions, "trusted">> & Pick<VerifyOptions, "trusted">;
  /** Problems in the evidence files, grades.jsonl and the derived files, as `add` listed them. */
  readonly problems: Problem[] = [];
  /** Problems in repository files (the evalset, the promoted config): named as the caller showed them. */
  readonly repoProblems: Problem[] = [];
  /** What could not be checked and why: for the user to know, not problems. */
  readonly notes: string[] = [];
  /** Files that could not be used (missing, unreadable, invalid): cross-checks skip them. */
  readonly unusable = new Set<EvidenceFileName>();
  readonly seen = new Set<EvidenceFileName>();
  /** Each JSON file's line of every key path, for the problems about a key. */
  readonly keyLines = new Map<EvidenceFileName, Map<string, number>>();
  /** Problems found per file and field (`add`), listed or not. */
  readonly perRule = new Map<string, number>();
  /** SHA-256 of repository files the caller read after construction (`knownHash`). */
  readonly hashes = new Map<string, string>();

  /** The JSON files, once valid against their schema. */
  manifest: RunManifest | undefined;
  summary: EvalSummary | undefined;
  best: BestParams | undefined;

  /** eval_rows.jsonl: the score recomputed from its rows, their ids (to the first line of each), their count. */
  readonly score = new ScoreAccumulator();
  readonly rowIds = new Map<string, number>();
  rowLines = 0;
  /** The counted value of each row of eval_rows.jsonl, in order (the best trial's grades must be these). */
  readonly rowValues: Array<number | undefined> = [];

  /** trials.jsonl: its valid records, their ids (to their line), and its count of lines. */
  readonly trials: TrialSummary[] = [];
  readonly trialIds = new Map<string, number>();
  trialLines = 0;

  /** grades.jsonl: each trial's row values by trial id. */
  readonly grades = new Map<string, { line: number; values: Array<number | undefined> }>();
  gradesGiven = false;
  gradesUnusable = false;
  gradeLines = 0;

  /** The repository files the evidence names, as given: the evalset, the promoted config, the trusted sweep config. */
  regrader: RowRegrader | undefined;
  evalsetGiven = false;
  promoted: { shownAs: string; text: string } | undefined;
  promotedGiven = false;
  trustedConfig: SweepConfig | undefined;
  trustedConfigGiven = false;

  /** The derived files as the evidence holds them; drawn again and compared at the end. */
  derived: DerivedFiles | undefined;

  /** The best trial by the recorded rule, computed once (`recommended`). */
  recommendation: Recommended | undefined;
  /** The recommendation recomputed from trials.jsonl (`recommended`), which the derived files are drawn with. */
  recomputed: Recommendation | undefined;
  /** best_params.json sweep_config, validated once (`sweepConfig`). */
  sweepConfigChecked: ReturnType<typeof validateConfig> | undefined;

  constructor(options: VerifyOptions) {
    this.options = { profile: "default", fileHashes: {}, nameEvidenceFile: (name) => name, ...options };
  }

  /** The trusted checkout, under the trusted rule. */
  get trusted(): TrustedFiles | undefined {
    return this.options.trusted;
  }

  /** best_params.json sweep_config, validated once (undefined without best_params.json). */
  sweepConfig(): ReturnType<typeof validateConfig> | undefined {
    if (!this.best) return undefined;
    this.sweepConfigChecked ??= validateConfig(this.best.sweep_config, "best_params.json");
    return this.sweepConfigChecked;
  }

  /** Whether the evidence says tunix-rt wrote it (best_params.json source). */
  ours(): boolean {
    return this.best !== undefined && /^tunix-rt\b/.test(this.best.source);
  }

  /**
   * A repository file run_manifest.json names at `field` that is not at hand: a problem on
   * that field, naming the file as the manifest gave it. True when it was absent.
   */
  namedButAbsent<F extends { shownAs: string }>(
    field: "config_path" | "sweep_config_path",
    what: string,
    found: F | { shownAs: string; absent: string },
  ): found is { shownAs: string; absent: string } {
    if (!("absent" in found)) return false;
    this.add({
      file: "run_manifest.json",
      path: field,
      message: `got ${quote(this.manifest?.[field] ?? found.shownAs)}; the ${what} ${found.absent}`,
    });
    return true;
  }

  add(problem: Problem): void {
    // At most `problemsPerRule` problems of one file and field are listed; the rest are
    // counted, and `listProblems` says how many (a file of a million bad lines costs no more).
    const rule = `${problem.file}\u0000${problem.path}`;
    const listed = this.perRule.get(rule) ?? 0;
    this.perRule.set(rule, listed + 1);
    if (listed >= limits.problemsPerRule) return;
    // JSON files get the line of the key the problem is about, for annotations.
    if (problem.line === undefined) {
      const lines = this.keyLines.get(problem.file as EvidenceFileName);
      const line = lines && lineOfPath(lines, problem.path);
      if (line !== undefined) problem = { ...problem, line };
    }
    // Keys come from the files as they are ("a\nb" is a valid JSON key): escape control
    // characters, so every problem stays one line of output.
    this.problems.push({
      ...problem,
      path: escapeControlCharacters(problem.path),
      message: escapeControlCharacters(problem.message),
    });
  }

  /**
   * Every problem found, with a count of those not listed per file and field: by file in the
   * evidence order, then by line; then those of the repository files (the evalset, the
   * promoted config). Call once, when every rule has run.
   */
  listProblems(): Problem[] {
    for (const [rule, count] of this.perRule) {
      if (count <= limits.problemsPerRule) continue;
      const [file = "", path = ""] = rule.split("\u0000");
      this.problems.push({
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
    const name = this.options.nameEvidenceFile;
    const evidence = this.problems
      .map((problem, index) => ({ problem, index }))
      .sort(
        (a, b) =>
          order(a.problem) - order(b.problem) ||
          (a.problem.line ?? 0) - (b.problem.line ?? 0) ||
          a.index - b.index,
      )
      .map(({ problem }) => ({ ...problem, file: name(problem.file as EvidenceFileName) }));
    const repo = this.repoProblems.map((problem) => ({
      ...problem,
      path: escapeControlCharacters(problem.path),
      message: escapeControlCharacters(problem.message),
    }));
    return [...evidence, ...repo];
  }
}
