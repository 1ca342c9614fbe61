/**
 * The evidence pull request: `publish` opens or updates it (for `mode: aggregate`, and for
 * `mode: publish` once the evidence is signed), and reports verify's verdict on its head.
 *
 * `mode: publish` is the last of three steps when the sweep signs its evidence: the
 * aggregate (with `attest`) writes the evidence, a checksums file of every file it will
 * commit and a hand-off (this file's `Handoff`, in the runner's temp folder); GitHub's
 * actions/attest-build-provenance signs the checksums; publish puts the bundle beside the
 * evidence as attestation.sigstore.json, checks that it names every file with its SHA-256
 * (a bundle that does not is a failure, and no pull request is opened), verifies, and opens
 * the pull request. Its signature is checked on the pull request by the evidence check.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as core from "@actions/core";
import { formatProblem, InputError, type Problem } from "../../core/errors.js";
import { markdownCode } from "../../core/escape.js";
import { checksumsText, subjectProblems } from "../../core/evidence/attest/attestation.js";
import { readBundle } from "../../core/evidence/attest/sigstore.js";
import { attestationFileName } from "../../core/evidence/schemas.js";
import { bytesText, limits } from "../../core/limits.js";
import { secretValuesOf } from "../../core/redact.js";
import type { ReportCheckResult } from "../../github/evidence-check.js";
import type { PublishEvidenceResult } from "../../github/evidence-pr.js";
import { pullRequestSummary, verifySummary } from "../../github/summary.js";
import { folderScope } from "../../runtime/attestation.js";
import { readBounded } from "../../runtime/bounded-read.js";
import { verifyEvidenceFolder } from "../../runtime/evidence-read.js";
import { sha256OfFile, writeFileAtomic } from "../../runtime/files.js";
import { type RunContext, repoPath, repositoryParts } from "../shared/context.js";
import { annotateProblems, logInfo, type StepOutcome, writeSummary } from "../shared/step.js";
import type { PublishSettings } from "./inputs.js";

/** What the pull request needs of an aggregate: passed from `mode: aggregate` to `mode: publish`. */
export interface Handoff {
  /** The evidence folder (absolute). */
  runDir: string;
  /** The promoted config (absolute), or null. */
  bestConfigFile: string | null;
  runVersion: string;
  sweepId: string | null;
  best: { trial_id: string; primary_score: number | null };
  leaderboardMd: string;
  /** The charts' Markdown for the pull request's body. */
  charts: string;
}

/** Where an aggregate leaves its hand-off and checksums for the steps after it: the runner's temp. */
function handoffDir(context: RunContext, runVersion: string): string {
  return path.join(context.env.RUNNER_TEMP || os.tmpdir(), "tunix-rt-publish", runVersion);
}

/**
 * Writes the hand-off and the checksums file of every file the pull request will commit
 * (repository paths); returns the checksums file's path, for actions/attest's subject-checksums.
 */
export async function writeHandoff(context: RunContext, handoff: Handoff): Promise<string> {
  const dir = handoffDir(context, handoff.runVersion);
  await mkdir(dir, { recursive: true });
  const subjects = [];
  for (const file of await evidenceFiles(context, handoff))
    subjects.push({ name: file.path, sha256: await sha256OfFile(file.abs) });
  const checksums = path.join(dir, "subjects.sha256");
  await writeFileAtomic(checksums, checksumsText(subjects));
  await writeFileAtomic(path.join(dir, "handoff.json"), `${JSON.stringify(handoff, null, 2)}\n`);
  logInfo(`${subjects.length} files to sign, listed in ${checksums}`);
  return checksums;
}

/** The hand-off an aggregate of this job left for `runDir`. */
async function readHandoff(context: RunContext, runDir: string): Promise<Handoff> {
  const file = path.join(handoffDir(context, path.basename(runDir)), "handoff.json");
  let handoff: Handoff;
  try {
    handoff = JSON.parse(await readFile(file, "utf8")) as Handoff;
  } catch {
    throw new InputError(
      `with.run-dir: ${repoPath(context, runDir)} has no hand-off of an aggregate in this job (${file}); run the score action with mode: aggregate and attest: true first`,
    );
  }
  if (path.resolve(handoff.runDir) !== path.resolve(runDir))
    throw new InputError(
      `with.run-dir: got ${repoPath(context, runDir)}; the aggregate of this job wrote ${repoPath(context, handoff.runDir)}`,
    );
  return handoff;
}

/** `mode: publish`: the signed evidence's pull request. */
export async function publishStep(settings: PublishSettings, context: RunContext): Promise<StepOutcome> {
  const cwd = context.workspace;
  const handoff = await readHandoff(context, path.resolve(cwd, settings.runDir));
  const runDir = repoPath(context, handoff.runDir);
  const secrets = secretValuesOf(context.env);
  const bundleFile = path.join(handoff.runDir, attestationFileName);
  const unsigned = (why: string): StepOutcome => ({
    outputs: { attested: "false", valid: "false" },
    failure: `${why}: the evidence in ${runDir} is not signed, and no pull request was opened`,
  });
  if (settings.attestation === undefined)
    return unsigned(
      "with.attestation: missing; expected the bundle-path output of actions/attest-build-provenance",
    );
  const read = await readBounded(path.resolve(cwd, settings.attestation), limits.attestationBytes).catch(
    (error: unknown) => ({ error }),
  );
  if ("error" in read) return unsigned(`with.attestation: ${settings.attestation} cannot be read`);
  if ("size" in read)
    return unsigned(
      `with.attestation: ${settings.attestation} is over the ${bytesText(limits.attestationBytes)} a bundle may have`,
    );
  // The bundle must vouch for every file the pull request commits, as it is now.
  const content = readBundle(read.bytes.toString("utf8"));
  if (!content.ok) return unsigned(`with.attestation: ${settings.attestation} ${content.message}`);
  const config = handoff.bestConfigFile
    ? { repoPath: repoPath(context, handoff.bestConfigFile), bytes: await readFile(handoff.bestConfigFile) }
    : undefined;
  const names = { bundle: repoPath(context, bundleFile), file: (p: string) => p };
  const { scope } = await folderScope(handoff.runDir, cwd, config, names);
  const uncovered = subjectProblems(content.subjects, scope);
  if (uncovered.length > 0) {
    const [name, message] = uncovered[0] as [string, string];
    return unsigned(
      `the bundle does not cover the evidence (${uncovered.length} file(s); first: ${name}: ${message})`,
    );
  }
  await writeFileAtomic(bundleFile, read.bytes);
  logInfo(`${names.bundle}: the signature of ${scope.files.size} files, written beside the evidence`);

  const { problems } = await verifyEvidenceFolder(handoff.runDir, {
    profile: settings.profile,
    shownAs: runDir,
    attestation: false,
  });
  const valid = problems.length === 0;
  const published = settings.createPr
    ? await publish(settings, context, handoff, { runDir, valid, problems, secrets, attested: true })
    : undefined;
  annotateProblems(problems, { repoRoot: cwd, secrets });
  await writeSummary(
    `${published ? `${pullRequestSummary({ ...published, report: published.report && { ...published.report, name: settings.checkName } })}\n\n` : ""}Signed: ${markdownCode(names.bundle)} (${scope.files.size} files).\n\n${verifySummary(problems, { dir: runDir, valid, secrets })}`,
  );
  const outputs = {
    attested: "true",
    valid: String(valid),
    "pr-number": published?.number == null ? "" : String(published.number),
    "pr-url": published?.url ?? "",
    "pr-operation": published?.operation ?? "",
    "check-url": published?.report?.url ?? "",
  };
  if (!valid)
    return {
      outputs,
      failure: `the evidence in ${runDir} does not verify: ${problems.length} problem${problems.length === 1 ? "" : "s"}, first: ${formatProblem(problems[0] as Problem)}`,
    };
  return { outputs };
}

/**
 * The evidence pull request, and where verify's verdict was reported on its head (undefined:
 * not reported, since no pull request is open).
 */
export type PublishedEvidence = PublishEvidenceResult & { report: ReportCheckResult | undefined };

/**
 * Opens or updates the evidence pull request and reports verify on its head: a check run, a
 * commit status when the token cannot create check runs, nothing (with a warning naming the
 * permission) when it cannot create either. Nothing either when no pull request is open (the
 * base branch already holds the evidence): the head would then be the base branch's.
 */
export async function publish(
  settings: { token: string; base: string | undefined; checkName: string },
  context: RunContext,
  handoff: Handoff,
  verdict: {
    runDir: string;
    valid: boolean;
    problems: Problem[];
    secrets: readonly string[];
    attested: boolean;
  },
): Promise<PublishedEvidence> {
  const { owner, repo } = repositoryParts(context, "opening the evidence pull request");
  const base = settings.base ?? context.refName;
  if (!base)
    throw new InputError("with.base: missing; expected the branch the evidence pull request targets");
  const { best, runVersion } = handoff;
  const files = (await evidenceFiles(context, handoff)).map((f) => ({
    path: f.path,
    content: f.bytes.toString("utf8"),
  }));
  const score = best.primary_score === null ? "–" : best.primary_score.toFixed(4);
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
    title: `tunix-rt evidence: ${runVersion} (best ${best.trial_id}, primary_score ${score})`,
    body: pullRequestBody(handoff, verdict, context.runUrl),
    commitMessage: `tunix-rt: evidence for ${runVersion}\n\nSweep ${handoff.sweepId ?? "unknown"}: best trial ${best.trial_id}, primary_score ${score}.${context.runUrl ? `\nWorkflow run: ${context.runUrl}` : ""}`,
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

/** The evidence folder's files and the promoted config, as repository paths with their bytes. */
async function evidenceFiles(
  context: RunContext,
  handoff: Pick<Handoff, "runDir" | "bestConfigFile">,
): Promise<{ path: string; abs: string; bytes: Buffer }[]> {
  const runDir = handoff.runDir;
  // The folder's files and its charts/ (a sweep's charts are evidence too).
  const names = [
    ...(await filesOf(runDir)),
    ...(await filesOf(path.join(runDir, "charts"))).map((name) => `charts/${name}`),
  ];
  const files = [];
  for (const name of names) {
    const file = path.join(runDir, name);
    files.push({ path: repoPath(context, file), abs: file, bytes: await readFile(file) });
  }
  if (handoff.bestConfigFile) {
    files.push({
      path: repoPath(context, handoff.bestConfigFile),
      abs: handoff.bestConfigFile,
      bytes: await readFile(handoff.bestConfigFile),
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

/** The pull request's body: the verdict, the signature, the leaderboard, where it came from. */
export function pullRequestBody(
  handoff: Handoff,
  verdict: { runDir: string; valid: boolean; problems: Problem[]; attested: boolean },
  runUrl: string | null,
): string {
  const bundle = `${verdict.runDir}/${attestationFileName}`;
  const lines = [
    verdict.valid
      ? `Evidence in ${markdownCode(verdict.runDir)}: verified (${markdownCode(`tunix-rt verify ${verdict.runDir}`)}).`
      : `Evidence in ${markdownCode(verdict.runDir)}: **does not verify** (${verdict.problems.length} problem(s); see the check run).`,
    ...(verdict.attested
      ? [
          "",
          `Signed in this workflow run (a GitHub artifact attestation): ${markdownCode(bundle)} covers every file of the evidence and the promoted config. Check it with ${markdownCode(`tunix-rt verify ${verdict.runDir} --attestation-repo OWNER/NAME`)} or ${markdownCode(`gh attestation verify ${verdict.runDir}/run_manifest.json --repo OWNER/NAME`)}.`,
        ]
      : []),
    "",
    ...(handoff.charts ? [handoff.charts, ""] : []),
    handoff.leaderboardMd.trim(),
    "",
    runUrl ? `Written by tunix-rt in [this workflow run](${runUrl}).` : "Written by tunix-rt.",
  ];
  return `${lines.join("\n")}\n`;
}
