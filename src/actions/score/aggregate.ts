/**
 * `mode: aggregate`: the sweep's last job. What `tunix-rt aggregate` does, with the trials
 * coming from this run's artifacts, then verify (as `tunix-rt verify`), the evidence pull
 * request, and verify's verdict reported as a check run on the pull request's head: a pull
 * request opened with GITHUB_TOKEN starts no workflow, so the evidence check would not run on it.
 *
 * With `attest`, the evidence is signed before the pull request: the aggregate writes the
 * SHA-256 of every file it will commit (output `subjects`, the checksums file that
 * actions/attest-build-provenance signs) and a hand-off for `mode: publish`, which puts the
 * bundle beside the evidence, checks that it covers every file, and opens the pull request.
 */

import path from "node:path";
import * as core from "@actions/core";
import type { SweepConfig } from "../../core/config/config.js";
import { formatProblem, InputError, messageOf, type Problem, quote } from "../../core/errors.js";
import { promotedConfigPath } from "../../core/evidence/aggregate.js";
import { evidenceBranch } from "../../core/evidence/changes.js";
import { secretValuesOf } from "../../core/redact.js";
import { chartsMarkdown } from "../../core/report/report.js";
import { resolveSampler } from "../../core/search/samplers/index.js";
import type { PlannedTrial } from "../../core/types.js";
import {
  downloadSweepArtifacts,
  runnerArtifactClient,
  uploadFolderArtifact,
} from "../../github/artifacts.js";
import { aggregateSummary, verifySummary } from "../../github/summary.js";
import { type AggregateResult, aggregate } from "../../runtime/aggregate.js";
import { loadConfig } from "../../runtime/config-file.js";
import { verifyEvidenceFolder } from "../../runtime/evidence-read.js";
import { collectProvenance } from "../../runtime/provenance.js";
import { writeReportHtml } from "../../runtime/report.js";
import { toolkitVersion } from "../../runtime/version.js";
import { type RunContext, repoPath } from "../shared/context.js";
import { parsePlannedList, withRunVersion } from "../shared/plan-inputs.js";
import { annotateProblems, type StepOutcome, writeSummary } from "../shared/step.js";
import type { AggregateSettings } from "./inputs.js";
import { type Handoff, type PublishedEvidence, publish, writeHandoff } from "./publish.js";

/** Aggregates the sweep's trials into evidence, verifies it, and publishes it as a pull request. */
export async function aggregateStep(settings: AggregateSettings, context: RunContext): Promise<StepOutcome> {
  const cwd = context.workspace;
  const loaded = await loadConfig(settings.config, { cwd });
  const config = withRunVersion(loaded.config, settings.runVersion);
  const planned = plannedOfSweep(settings.matrix, config, settings.sweepId);
  const trialsDir = path.resolve(cwd, settings.trialsDir ?? path.join("runs", settings.sweepId));
  if (settings.download) {
    // The runner's artifact service, through the runtime token: this run's artifacts only.
    await downloadSweepArtifacts(await runnerArtifactClient(context.serverUrl), {
      sweepId: settings.sweepId,
      dest: trialsDir,
    });
  }

  const provenance = await collectProvenance(loaded, {
    cwd,
    env: context.env,
    toolkit: toolkitVersion,
    sampler:
      settings.sampler === undefined ? resolveSampler(config.sampler) : resolveSampler(settings.sampler),
    seed: settings.seed ?? config.seed,
  });
  const result = await aggregate({
    config,
    trialsDir,
    runDir: settings.runDir ?? path.join("submission_runs", config.run_version),
    bestConfigFile: settings.bestConfig ?? promotedConfigPath(config.run_version),
    cwd,
    provenance,
    planned,
    sweepId: settings.sweepId,
    env: context.env,
    // On GitHub a trial's run is its artifact: the first folder under the trials folder.
    runIdOf: (found) => path.relative(trialsDir, found.dir).split(path.sep)[0] || found.record.trial_id,
  });
  for (const notice of result.notices) core.warning(`${notice.file}: ${notice.message}`);

  const secrets = secretValuesOf(context.env);
  // report.html as the run's artifact; the charts themselves travel with the evidence.
  const reportUrl = result.best ? await uploadReport(result, settings.sweepId, context) : undefined;
  const charts = chartsMarkdown(result.report, {
    ...(reportUrl ? { report: reportUrl } : {}),
    ...(settings.createPr && result.runDir ? { charts: chartLinks(context, result) } : {}),
  });
  const summaryOf = (pr?: PublishedEvidence) =>
    aggregateSummary({
      leaderboardMd: result.leaderboardMd,
      counts: result.counts,
      best: result.best,
      secrets,
      charts,
      ...(context.runUrl ? { runUrl: context.runUrl } : {}),
      ...(pr ? { pr: { ...pr, report: pr.report && { ...pr.report, name: settings.checkName } } } : {}),
    });
  if (!result.runDir || !result.best) {
    await writeSummary(summaryOf());
    return {
      outputs: countsOutputs(result),
      failure: `no trial of sweep ${settings.sweepId} completed with a score; no evidence was written (${result.counts.total} trials: ${result.counts.failed} failed, ${result.counts.timeout} timed out)`,
    };
  }

  const runDir = repoPath(context, result.runDir);
  const { problems } = await verifyEvidenceFolder(result.runDir, {
    profile: settings.profile,
    shownAs: runDir,
  });
  const valid = problems.length === 0;
  const handoff: Handoff = {
    runDir: result.runDir,
    bestConfigFile: result.bestConfigFile,
    runVersion: path.basename(result.runDir),
    sweepId: result.sweepId ?? null,
    best: { trial_id: result.best.trial_id, primary_score: result.best.primary_score },
    leaderboardMd: result.leaderboardMd,
    charts,
  };
  const subjects = settings.attest ? await writeHandoff(context, handoff) : undefined;
  const published =
    settings.createPr && !settings.attest
      ? await publish(settings, context, handoff, { runDir, valid, problems, secrets, attested: false })
      : undefined;
  annotateProblems(problems, { repoRoot: cwd, secrets });
  await writeSummary(`${summaryOf(published)}\n${verifySummary(problems, { dir: runDir, valid, secrets })}`);

  const outputs = {
    ...countsOutputs(result),
    "best-trial": result.best.trial_id,
    "primary-score": result.best.primary_score === null ? "" : String(result.best.primary_score),
    "run-dir": runDir,
    valid: String(valid),
    "pr-number": published?.number == null ? "" : String(published.number),
    "pr-url": published?.url ?? "",
    "pr-operation": published?.operation ?? "",
    "check-url": published?.report?.url ?? "",
    subjects: subjects ?? "",
  };
  if (!valid) {
    return {
      outputs,
      failure: `the evidence in ${runDir} does not verify: ${problems.length} problem${problems.length === 1 ? "" : "s"}, first: ${formatProblem(problems[0] as Problem)}`,
    };
  }
  if (result.counts.failure_budget_exceeded) {
    return {
      outputs,
      failure: `${result.counts.failures} trials failed, over max_failed_trials ${result.counts.max_failed_trials}; the evidence was written and says so`,
    };
  }
  return { outputs };
}

/**
 * Writes report.html and uploads it as the run's artifact `tunix-rt-report-<sweep_id>`;
 * returns its web URL. A failed upload is a warning: the charts are in the evidence anyway.
 */
async function uploadReport(
  result: AggregateResult,
  sweepId: string,
  context: RunContext,
): Promise<string | undefined> {
  const dir = path.resolve(context.workspace, "runs", sweepId, "report");
  await writeReportHtml(path.join(dir, "report.html"), result.report);
  try {
    const { id } = await uploadFolderArtifact(await runnerArtifactClient(context.serverUrl), {
      name: `tunix-rt-report-${sweepId}`,
      dir,
      files: ["report.html"],
    });
    return context.runUrl && id ? `${context.runUrl}/artifacts/${id}` : undefined;
  } catch (error) {
    core.warning(`report.html could not be uploaded as an artifact: ${messageOf(error)}`);
    return undefined;
  }
}

/** The charts' web URLs on the evidence branch (where the pull request's commit puts them). */
function chartLinks(context: RunContext, result: AggregateResult): Array<{ file: string; url: string }> {
  const repoUrl = context.runUrl?.replace(/\/actions\/runs\/\d+$/, "");
  if (!repoUrl || !result.runDir) return [];
  const branch = evidenceBranch(result.report.runVersion);
  return result.charts.map((file) => ({
    file: path.basename(file),
    url: `${repoUrl}/blob/${branch}/${repoPath(context, file)}`,
  }));
}

/** The trial counts as outputs. */
function countsOutputs(result: AggregateResult): Record<string, string> {
  return {
    trials: String(result.counts.total),
    completed: String(result.counts.completed),
    failed: String(result.counts.failures),
  };
}

/** The planned trials of the plan's matrix input, each checked as a trial step checks it, all of this sweep. */
function plannedOfSweep(matrix: unknown, config: SweepConfig, sweepId: string): PlannedTrial[] | undefined {
  if (matrix === undefined) return undefined;
  const trials = parsePlannedList(matrix, config, { input: "matrix", expected: "the plan's matrix output" });
  trials.forEach((trial, index) => {
    if (trial.sweep_id !== sweepId) {
      throw new InputError(
        `with.matrix.include[${index}].sweep_id: got ${quote(trial.sweep_id)}; expected the sweep-id input ${quote(sweepId)}`,
      );
    }
  });
  return trials;
}
