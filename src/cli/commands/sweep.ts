import os from "node:os";
import path from "node:path";
import { samplerNames } from "../../core/config/sampler-names.js";
import { ExitCode, formatProblem, UsageError } from "../../core/errors.js";
import { lineText } from "../../core/escape.js";
import { loadConfig } from "../../runtime/config-file.js";
import { verifyEvidenceFolder } from "../../runtime/evidence-read.js";
import { writeJsonAtomic } from "../../runtime/files.js";
import { worktreeState } from "../../runtime/git.js";
import { checkGpuIds, gpuListProblem } from "../../runtime/gpus.js";
import { readLastMetrics } from "../../runtime/metrics-tail.js";
import { packageRunDir } from "../../runtime/package.js";
import { preflight } from "../../runtime/preflight.js";
import { Profile, timed } from "../../runtime/profile.js";
import { pruneIntervalFrom } from "../../runtime/pruner.js";
import { writeReportHtml } from "../../runtime/report.js";
import { runSweep } from "../../runtime/sweep.js";
import { toolkitVersion } from "../../runtime/version.js";
import { type Command, configFile, fromCwd, intFlag, parseFlags, samplerFlag } from "../command.js";
import { createProgress } from "../progress.js";
import { formatPreflight } from "./validate.js";

const help = `Usage: tunix-rt sweep [--config F] [--parallel N] [--gpus LIST] [--fresh | --resume] [--dry-run]
                     [--seed N] [--sampler S] [--num-samples N] [--best-config F] [--clean-old]
                     [--follow]

Runs the whole loop on this machine: plan -> trials (a pool of workers) -> grading ->
leaderboard -> evidence (submission_runs/<run_version>/) -> verify -> submission zip.
Trials and their logs live in runs/<run_version>/trials/<trial_id>/.
Each time a worker frees up, the sampler proposes the next trial from every result so far
(the running trials count as running, so it neither repeats nor crowds them): the default
sampler, a Gaussian process, learns from the first scores on. With \`waves\` in the config
the trials run wave after wave instead, each wave planned from every record so far; with
\`fidelity\`, as successive halving (rung 0 at min_budget, then the best 1/eta of each rung
at eta times the budget, resuming from the parent trial's folder).

  --config F        sweep config (default: training/sweep.yaml at the repository root; in
                    tunix-rt's own checkout, which has none, the example trainer's
                    training/example/sweep.yaml)
  --parallel N      trials at once (default: max_concurrent_trials, at most the number of
                    CPUs, or of --gpus)
  --gpus LIST       devices, e.g. 0,1,2,3: worker i gets CUDA_VISIBLE_DEVICES=<i-th device>;
                    indices or GPU-/MIG- UUIDs, each once (0,0 would put two workers on
                    one device and is refused); checked against nvidia-smi -L when it is
                    installed, and a note says so when it is not; each started line
                    names its worker and device
  --seed N          the sweep seed (default: the config's seed)
  --sampler S       ${samplerNames.join(" | ")} (default: the config's sampler)
  --num-samples N   trials in all (default: the config's num_samples); raising it on a
                    finished sweep runs more trials of the same sweep
  --resume          finish an earlier sweep of this run_version: only trials without a
                    completed record run, then planning goes on (a plain re-run does the same)
  --fresh           start over; the earlier sweep's folder is kept aside as runs/<rv>.old-<time>,
                    and with it the run_version's zips in submission/, so an old zip is
                    never left beside the new one
  --clean-old       remove the runs/<rv>.old-* folders earlier --fresh starts kept aside
  --dry-run         check config, trainer, the files its argv names and the evalset; list
                    the trials planned before any result; run nothing
  --max-size N      size gate of the zip in bytes (default 102400)
  --best-config F   where the promoted config goes (default
                    training/configs/<run_version>_best.yaml: one per run_version)
  --follow          stream the running trials' output to stderr as it comes, each line
                    prefixed with its trial id ([t0003] ...) and redacted as output.log is

Its first lines say when the working tree has uncommitted changes (how many paths, the
first three), before any trial records them. A sweep whose first trials all fail stops
early: with max_failed_trials null, when the first early_stop_failures (default 3)
finished trials all failed and none completed, no trial starts after that (exit 3).

Progress goes to stderr: a line as each trial starts and finishes, and the status: trials
done / running / left, the best so far, the ETA, and each running trial's time and its
trainer's last metrics. On a terminal the status is one line redrawn in place; in a log
(CI, 2>&1 | tee) it is a heartbeat line every 60 s while trials run
(TUNIX_RT_HEARTBEAT_S=<seconds> sets the interval), e.g.
  [3/8 done, 2 running, 3 left] best 0.8417 (t0006), ETA 12m: t0004 running 4m12s,
  step 800 loss=0.31; t0005 running 1m05s
ETA, once a trial has finished: the trials left are dealt to the workers as they free up,
each taking the median duration of the finished trials (a resumed sweep's records count),
a running trial the median less its time so far. Metrics: a trainer that appends JSON lines
to metrics.jsonl in its output folder has its last complete line shown: step, then loss and
the first eval_* field (a line with neither: its first two numeric fields besides step,
epoch, lr and learning_rate).

A re-run resumes and may extend the sweep (a higher num_samples, more waves, a new comment
or max_failed_trials); a change to what its trials mean (the search space, the trainer, the
evalset, the seed, the sampler, the model, the dataset, fidelity or pruning) asks for --fresh.
Output to a closed pipe (| head) is dropped and the sweep runs to its end.
Ctrl-C stops the running trainers (their process groups), keeps every finished record and
exits 130; run the same command again to resume.
Exit: 0 done, 1 no trial completed (or the evidence did not verify), 2 usage/input error,
3 max_failed_trials exceeded (evidence written and marked), 4 another sweep holds the
run_version's lock, 130 interrupted.`;

/**
 * The heartbeat interval of a sweep's progress in a log (ms): TUNIX_RT_HEARTBEAT_S seconds,
 * default 60. An environment variable rather than a flag: CI sets it once, tests set it small.
 */
function heartbeatOf(env: NodeJS.ProcessEnv): number {
  const given = env.TUNIX_RT_HEARTBEAT_S;
  if (given === undefined || given === "") return 60_000;
  const seconds = Number(given);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400)
    throw new UsageError(
      `TUNIX_RT_HEARTBEAT_S: got ${JSON.stringify(given)}; expected seconds between heartbeat lines, more than 0 and at most 86400, like 60 or 0.5`,
    );
  return seconds * 1000;
}

/** `tunix-rt sweep`: the whole loop, locally. */
export const command: Command = {
  help,
  handlesSignals: true,
  async run(args, ctx) {
    const { values } = parseFlags(args, {
      values: ["config", "parallel", "gpus", "seed", "sampler", "num-samples", "max-size", "best-config"],
      switches: ["fresh", "resume", "clean-old", "dry-run", "follow"],
    });
    if (values.fresh && values.resume)
      throw new UsageError("--fresh and --resume contradict each other; choose one");
    const gpuProblem = values.gpus === undefined ? undefined : gpuListProblem(values.gpus);
    if (gpuProblem) throw new UsageError(gpuProblem);
    const gpus = values.gpus === undefined ? undefined : values.gpus.split(",").map((g) => g.trim());
    const parallelFlag = intFlag("parallel", values.parallel, { min: 1, max: 1024 });
    if (gpus && parallelFlag !== undefined && parallelFlag > gpus.length) {
      throw new UsageError(
        `--parallel: got ${parallelFlag} with ${gpus.length} GPUs; each worker needs its own device`,
      );
    }
    const overrides = {
      seed: intFlag("seed", values.seed, { min: 0, max: 0xffffffff }),
      sampler: samplerFlag(values.sampler),
      numSamples: intFlag("num-samples", values["num-samples"], { min: 1 }),
    };
    const maxSize = intFlag("max-size", values["max-size"], { min: 1 });
    const heartbeatMs = heartbeatOf(ctx.env);
    const { file, cwd } = await configFile(values.config, ctx);
    const loaded = await loadConfig(file, { cwd, needs: { trainer: true } });
    for (const note of loaded.notes) ctx.stderr(`tunix-rt sweep: note: ${lineText(note)}\n`);
    // The config's max_concurrent_trials, within what this machine offers.
    const parallel =
      parallelFlag ??
      Math.max(1, Math.min(loaded.config.max_concurrent_trials, gpus?.length ?? os.availableParallelism()));
    if (gpus) {
      const checked = await checkGpuIds(gpus, ctx.env);
      if (checked.problem) throw new UsageError(checked.problem);
      if (checked.note) ctx.stderr(`tunix-rt sweep: note: ${checked.note}\n`);
    }
    // Said first, not at verify: a sweep from uncommitted changes is not reproduced by its commit.
    const tree = await worktreeState(ctx.root);
    if (tree?.dirty) {
      const more = tree.changed > 3 ? ` and ${tree.changed - 3} more` : "";
      ctx.stderr(
        `tunix-rt sweep: note: the working tree has uncommitted changes (${tree.changed} path${tree.changed === 1 ? "" : "s"}: ${lineText(tree.files.slice(0, 3).join(", "))}${more}): each trial records them, and verify warns that commit_sha alone does not reproduce the run; commit them first for a submission\n`,
      );
    }

    const report = await preflight(loaded, { cwd: ctx.root, env: ctx.env, overrides, parallel });
    if (report.problems.length) {
      for (const p of report.problems) ctx.stderr(`tunix-rt sweep: ${formatProblem(p)}\n`);
      return ExitCode.input;
    }
    for (const note of report.notes) ctx.stderr(`tunix-rt sweep: note: ${lineText(note)}\n`);
    if (values["dry-run"]) {
      ctx.stdout(formatPreflight(report, file));
      return ExitCode.ok;
    }

    const progress = createProgress({
      write: ctx.stderr,
      tty: ctx.stderrIsTTY ?? ctx.isTTY,
      heartbeatMs,
      readMetrics: readLastMetrics,
      ...(ctx.columns ? { columns: ctx.columns } : {}),
    });
    // TUNIX_RT_PROFILE=<file>: where the time went, per phase (npm run bench:overhead).
    const profile = ctx.env.TUNIX_RT_PROFILE ? new Profile() : undefined;
    const began = performance.now();
    let outcome: Awaited<ReturnType<typeof runSweep>>;
    try {
      outcome = await runSweep({
        ...(profile ? { profile } : {}),
        loaded,
        cwd: ctx.root,
        env: ctx.env,
        parallel,
        gpus,
        overrides,
        fresh: values.fresh,
        cleanOld: values["clean-old"],
        ...(values["best-config"] === undefined
          ? {}
          : { bestConfigFile: fromCwd(ctx, values["best-config"]) }),
        signal: ctx.signal,
        progress,
        follow: values.follow,
        toolkit: toolkitVersion,
        // How often a running trial's metrics.jsonl is read for pruning (tests read it often).
        pruneIntervalMs: pruneIntervalFrom(ctx.env),
      });
    } finally {
      progress.stop();
    }
    const rel = (p: string) => path.relative(ctx.cwd, p) || ".";
    for (const dir of outcome.removed) ctx.stderr(`tunix-rt sweep: removed ${rel(dir)} (--clean-old)\n`);
    if (outcome.movedAside) {
      const more = outcome.keptAside.length > 1 ? `; ${outcome.keptAside.length} such folders now` : "";
      const zips = outcome.zipsAside.length
        ? `, with its zip${outcome.zipsAside.length === 1 ? "" : "s"} from submission/ (${outcome.zipsAside.map((z) => path.basename(z)).join(", ")})`
        : "";
      ctx.stderr(
        `tunix-rt sweep: the earlier sweep is kept aside in ${rel(outcome.movedAside)}${zips}${more} (--clean-old removes them)\n`,
      );
    }
    if (outcome.interrupted) {
      ctx.stderr(
        `tunix-rt sweep: interrupted; finished records are kept in ${rel(outcome.sweepDir)}; ${values.fresh ? "run it again without --fresh to resume (--fresh would start over)" : "run the same command to resume"}\n`,
      );
      return ExitCode.interrupted;
    }
    const agg = outcome.aggregated;
    if (outcome.stoppedEarly)
      ctx.stderr(
        `tunix-rt sweep: stopped early: ${outcome.stoppedEarly}, so ${outcome.notRun} trial${outcome.notRun === 1 ? " was" : "s were"} not run (a trainer that fails every trial would fail them too). Fix the trainer (tunix-rt validate; each trial's output.log), or set early_stop_failures: 0 in ${loaded.file} to run every trial whatever fails\n`,
      );
    else if (outcome.notRun)
      ctx.stderr(
        `tunix-rt sweep: failure budget spent (max_failed_trials ${loaded.config.max_failed_trials}): ${outcome.notRun} trial${outcome.notRun === 1 ? " was" : "s were"} not run\n`,
      );
    if (!agg?.runDir || !agg.best) {
      ctx.stderr(
        `tunix-rt sweep: no trial completed with a score; see ${agg ? rel(agg.leaderboardFile) : rel(outcome.sweepDir)}\n`,
      );
      return outcome.stoppedEarly ? ExitCode.failureBudget : ExitCode.no;
    }
    ctx.stdout(agg.leaderboardMd);
    // Read from the absolute folder (the command's cwd need not be the process's), shown
    // relative; package below is told not to verify the same files again.
    const verified = await timed(profile, "once: verify", () =>
      verifyEvidenceFolder(agg.runDir as string, { shownAs: rel(agg.runDir as string) }),
    );
    if (verified.problems.length) {
      for (const p of verified.problems) ctx.stderr(`${formatProblem(p)}\n`);
      ctx.stderr(`tunix-rt sweep: the evidence in ${rel(agg.runDir)} did not verify\n`);
      return ExitCode.no;
    }
    const zip = await timed(profile, "once: package", () =>
      packageRunDir({
        runDir: agg.runDir as string,
        cwd: ctx.root,
        env: ctx.env,
        maxSize,
        verify: false,
      }),
    );
    const reportFile = await timed(profile, "once: report.html", () =>
      writeReportHtml(path.join(outcome.sweepDir, "report.html"), agg.report),
    );
    if (profile && ctx.env.TUNIX_RT_PROFILE) {
      profile.add("total", performance.now() - began);
      await writeJsonAtomic(path.resolve(ctx.cwd, ctx.env.TUNIX_RT_PROFILE), profile.totals);
    }
    ctx.stdout(
      `\nevidence: ${rel(agg.runDir)} (verified)\npromoted config: ${rel(agg.bestConfigFile ?? "")}\nzip: ${rel(zip)}\nreport: ${rel(reportFile)}\n`,
    );
    return outcome.exitCode;
  },
};
