/**
 * Builds consistent evidence folders for tests: from a list of trials and the best trial's
 * eval rows it writes the six files so that every cross-file rule holds; a test then breaks
 * exactly one thing.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import type { EvidenceFileName } from "../../src/core/evidence/schemas.js";
import { encodeGrades, scoreOfValues } from "../../src/core/grading/grades.js";
import { rowValue } from "../../src/core/grading/score.js";

/** A trial record as trials.jsonl holds it. */
export interface FixtureTrial {
  trial_id: string;
  params: Record<string, number | string | boolean | null>;
  status: "completed" | "failed" | "timeout" | "pruned" | "running";
  primary_score: number | null;
  [extra: string]: unknown;
}

/** What to build; everything has a consistent default. */
export interface EvidenceFixture {
  /** The folder's name and run_version (default `rt_test_v1`). */
  runVersion?: string;
  trials?: FixtureTrial[];
  /** The best trial's graded rows (default: 4 rows, 3 correct: primary_score 0.75). */
  rows?: unknown[];
  /** "min" builds the evidence an old sweep with metric_mode min wrote: the lowest score promoted. */
  metricMode?: "max" | "min";
  modelId?: string;
  /** Merged over the generated documents (top-level keys). */
  manifest?: Record<string, unknown>;
  summary?: Record<string, unknown>;
  best?: Record<string, unknown>;
  log?: string;
}

/** The sweep id every fixture uses. */
export const fixtureSweepId = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

/** Rows of a graded trial: one per correctness value, in tunix-rt's grading shape. */
export function gradedRows(correct: number[]): unknown[] {
  return correct.map((c, i) => ({
    id: `q${i + 1}`,
    prediction: `<reasoning>r</reasoning><answer>${c ? "yes" : "no"}</answer>`,
    expected_answer: "yes",
    metrics: { answer_correctness: c },
    score: c * 100,
  }));
}

/** The default trials: t0001 wins with 0.75 (the default rows' score). */
export function defaultTrials(): FixtureTrial[] {
  return [
    {
      trial_id: "t0000",
      params: { learning_rate: 2e-5, per_device_batch_size: 2 },
      status: "completed",
      primary_score: 0.5,
    },
    {
      trial_id: "t0001",
      params: { learning_rate: 5e-5, per_device_batch_size: 4 },
      status: "completed",
      primary_score: 0.75,
    },
    {
      trial_id: "t0002",
      params: { learning_rate: 9e-5, per_device_batch_size: 1 },
      status: "failed",
      primary_score: null,
    },
    {
      trial_id: "t0003",
      params: { learning_rate: 1e-5, per_device_batch_size: 1 },
      status: "completed",
      primary_score: 0.25,
    },
  ];
}

/**
 * grades.jsonl for a fixture: the best trial's line from its rows, every other scored trial's
 * a single row whose value is its score (what a tunix-rt sweep keeps, in the fewest rows).
 */
export function gradesText(
  trials: readonly FixtureTrial[],
  rows: readonly unknown[],
  bestId: string | undefined,
): string {
  const lines: string[] = [];
  for (const t of trials) {
    if (t.status !== "completed" || t.primary_score === null) continue;
    const values = t.trial_id === bestId ? rows.map(rowValue) : [t.primary_score];
    const score = scoreOfValues(values);
    lines.push(
      `${JSON.stringify({
        trial_id: t.trial_id,
        rows: score.rows,
        counted: score.counted,
        grades: encodeGrades(values),
        eval_rows_sha256: "0".repeat(64),
        predictions_sha256: null,
      })}\n`,
    );
  }
  return lines.join("");
}

/** The files' text for a fixture (the six, and grades.jsonl), consistent unless the fixture's overrides break it. */
export function evidenceTexts(
  fixture: EvidenceFixture = {},
): Record<EvidenceFileName, string> & { "grades.jsonl": string } {
  const { manifest, summary, bestParams, rows, trials, best } = documents(fixture);
  const jsonl = (values: unknown[]) => values.map((v) => `${JSON.stringify(v)}\n`).join("");
  return {
    "grades.jsonl": gradesText(trials, rows, best?.trial_id),
    "run_manifest.json": `${JSON.stringify(manifest, null, 2)}\n`,
    "eval_summary.json": `${JSON.stringify(summary, null, 2)}\n`,
    "best_params.json": `${JSON.stringify(bestParams, null, 2)}\n`,
    "kaggle_output_log.txt":
      fixture.log ?? `trial ${best?.trial_id}: step 1 loss 1.25\ntrial ${best?.trial_id}: done\n`,
    "eval_rows.jsonl": jsonl(rows),
    "trials.jsonl": jsonl(trials),
  };
}

/** The repository files an evidence folder names besides itself. */
export type RepoFileRole = "promotedConfig" | "evalset";

/**
 * The repository files the evidence names, by repository path, consistent with it: the
 * promoted config at run_manifest.json config_path (as `bestConfigYaml` writes it, from
 * best_params.json and the manifest) and the evalset at eval_summary.json eval_set (one item
 * per row that has an id and an expected_answer; none when no row has).
 */
export function repoTexts(
  fixture: EvidenceFixture = {},
): Partial<Record<RepoFileRole, { path: string; text: string }>> {
  const { manifest, summary, bestParams, rows } = documents(fixture);
  const out: Partial<Record<RepoFileRole, { path: string; text: string }>> = {};
  if (typeof manifest.config_path === "string") {
    const doc = {
      run_version: fixture.runVersion ?? "rt_test_v1",
      base_model_id: manifest.model_id,
      dataset_key: manifest.dataset,
      params: bestParams.params,
      ...(bestParams.budget === undefined ? {} : { budget: bestParams.budget }),
      provenance: {
        tool: "tunix-rt 0.1.0",
        sweep_config: manifest.sweep_config_path,
        sweep_id: bestParams.tuning_job_id,
        trial_id: bestParams.trial_id,
        primary_score: bestParams.primary_score,
        metric: "answer_correctness (max)",
        commit: manifest.commit_sha,
        date: manifest.timestamp,
        workflow_run_url: null,
      },
    };
    out.promotedConfig = {
      path: manifest.config_path,
      text: `# Promoted by tunix-rt: the best trial of a sweep.\n${stringify(doc, { lineWidth: 0 })}`,
    };
  }
  const items = new Map<string, string>();
  for (const row of rows as Record<string, unknown>[]) {
    const id = typeof row?.id === "string" || typeof row?.id === "number" ? String(row.id) : undefined;
    if (id !== undefined && typeof row.expected_answer === "string" && !items.has(id))
      items.set(id, row.expected_answer);
  }
  if (typeof summary.eval_set === "string" && items.size > 0) {
    out.evalset = {
      path: summary.eval_set,
      text: [...items]
        .map(
          ([id, expected]) =>
            `${JSON.stringify({ id, prompt: `question ${id}`, expected_answer: expected })}\n`,
        )
        .join(""),
    };
  }
  return out;
}

/** The documents of a fixture, overrides applied. */
function documents(fixture: EvidenceFixture) {
  const runVersion = fixture.runVersion ?? "rt_test_v1";
  const trials = fixture.trials ?? defaultTrials();
  const rows = fixture.rows ?? gradedRows([1, 1, 0, 1]);
  const mode = fixture.metricMode ?? "max";
  const scored = trials.filter((t) => t.status === "completed" && t.primary_score !== null);
  const best = scored.sort(
    (a, b) =>
      (mode === "max"
        ? (b.primary_score ?? 0) - (a.primary_score ?? 0)
        : (a.primary_score ?? 0) - (b.primary_score ?? 0)) || (a.trial_id < b.trial_id ? -1 : 1),
  )[0];
  const score = best?.primary_score ?? null;
  const manifest = {
    run_version: runVersion,
    model_id: fixture.modelId ?? "google/gemma-3-1b-it",
    dataset: "dev-reasoning-v2",
    config_path: "training/configs/best.yaml",
    command: "python training/train.py --lr 5e-05",
    commit_sha: "40a90d6",
    timestamp: "2025-12-27T10:00:00Z",
    tuning_job_id: fixtureSweepId,
    trial_id: best?.trial_id ?? null,
    sweep_config_path: "training/sweep.yaml",
    ...fixture.manifest,
  };
  const summary = {
    run_version: runVersion,
    eval_set: "training/evalsets/eval_v1.jsonl",
    metrics: { answer_correctness: score },
    primary_score: score,
    evaluated_at: "2025-12-27T10:00:00Z",
    ...fixture.summary,
  };
  const bestParams = {
    source: "tunix-rt sweep",
    tuning_job_id: fixtureSweepId,
    trial_id: best?.trial_id ?? null,
    best_run_id: best ? `${fixtureSweepId}-${best.trial_id}` : null,
    params: best?.params ?? {},
    primary_score: score,
    sweep_config: { metric_name: "answer_correctness", metric_mode: mode, num_samples: trials.length },
    ...fixture.best,
  };
  return {
    manifest: manifest as Record<string, unknown>,
    summary: summary as Record<string, unknown>,
    bestParams: bestParams as Record<string, unknown>,
    rows,
    trials,
    best,
  };
}

/** Which files to leave out or replace with other text. */
export interface FolderOptions {
  omit?: EvidenceFileName[];
  replace?: Partial<Record<EvidenceFileName, string>>;
  /** Repository files (the promoted config, the evalset) not to write. */
  omitRepo?: RepoFileRole[];
  /** Other text for repository files. */
  replaceRepo?: Partial<Record<RepoFileRole, string>>;
}

/**
 * Writes a fixture as `<parent>/<runVersion>/` and returns the folder. `omit` leaves files
 * out; `replace` writes other text in their place. The repository files the evidence names
 * (`repoTexts`) are written at the repository root as verify finds it outside git: the
 * folder holding `submission_runs/` when `parent` is one, else `parent` (a test then runs
 * verify there).
 */
export async function writeEvidenceFolder(
  parent: string,
  fixture: EvidenceFixture = {},
  { omit = [], replace = {}, omitRepo = [], replaceRepo = {} }: FolderOptions = {},
): Promise<string> {
  const dir = path.join(parent, fixture.runVersion ?? "rt_test_v1");
  await mkdir(dir, { recursive: true });
  const texts = { ...evidenceTexts(fixture), ...replace };
  for (const [name, text] of Object.entries(texts)) {
    if (!omit.includes(name as EvidenceFileName)) await writeFile(path.join(dir, name), text);
  }
  const root = path.basename(parent) === "submission_runs" ? path.dirname(parent) : parent;
  for (const [role, file] of Object.entries(repoTexts(fixture)) as [
    RepoFileRole,
    { path: string; text: string },
  ][]) {
    if (omitRepo.includes(role) || path.isAbsolute(file.path) || file.path.split("/").includes(".."))
      continue;
    const target = path.join(root, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, replaceRepo[role] ?? file.text);
  }
  return dir;
}
