/**
 * `mode: aggregate`: the sweep's last job. What `tunix-rt aggregate` does, with the trials
 * coming from this run's artifacts, then verify (as `tunix-rt verify`), the evidence pull
 * request, and verify's verdict reported as a check run on the pull request's head: a pull
 * request opened with GITHUB_TOKEN starts no workflow, so the evidence check would not run on it.
 */

import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import * as core from "@actions/core";
import { promotedConfigPath } from "../../core/aggregate.js";
import type { SweepConfig } from "../../core/config.js";
import { formatProblem, InputError, messageOf, type Problem, quote } from "../../core/errors.js";
import { markdownCode } from "../../core/escape.js";
import { evidenceBranch } from "../../core/evidence/changes.js";
import { secretValuesOf } from "../../core/redact.js";
import { chartsMarkdown } from "../../core/report/report.js";
import { resolveSampler } from "../../core/samplers/index.js";
import type { PlannedTrial } from "../../core/types.js";
import {
  downloadSweepArtifacts,
  runnerArtifactClient,
  uploadFolderArtifact,
} from "../../github/artifacts.js";
import type { ReportCheckResult } from "../../github/evidence-check.js";
import type { PublishEvidenceResult } from "../../github/evidence-pr.js";
import { aggregateSummary, verifySummary } from "../../github/summary.js";
import { type AggregateResult, aggregate } from "../../runtime/aggregate.js";
import { loadConfig } from "../../runtime/config-file.js";
import { verifyEvidenceFolder } from "../../runtime/evidence-read.js";
import { collectProvenance } from "../../runtime/provenance.js";
import { writeReportHtml } from "../../runtime/report.js";
import { toolkitVersion } from "../../runtime/version.js";
import { type RunContext, repoPath, repositoryParts } from "../shared/context.js";
import { parsePlannedList, withRunVersion } from "../shared/plan-inputs.js";
import { annotateProblems, logInfo, type StepOutcome, writeSummary } from "../shared/step.js";
import type { AggregateSettings } from "./inputs.js";

/**
 * The evidence pull request, and where verify's verdict was reported on its head (undefined:
 * not reported, since no pull request is open).
 */
type PublishedEvidence = PublishEvidenceResult & { report: ReportCheckResult | undefined };

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
  const published = settings.createPr
    ? await publish(settings, context, result, { runDir, valid, problems, secrets, charts })
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
 * Opens or updates the evidence pull request and reports verify on its head: a check run, a
 * commit status when the token cannot create check runs, nothing (with a warning naming the
 * permission) when it cannot create either. Nothing either when no pull request is open (the
 * base branch already holds the evidence): the head would then be the base branch's.
 */
async function publish(
  settings: AggregateSettings,
  context: RunContext,
  result: AggregateResult,
  verdict: {
    runDir: string;
    valid: boolean;
    problems: Problem[];
    secrets: readonly string[];
    charts: string;
  },
): Promise<PublishedEvidence> {
  const { owner, repo } = repositoryParts(context, "opening the evidence pull request");
  const base = settings.base ?? context.refName;
  if (!base)
    throw new InputError("with.base: missing; expected the branch the evidence pull request targets");
  const best = result.best;
  const runVersion = path.basename(result.runDir ?? "");
  const files = await evidenceFiles(context, result);
  const score = best?.primary_score === null || best === undefined ? "–" : best.primary_score.toFixed(4);
  const [{ createOctokit }, { publishEvidence }, { reportCheck }] = await Promise.all([
    import("../../github/octokit.js"),
    import("../../github/evidence-pr.js"),
    import("../../github/evidence-check.js"),
  ]);
  const octokit = createOctokit({ token: settings.token, baseUrl: context.apiUrl });
  const pr = await publishEvidence(octokit, {
    owner,
    repo,
    base,
    runVersion,
    files,
    // A chart an earlier sweep drew and this one does not (rungs.svg) leaves the branch.
    ownedFolders: [verdict.runDir, `${verdict.runDir}/charts`],
    title: `tunix-rt evidence: ${runVersion} (best ${best?.trial_id}, primary_score ${score})`,
    body: pullRequestBody(result, verdict, context.runUrl, verdict.charts),
    commitMessage: `tunix-rt: evidence for ${runVersion}\n\nSweep ${result.sweepId ?? "unknown"}: best trial ${best?.trial_id}, primary_score ${score}.${context.runUrl ? `\nWorkflow run: ${context.runUrl}` : ""}`,
    secrets: verdict.secrets,
  });
  if (!pr.open) return { ...pr, report: undefined };
  const report = await reportCheck(octokit, {
    owner,
    repo,
    headSha: pr.headSha,
    name: settings.checkName,
    valid: verdict.valid,
    summary: verdict.valid
      ? `${verdict.runDir} verifies: every file is valid and primary_score recomputes from eval_rows.jsonl.`
      : `${verdict.runDir} does not verify: ${verdict.problems.length} problem(s).`,
    problems: verdict.problems,
    repoRoot: context.workspace,
    secrets: verdict.secrets,
    ...(context.runUrl ? { detailsUrl: context.runUrl } : {}),
  });
  if (report.kind === "none" && report.note) core.warning(report.note);
  else if (report.note) logInfo(report.note);
  return { ...pr, report };
}

/** The names of a folder's plain files (dotfiles left out), sorted; none when there is no folder. */
async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
}

/** The evidence folder's files and the promoted config, as repository paths with their text. */
async function evidenceFiles(
  context: RunContext,
  result: AggregateResult,
): Promise<{ path: string; content: string }[]> {
  const runDir = result.runDir as string;
  // The folder's files and its charts/ (a sweep's charts are evidence too).
  const names = [
    ...(await filesOf(runDir)),
    ...(await filesOf(path.join(runDir, "charts"))).map((name) => `charts/${name}`),
  ];
  const files = [];
  for (const name of names) {
    const file = path.join(runDir, name);
    files.push({ path: repoPath(context, file), content: await readFile(file, "utf8") });
  }
  if (result.bestConfigFile) {
    files.push({
      path: repoPath(context, result.bestConfigFile),
      content: await readFile(result.bestConfigFile, "utf8"),
    });
  }
  for (const file of files) {
    if (path.isAbsolute(file.path))
      throw new InputError(
        `${file.path}: is outside the repository; evidence and the promoted config must lie inside it`,
      );
  }
  return files;
}

/** The pull request's body: the verdict, the leaderboard, where it came from. */
function pullRequestBody(
  result: AggregateResult,
  verdict: { runDir: string; valid: boolean; problems: Problem[] },
  runUrl: string | null,
  charts: string,
): string {
  const lines = [
    verdict.valid
      ? `Evidence in ${markdownCode(verdict.runDir)}: verified (${markdownCode(`tunix-rt verify ${verdict.runDir}`)}).`
      : `Evidence in ${markdownCode(verdict.runDir)}: **does not verify** (${verdict.problems.length} problem(s); see the check run).`,
    "",
    ...(charts ? [charts, ""] : []),
    result.leaderboardMd.trim(),
    "",
    runUrl ? `Written by tunix-rt in [this workflow run](${runUrl}).` : "Written by tunix-rt.",
  ];
  return `${lines.join("\n")}\n`;
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
