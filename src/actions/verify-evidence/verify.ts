/**
 * verify-evidence: what `tunix-rt verify` does for each folder or zip given, with every
 * problem as an error annotation on its file (and line, for JSONL) and, because GitHub shows
 * only the first few annotations of a step, every problem listed in the job summary too.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { InputError, messageOf, type Problem, quote } from "../../core/errors.js";
import { append } from "../../core/limits.js";
import { verifySummary } from "../../github/summary.js";
import { verifyEvidenceFolder, verifySubmissionZip } from "../../runtime/evidence-read.js";
import { describeFsError } from "../../runtime/files.js";
import { isInside } from "../../runtime/root.js";
import { type RunContext, repoPath } from "../shared/context.js";
import { annotateProblems, logInfo, type StepOutcome, writeSummary } from "../shared/step.js";
import { attestationPolicy } from "./attestation.js";
import type { FolderVerifySettings } from "./inputs.js";

/**
 * Verifies every folder and zip; fails the step when any has a problem. With a working
 * directory other than the workspace (a pull request's head checked out as data), everything
 * happens inside it: paths resolve there, the files the evidence names are read there,
 * annotations name files relative to it, and a path or link leading out of it is refused.
 */
export async function verifyStep(settings: FolderVerifySettings, context: RunContext): Promise<StepOutcome> {
  const dir = await workingDirectory(settings.workingDirectory, context);
  const inside = dir !== context.workspace;
  const here: RunContext = { ...context, workspace: dir };
  const all: Problem[] = [];
  const invalid: string[] = [];
  for (const target of settings.paths) {
    const absolute = path.resolve(dir, target);
    const shown = inside && !isInside(dir, absolute) ? target : repoPath(here, absolute);
    // Whatever goes wrong with one folder or zip is its problem: the others are still
    // checked, and the step fails naming each (never a crash, never a check left pending).
    let outcome: { problems: Problem[]; notes: string[] };
    try {
      outcome = await verifyTarget(target, absolute, shown, { dir, inside, settings, context });
    } catch (error) {
      const message = messageOf(error);
      const own = message.startsWith(`${target}: `) ? message.slice(target.length + 2) : message;
      outcome = { problems: [{ file: shown, path: "", message: own }], notes: [] };
    }
    const { problems, notes } = outcome;
    const valid = problems.length === 0;
    if (!valid) invalid.push(shown);
    annotateProblems(problems, { repoRoot: dir });
    // What could not be checked (an evalset not in the repository: the rows were not re-graded).
    for (const note of notes) logInfo(`${shown}: note: ${note}`);
    logInfo(
      `${shown}: ${valid ? "valid" : `invalid, ${problems.length} problem${problems.length === 1 ? "" : "s"}`}`,
    );
    await writeSummary(verifySummary(problems, { dir: shown, valid }));
    append(all, problems);
  }
  const valid = invalid.length === 0;
  const shownAll = settings.paths.join(", ");
  const description = valid
    ? `the evidence verifies: ${shownAll}`
    : `${all.length} problem${all.length === 1 ? "" : "s"} in the evidence of ${invalid.join(", ")}`;
  const outputs = {
    valid: String(valid),
    problems: String(all.length),
    verdict: valid ? "valid" : "invalid",
    description: description.length <= 140 ? description : `${description.slice(0, 137)}...`,
    folders: settings.paths.join(" "),
  };
  if (valid) return { outputs };
  return {
    outputs,
    failure: `${invalid.join(", ")}: the evidence does not verify (${all.length} problem${all.length === 1 ? "" : "s"}; each is annotated and listed in the job summary)`,
  };
}

/** One folder or zip, verified; throws InputError when it cannot be (outside the checkout, unreadable). */
async function verifyTarget(
  target: string,
  absolute: string,
  shown: string,
  {
    dir,
    inside,
    settings,
    context,
  }: { dir: string; inside: boolean; settings: FolderVerifySettings; context: RunContext },
): Promise<{ problems: Problem[]; notes: string[] }> {
  if (inside && !isInside(dir, absolute))
    throw new InputError(`${target}: is outside the working directory ${settings.workingDirectory}`);
  let isFolder: boolean;
  try {
    isFolder = (await stat(absolute)).isDirectory();
  } catch (error) {
    throw new InputError(`${target}: cannot read: ${describeFsError(error)}`);
  }
  if (!isFolder && !/\.zip$/i.test(target))
    throw new InputError(
      `${target}: is a file but not a .zip; expected an evidence folder or a submission zip`,
    );
  const options = {
    profile: settings.profile,
    shownAs: shown,
    cwd: dir,
    ...(inside ? { root: dir } : {}),
    attestation: await attestationPolicy(settings.attestation, context),
  };
  return isFolder ? verifyEvidenceFolder(absolute, options) : verifySubmissionZip(absolute, options);
}

/** The working directory as an absolute path; an InputError when it is no folder. */
async function workingDirectory(given: string, context: RunContext): Promise<string> {
  const dir = path.resolve(context.workspace, given);
  let isFolder: boolean;
  try {
    isFolder = (await stat(dir)).isDirectory();
  } catch (error) {
    throw new InputError(
      `with.working-directory: ${quote(given)} is not a folder (${describeFsError(error)}); expected the checkout to verify in, relative to the workspace`,
    );
  }
  if (!isFolder)
    throw new InputError(
      `with.working-directory: ${quote(given)} is a file; expected the checkout to verify in, relative to the workspace`,
    );
  return dir;
}
