import path from "node:path";
import { ExitCode, InputError } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import { promotedConfigPath } from "../../core/evidence/aggregate.js";
import { resolveSampler } from "../../core/search/samplers/index.js";
import type { PlannedTrial } from "../../core/types.js";
import { aggregate } from "../../runtime/aggregate.js";
import { loadConfig } from "../../runtime/config-file.js";
import { readTextFile } from "../../runtime/files.js";
import { acquireLock, runLockFile } from "../../runtime/lock.js";
import { collectProvenance } from "../../runtime/provenance.js";
import { writeReportHtml } from "../../runtime/report.js";
import { toolkitVersion } from "../../runtime/version.js";
import { type CliContext, type Command, fromCwd, parseFlags, required } from "../command.js";

const help = `Usage: tunix-rt aggregate --config F --trials DIR [--run-dir D] [--best-config F] [--plan P] [--sweep-id ID]

Reads every trial.json under DIR (any layout: trial folders, downloaded artifacts), builds
the leaderboard, picks the best trial (completed, highest primary_score, the highest budget first;
ties go to the earlier trial id; failed trials never win), and writes the evidence folder:
run_manifest.json, eval_summary.json, best_params.json, kaggle_output_log.txt (the best
trial's log, redacted), eval_rows.jsonl, trials.jsonl, and leaderboard.md beside them; then
promotes the best params into the promoted config with a provenance block.

  --config F        the sweep config
  --trials DIR      folder holding the trial records
  --run-dir D       evidence folder (default submission_runs/<run_version>; its name must be
                    the run_version)
  --best-config F   promoted config (default training/configs/<run_version>_best.yaml)
  --plan P          the plan JSON (from tunix-rt plan): planned trials without a record
                    count as failed, and only records of its sweep count
  --sweep-id ID     only records of this sweep count (default: the plan's, else the sweep
                    most records belong to)

It holds the run_version's lock (runs/<run_version>.lock) while it writes, as a sweep does:
while a sweep of the run_version runs, aggregate waits for nothing and exits 4.

Prints the evidence folder. Exit: 0 written, 1 no completed trial with a score (nothing
written but DIR/leaderboard.md), 2 usage/input error, 3 max_failed_trials exceeded
(evidence written and marked), 4 another sweep or aggregate holds the run_version's lock.`;

/** `tunix-rt aggregate`: leaderboard, best trial, evidence, promoted config. */
export const command: Command = {
  help,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      values: ["config", "trials", "run-dir", "best-config", "plan", "sweep-id"],
    });
    const loaded = await loadConfig(required("config", values.config, "aggregate"), { cwd: ctx.cwd });
    const trialsDir = required("trials", values.trials, "aggregate");
    let planned: PlannedTrial[] | undefined;
    if (values.plan) {
      const text = await readTextFile(path.resolve(ctx.cwd, values.plan), "plan", values.plan);
      try {
        const plan = JSON.parse(text);
        if (!Array.isArray(plan?.trials)) throw new Error("no trials array");
        planned = plan.trials as PlannedTrial[];
      } catch (error) {
        throw new InputError(`${values.plan}: not a plan from tunix-rt plan: ${(error as Error).message}`);
      }
    }
    // A sweep of this run_version writes the same evidence and promoted config: one at a time.
    const lock = await acquireLock(
      runLockFile(ctx.root, loaded.config.run_version),
      `tunix-rt aggregate --config ${loaded.file}`,
    );
    try {
      return await aggregateRun(values, loaded, trialsDir, planned, ctx);
    } finally {
      await lock.release();
    }
  },
};

/** The aggregate itself, under the run_version's lock. */
async function aggregateRun(
  values: { "run-dir"?: string; "best-config"?: string; "sweep-id"?: string },
  loaded: Awaited<ReturnType<typeof loadConfig>>,
  trialsDir: string,
  planned: PlannedTrial[] | undefined,
  ctx: CliContext,
): Promise<number> {
  const provenance = await collectProvenance(loaded, {
    cwd: ctx.root,
    env: ctx.env,
    toolkit: toolkitVersion,
    sampler: resolveSampler(loaded.config.sampler),
    seed: loaded.config.seed,
  });
  const result = await aggregate({
    config: loaded.config,
    trialsDir: fromCwd(ctx, trialsDir),
    runDir:
      values["run-dir"] === undefined
        ? path.join("submission_runs", loaded.config.run_version)
        : fromCwd(ctx, values["run-dir"]),
    bestConfigFile:
      values["best-config"] === undefined
        ? promotedConfigPath(loaded.config.run_version)
        : fromCwd(ctx, values["best-config"]),
    cwd: ctx.root,
    provenance,
    planned,
    sweepId: values["sweep-id"],
    env: ctx.env,
  });
  for (const n of result.notices)
    ctx.stderr(`tunix-rt aggregate: note: ${lineText(`${n.file}: ${n.message}`)}\n`);
  const { counts, best } = result;
  ctx.stderr(
    `${counts.total} trials: ${counts.completed} completed, ${counts.failed} failed, ${counts.timeout} timed out; best ${best ? `${best.trial_id} primary_score=${best.primary_score}` : "none"}\n`,
  );
  if (!result.runDir) {
    ctx.stderr(
      `tunix-rt aggregate: no completed trial with a score; evidence not written (leaderboard: ${path.relative(ctx.cwd, result.leaderboardFile)})\n`,
    );
    return ExitCode.no;
  }
  ctx.stdout(`${path.relative(ctx.cwd, result.runDir) || "."}\n`);
  const report = await writeReportHtml(
    path.join(ctx.root, "runs", result.report.runVersion, "report.html"),
    result.report,
  );
  ctx.stderr(`tunix-rt aggregate: report: ${path.relative(ctx.cwd, report)}\n`);
  if (counts.failure_budget_exceeded) {
    ctx.stderr(
      `tunix-rt aggregate: ${counts.failures} trials failed, over max_failed_trials ${counts.max_failed_trials}; evidence written and marked\n`,
    );
    return ExitCode.failureBudget;
  }
  return ExitCode.ok;
}
