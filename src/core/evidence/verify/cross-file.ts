/**
 * The rules that read several evidence files and belong to none: the model and dataset the
 * manifest names are the sweep config's; the best trial's command and times are its record's;
 * primary_score recomputed from eval_rows.jsonl; the manifest's provenance (its shape, the
 * sweep config's hash, the trial counts); the sweep id of the manifest and best_params.json.
 * The best trial itself is best-trial.ts's, the code source.ts's.
 */
import { quote } from "../../errors.js";
import { shellQuote } from "../aggregate.js";
import type { EvidenceFileName, RunManifest } from "../schemas.js";
import { sameScore, type VerifyContext } from "./context.js";

/**
 * The model and dataset the manifest names are the sweep config's (best_params.json
 * sweep_config): a manifest that claims a Gemma model for a sweep of another one would
 * otherwise pass the kaggle profile.
 */
export function checkModel(ctx: VerifyContext): void {
  const manifest = ctx.manifest;
  const config = ctx.best?.sweep_config as Record<string, unknown> | undefined;
  if (!manifest || !config) return;
  const pairs: Array<[keyof RunManifest & string, string]> = [
    ["model_id", "base_model_id"],
    ["dataset", "dataset_key"],
  ];
  for (const [field, key] of pairs) {
    const want = config[key];
    if ((typeof want === "string" || want === null) && manifest[field] !== want)
      ctx.add({
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
export function checkBestRecord(ctx: VerifyContext): void {
  const manifest = ctx.manifest;
  if (!manifest || ctx.unusable.has("trials.jsonl")) return;
  const record = ctx.trials.find((t) => t.trial_id === manifest.trial_id);
  if (!record) return;
  const at = `trials.jsonl line ${record.line} (${record.trial_id})`;
  const argv = record.command;
  if (Array.isArray(argv) && argv.every((a) => typeof a === "string")) {
    const want = shellQuote(argv as string[]);
    if (manifest.command !== want)
      ctx.add({
        file: "run_manifest.json",
        path: "command",
        message: `got ${quote(manifest.command)}; ${at} ran ${quote(want)}`,
      });
  }
  const finished = typeof record.finished_at === "string" ? Date.parse(record.finished_at) : Number.NaN;
  if (Number.isNaN(finished)) return;
  const summary = ctx.summary;
  if (summary && Date.parse(summary.evaluated_at) !== finished)
    ctx.add({
      file: "eval_summary.json",
      path: "evaluated_at",
      message: `got ${quote(summary.evaluated_at)}; ${at} finished at ${quote(record.finished_at)}`,
    });
  if (Date.parse(manifest.timestamp) < finished)
    ctx.add({
      file: "run_manifest.json",
      path: "timestamp",
      message: `got ${quote(manifest.timestamp)}; ${at} finished later, at ${quote(record.finished_at)}, and the evidence is written after its trials`,
    });
}

/** primary_score, recomputed from eval_rows.jsonl, must be the one eval_summary.json and best_params.json state. */
export function checkScores(ctx: VerifyContext): void {
  if (ctx.unusable.has("eval_rows.jsonl")) return;
  const { primary_score: recomputed, rows, counted } = ctx.score.result;
  if (recomputed === null) {
    ctx.add({
      file: "eval_rows.jsonl",
      path: "",
      message: `none of its ${rows} rows has a metrics.answer_correctness or score in 0..1; primary_score cannot be recomputed`,
    });
    return;
  }
  const source = `the primary_score recomputed from eval_rows.jsonl (${counted} of ${rows} rows counted)`;
  const check = (file: EvidenceFileName, path: string, value: number | null | undefined) => {
    if (typeof value === "number" && !sameScore(value, recomputed)) {
      ctx.add({ file, path, message: `got ${value}; expected ${recomputed}, ${source}` });
    }
  };
  check("eval_summary.json", "primary_score", ctx.summary?.primary_score);
  check("eval_summary.json", "metrics.answer_correctness", ctx.summary?.metrics.answer_correctness);
  check("best_params.json", "primary_score", ctx.best?.primary_score);
}

/**
 * What the manifest records of its provenance and the files can confirm: the shape of the
 * commit, config hash, toolkit and run URL; the config's hash against the config itself
 * when the caller could read it; the trial counts against trials.jsonl.
 */
export function checkProvenance(ctx: VerifyContext): void {
  const manifest = ctx.manifest as (RunManifest & Record<string, unknown>) | undefined;
  if (!manifest) return;
  const file = "run_manifest.json";
  const shape = (key: string, pattern: RegExp, expected: string) => {
    const value = manifest[key];
    if (value !== undefined && value !== null && (typeof value !== "string" || !pattern.test(value))) {
      ctx.add({ file, path: key, message: `got ${quote(value)}; expected ${expected}` });
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
    ctx.add({ file, path: "seed", message: `got ${quote(manifest.seed)}; expected a whole number >= 0` });
  }
  const configPath = manifest.sweep_config_path;
  const recorded = manifest.sweep_config_sha256;
  const hashes = { ...ctx.options.fileHashes, ...Object.fromEntries(ctx.hashes) };
  const trusted = ctx.trusted;
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
    ctx.add({
      file,
      path: "sweep_config_sha256",
      message: `got ${recorded}; ${configPath}${trusted ? ` in ${trusted.shownAs}` : ""} hashes to ${actual} (the config changed since the sweep ran)`,
    });
  }
  const counts = manifest.trials as Record<string, unknown> | undefined;
  if (counts && typeof counts === "object" && !ctx.unusable.has("trials.jsonl")) {
    const count = (status?: string) =>
      ctx.trials.filter((t) => status === undefined || t.status === status).length;
    const check = (key: string, actualCount: number) => {
      const value = counts[key];
      if (typeof value === "number" && value !== actualCount) {
        ctx.add({
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

/** run_manifest.json and best_params.json name the same sweep. */
export function checkTuningJobId(ctx: VerifyContext): void {
  const manifest = ctx.manifest;
  const best = ctx.best;
  if (manifest?.tuning_job_id && best?.tuning_job_id && manifest.tuning_job_id !== best.tuning_job_id) {
    ctx.add({
      file: "run_manifest.json",
      path: "tuning_job_id",
      message: `got ${quote(manifest.tuning_job_id)}; best_params.json has ${quote(best.tuning_job_id)}`,
    });
  }
}
