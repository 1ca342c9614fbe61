import os from "node:os";
import path from "node:path";
import { ExitCode, formatProblem, UsageError } from "../../core/errors.js";
import { loadConfig } from "../../runtime/config-file.js";
import { verifyEvidenceFolder } from "../../runtime/evidence-read.js";
import { packageRunDir } from "../../runtime/package.js";
import { preflight } from "../../runtime/preflight.js";
import { runSweep } from "../../runtime/sweep.js";
import { toolkitVersion } from "../../runtime/version.js";
import { type Command, configFile, fromCwd, intFlag, parseFlags } from "../command.js";
import { createProgress } from "../progress.js";
import { formatPreflight } from "./validate.js";

const help = `Usage: tunix-rt sweep [--config F] [--parallel N] [--gpus LIST] [--fresh | --resume] [--dry-run] [--best-config F]

Runs the whole loop on this machine: plan -> trials (a pool of workers) -> grading ->
leaderboard -> evidence (submission_runs/<run_version>/) -> verify -> submission zip.
Trials and their logs live in runs/<run_version>/trials/<trial_id>/.
With \`waves\` in the config the trials run wave after wave, each wave planned from every
record so far; with \`fidelity\`, as successive halving (rung 0 at min_budget, then the best
1/eta of each rung at eta times the budget, resuming from the parent trial's folder).

  --config F      sweep config (default: training/sweep.yaml at the repository root; in
                  tunix-rt's own checkout, which has none, the example trainer's
                  training/example/sweep.yaml)
  --parallel N    trials at once (default: the number of CPUs, or of --gpus)
  --gpus LIST     devices, e.g. 0,1,2,3: worker i gets CUDA_VISIBLE_DEVICES=<i-th device>
  --resume        finish an earlier sweep of this run_version: only trials without a
                  completed record run, then planning goes on (a plain re-run does the same)
  --fresh         start over; the earlier sweep's folder is kept aside as runs/<rv>.old-<time>
  --dry-run       check config, trainer and evalset, print the first trial; run nothing
  --max-size N    size gate of the zip in bytes (default 102400)
  --best-config F where the promoted config goes (default
                  training/configs/<run_version>_best.yaml: one per run_version)

Ctrl-C stops the running trainers (their process groups), keeps every finished record and
exits 130; run the same command again to resume.
Exit: 0 done, 1 no trial completed (or the evidence did not verify), 2 usage/input error,
3 max_failed_trials exceeded (evidence written and marked), 4 another sweep holds the
run_version's lock, 130 interrupted.`;

/** `tunix-rt sweep`: the whole loop, locally. */
export const sweepCommand: Command = {
  name: "sweep",
  summary: "run the whole loop locally: trials, evidence, verify, zip",
  help,
  handlesSignals: true,
  async run(args, ctx) {
    const { values } = parseFlags("sweep", args, {
      config: { type: "string" },
      parallel: { type: "string" },
      gpus: { type: "string" },
      fresh: { type: "boolean" },
      resume: { type: "boolean" },
      "dry-run": { type: "boolean" },
      "max-size": { type: "string" },
      "best-config": { type: "string" },
    });
    if (values.fresh && values.resume)
      throw new UsageError("--fresh and --resume contradict each other; choose one");
    const gpus = values.gpus === undefined ? undefined : values.gpus.split(",").map((g) => g.trim());
    if (gpus?.some((g) => !/^[A-Za-z0-9-]+$/.test(g))) {
      throw new UsageError(
        `--gpus: got ${JSON.stringify(values.gpus)}; expected device ids separated by commas, like 0,1,2`,
      );
    }
    const parallel =
      intFlag("parallel", values.parallel, { min: 1, max: 1024 }) ??
      gpus?.length ??
      os.availableParallelism();
    if (gpus && parallel > gpus.length) {
      throw new UsageError(
        `--parallel: got ${parallel} with ${gpus.length} GPUs; each worker needs its own device`,
      );
    }
    const maxSize = intFlag("max-size", values["max-size"], { min: 1 });
    const { file, cwd } = await configFile(values.config, ctx);
    const loaded = await loadConfig(file, { cwd, needs: { trainer: true } });
    for (const note of loaded.notes) ctx.stderr(`tunix-rt sweep: note: ${note}\n`);

    const report = await preflight(loaded, { cwd: ctx.root, env: ctx.env });
    if (report.problems.length) {
      for (const p of report.problems) ctx.stderr(`tunix-rt sweep: ${formatProblem(p)}\n`);
      return ExitCode.input;
    }
    if (values["dry-run"]) {
      ctx.stdout(formatPreflight(report, file));
      return ExitCode.ok;
    }

    const progress = createProgress({ write: ctx.stderr, tty: ctx.isTTY });
    let outcome: Awaited<ReturnType<typeof runSweep>>;
    try {
      outcome = await runSweep({
        loaded,
        cwd: ctx.root,
        env: ctx.env,
        parallel,
        gpus,
        fresh: values.fresh,
        ...(values["best-config"] === undefined
          ? {}
          : { bestConfigFile: fromCwd(ctx, values["best-config"]) }),
        signal: ctx.signal,
        progress,
        toolkit: toolkitVersion,
      });
    } finally {
      progress.stop();
    }
    const rel = (p: string) => path.relative(ctx.cwd, p) || ".";
    if (outcome.interrupted) {
      ctx.stderr(
        `tunix-rt sweep: interrupted; finished records are kept in ${rel(outcome.sweepDir)}; run the same command to resume\n`,
      );
      return ExitCode.interrupted;
    }
    const agg = outcome.aggregated;
    if (outcome.skipped)
      ctx.stderr(`tunix-rt sweep: failure budget spent: ${outcome.skipped} trials were not started\n`);
    if (!agg?.runDir || !agg.best) {
      ctx.stderr(
        `tunix-rt sweep: no trial completed with a score; see ${agg ? rel(agg.leaderboardFile) : rel(outcome.sweepDir)}\n`,
      );
      return ExitCode.no;
    }
    ctx.stdout(agg.leaderboardMd);
    // Read from the absolute folder (the command's cwd need not be the process's), shown
    // relative; package below is told not to verify the same files again.
    const verified = await verifyEvidenceFolder(agg.runDir, { shownAs: rel(agg.runDir) });
    if (verified.problems.length) {
      for (const p of verified.problems) ctx.stderr(`${formatProblem(p)}\n`);
      ctx.stderr(`tunix-rt sweep: the evidence in ${rel(agg.runDir)} did not verify\n`);
      return ExitCode.no;
    }
    const zip = await packageRunDir({
      runDir: agg.runDir,
      cwd: ctx.root,
      env: ctx.env,
      maxSize,
      verify: false,
    });
    ctx.stdout(
      `\nevidence: ${rel(agg.runDir)} (verified)\npromoted config: ${rel(agg.bestConfigFile ?? "")}\nzip: ${rel(zip)}\n`,
    );
    return outcome.exitCode;
  },
};
