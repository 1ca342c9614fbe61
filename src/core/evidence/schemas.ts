import { z } from "zod";
import { type Problem, quote } from "../errors.js";
import { TrialSourceFields } from "./source.js";

/**
 * The files of an evidence folder `submission_runs/<run_version>/` (DESIGN.md, "Evidence
 * folder"), in the order they are checked and reported.
 */
export const evidenceFileNames = [
  "run_manifest.json",
  "eval_summary.json",
  "best_params.json",
  "kaggle_output_log.txt",
  "eval_rows.jsonl",
  "trials.jsonl",
] as const;

/** One of the six evidence files. */
export type EvidenceFileName = (typeof evidenceFileNames)[number];

/**
 * The evidence's signature beside it, when the sweep signed it: the Sigstore bundle of a
 * GitHub artifact attestation (core/attest).
 */
export const attestationFileName = "attestation.sigstore.json";

/** The evidence files that hold one JSON document. */
export type EvidenceJsonFileName = "run_manifest.json" | "eval_summary.json" | "best_params.json";

const text = z.string().min(1);
/** ISO 8601 date and time with a zone (`2025-12-26T12:00:00Z`, `...+02:00`), as M34 writes. */
const timestamp = z.iso.datetime({
  offset: true,
  error: "expected an ISO 8601 date-time with a zone, like 2025-12-26T12:00:00Z",
});
/** A UUID in its 8-4-4-4-12 hex form (any version: a user may choose a sweep id). */
const uuid = z.guid({ error: "expected a UUID (8-4-4-4-12 hex digits)" });
/** primary_score and answer_correctness are means of 0..1 values. */
const unitScore = z.number().min(0).max(1);
/** A parameter value as a trial receives it: any JSON value (a choice's value may be a list or a mapping). */
const paramValue = z.json();

/**
 * `run_manifest.json`: how the evidence was produced. The schema is the file format, which
 * M34 templates also satisfy (its nulls included); what makes a file real evidence (no
 * nulls where a sweep must have put a value) is checked by `verifyEvidence`.
 * More keys are allowed (M34 writes `environment` and `notes`).
 */
export const RunManifestSchema = z.looseObject({
  /** The run version: the evidence folder's name. */
  run_version: text,
  /** The base model (`google/gemma-3-1b-it`); null where the sweep config did not say (an imported W&B file). */
  model_id: text.nullable(),
  /** The dataset key the trainer used; null where the sweep config did not say. */
  dataset: text.nullable(),
  /** The promoted config (`training/configs/<run_version>_best.yaml`), relative to the repository root. */
  config_path: text,
  /** The command that trained the best trial (shell-quoted for reading, not for running). */
  command: text,
  /** The commit the sweep ran at. */
  commit_sha: text,
  /** When the evidence was written (ISO 8601). */
  timestamp,
  /** The sweep (tuning job) id; null only in templates. */
  tuning_job_id: uuid.nullable(),
  /** The best trial's id; null only in templates. */
  trial_id: text.nullable(),
  /** tunix-rt extra: the sweep config that ran, relative to the repository root (packaged with the zip). */
  sweep_config_path: text.optional(),
});
/** A parsed `run_manifest.json`. */
export type RunManifest = z.infer<typeof RunManifestSchema>;

/** `eval_summary.json`: the best trial's evaluation. More keys are allowed, in it and in `metrics`. */
export const EvalSummarySchema = z.looseObject({
  run_version: text,
  /** The evalset, relative to the repository root. */
  eval_set: text,
  /** `answer_correctness` is the primary_score's metric; others (final_loss, ...) are free. */
  metrics: z.looseObject({ answer_correctness: unitScore.nullable() }),
  /** The M34 primary_score of the best trial's eval rows. */
  primary_score: unitScore.nullable(),
  evaluated_at: timestamp,
});
/** A parsed `eval_summary.json`. */
export type EvalSummary = z.infer<typeof EvalSummarySchema>;

/** `best_params.json`: the winning trial and the sweep it won. More keys are allowed. */
export const BestParamsSchema = z.looseObject({
  /** What produced it (`tunix-rt sweep`, `M34 Ray Tune Sweep`). */
  source: text,
  tuning_job_id: uuid.nullable(),
  trial_id: text.nullable(),
  /** The run (training job, artifact) the best trial was; M34 had a database UUID here. */
  best_run_id: text.nullable(),
  params: z.record(z.string(), paramValue),
  primary_score: unitScore.nullable(),
  /** The sweep config that ran (kept as it was; the best trial is always the highest primary_score). */
  sweep_config: z.looseObject({}),
});
/** best_params.json `recommendation`: how the best configuration was chosen (src/core/search/recommend.ts). */
export const RecommendationSchema = z.looseObject({
  rule: z.enum(["model", "best_observed", "repeats_mean"]),
  trial_id: text,
  estimate: z.number(),
  observed: z.number(),
  mean: z.number(),
  spread: z.number().min(0),
  count: z.number().int().min(1),
  trial_ids: z.array(text).min(1),
});
/** A parsed `best_params.json`. */
export type BestParams = z.infer<typeof BestParamsSchema>;

/**
 * One line of `eval_rows.jsonl`. Rows from tunix-rt's grading are
 * `{id, prediction, expected_answer, metrics: {answer_correctness}, score}`, but a trainer
 * that grades itself may write other shapes: primary_score only needs `metrics` or `score`
 * (read leniently, as M34 did), so only an object is required and `id`, when present, must
 * be a string or a number (it is how duplicates are found).
 */
export const EvalRowLineSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).optional(),
});
/** A parsed `eval_rows.jsonl` line. */
export type EvalRowLine = z.infer<typeof EvalRowLineSchema>;

/** One line of `trials.jsonl`: a trial record (DESIGN.md, "History / trial records"). More keys allowed. */
export const TrialLineSchema = z.looseObject({
  trial_id: text,
  params: z.record(z.string(), paramValue),
  status: z.enum(["completed", "failed", "timeout", "pruned", "running"]),
  primary_score: unitScore.nullable(),
  budget: z.number().optional(),
  /** The commit and working tree the trial started from (absent in records of an older tunix-rt). */
  ...TrialSourceFields,
});
/** A parsed `trials.jsonl` line. */
export type TrialLine = z.infer<typeof TrialLineSchema>;

/** One member of a submission zip as `MANIFEST.json` lists it. */
export const ManifestFileSchema = z.strictObject({
  /** The entry name in the zip (POSIX, relative). */
  path: text,
  /** Size in bytes, uncompressed. */
  size: z.number().int().min(0),
  /** SHA-256 of the uncompressed bytes, lowercase hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "expected 64 lowercase hex digits" }),
});

/** `MANIFEST.json` at the root of a submission zip: every other member with its size and hash. */
export const SubmissionManifestSchema = z.looseObject({
  /** Format tag, so a later layout can be told apart. */
  format: z.literal("tunix-rt-submission/1"),
  run_version: text,
  /** Where the evidence folder sits in the zip (`submission_runs/<run_version>`). */
  run_dir: text,
  /** The date in the zip's name (YYYY-MM-DD). */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: "expected YYYY-MM-DD" }),
  /** The full commit sha packaged, or null outside a git repository. */
  commit: text.nullable(),
  /** The tool and version that packaged it. */
  tool: text,
  files: z.array(ManifestFileSchema),
});
/** A parsed `MANIFEST.json`. */
export type SubmissionManifest = z.infer<typeof SubmissionManifestSchema>;

/**
 * Turns a failed safeParse into problems that quote the bad value and say what was
 * expected, `path: got X; expected Y`, for `file` (and `line`, for a JSONL line).
 */
export function schemaProblems(error: z.ZodError, file: string, line?: number): Problem[] {
  return error.issues.map((issue) => {
    const at = issue.path.map(String).join(".");
    const input = (issue as { input?: unknown }).input;
    const problem = (message: string): Problem =>
      line === undefined ? { file, path: at, message } : { file, line, path: at, message };
    switch (issue.code) {
      case "invalid_type":
        if (input === undefined) return problem(`missing; expected ${describeType(issue.expected)}`);
        return problem(`got ${quote(input)}; expected ${describeType(issue.expected)}`);
      case "invalid_value":
        return problem(
          `got ${quote(input)}; expected one of ${issue.values.map((v) => String(v)).join(", ")}`,
        );
      case "too_small":
        if (issue.origin === "string") return problem(`got ${quote(input)}; expected a non-empty string`);
        return problem(`got ${quote(input)}; expected ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`);
      case "too_big":
        return problem(`got ${quote(input)}; expected ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`);
      case "invalid_union":
        return problem(`got ${quote(input)}; expected a number, string, boolean or null`);
      default:
        return problem(`got ${quote(input)}; ${issue.message}`);
    }
  });
}

function describeType(expected: string): string {
  switch (expected) {
    case "record":
    case "object":
      return "an object";
    case "array":
      return "an array";
    case "int":
      return "a whole number";
    default:
      return `a ${expected}`;
  }
}
