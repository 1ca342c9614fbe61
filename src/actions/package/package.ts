/**
 * package: what `tunix-rt package` does (verify, gates, the deterministic zip), and with
 * `release-tag` the zip is released under that tag the way immutable releases need: into the
 * tag's draft (created at this run's commit when there is none), replacing an earlier zip of
 * the same run_version, then the draft is published (unless `release-publish` is false).
 */
import path from "node:path";
import { InputError } from "../../core/errors.js";
import { InvalidEvidenceError, packageRunDir } from "../../runtime/package.js";
import { type RunContext, repoPath, repositoryParts } from "../shared/context.js";
import { annotateProblems, logInfo, type StepOutcome } from "../shared/step.js";
import type { PackageSettings } from "./inputs.js";

/** Builds the submission zip and releases it when asked. */
export async function packageStep(settings: PackageSettings, context: RunContext): Promise<StepOutcome> {
  let file: string;
  try {
    file = await packageRunDir({
      runDir: settings.runDir,
      cwd: context.workspace,
      env: context.env,
      maxSize: settings.maxSize,
      profile: settings.profile,
      verify: settings.verify,
      outDir: settings.out,
      ...(settings.config === undefined ? {} : { configFile: settings.config }),
    });
  } catch (error) {
    // Invalid evidence: every problem on its file, then the step fails with the verdict.
    if (error instanceof InvalidEvidenceError)
      annotateProblems(error.problems, { repoRoot: context.workspace });
    throw error;
  }
  const zipPath = repoPath(context, file);
  if (settings.releaseTag === undefined) return { outputs: { "zip-path": zipPath, "asset-url": "" } };
  const { owner, repo } = repositoryParts(context, "uploading the zip to the release");
  const runVersion = path.basename(path.resolve(context.workspace, settings.runDir));
  if (!runVersion)
    throw new InputError(`with.run-dir: got "${settings.runDir}"; expected submission_runs/<run_version>`);
  // Octokit loads only for a release upload.
  const [{ createOctokit }, { releaseZip }] = await Promise.all([
    import("../../github/octokit.js"),
    import("../../github/release.js"),
  ]);
  const released = await releaseZip(createOctokit({ token: settings.token, baseUrl: context.apiUrl }), {
    owner,
    repo,
    tag: settings.releaseTag,
    file,
    runVersion,
    publish: settings.releasePublish,
    ...(context.sha ? { target: context.sha } : {}),
  });
  const { release } = released;
  logInfo(
    `${released.name}: on release ${settings.releaseTag} (${release.created ? "drafted by this step, " : ""}${release.published ? "published by this step" : release.draft ? "left a draft" : "already published"}${release.immutable ? ", immutable" : ""}): ${release.url}`,
  );
  if (released.replaced.length) logInfo(`replaced: ${released.replaced.join(", ")}`);
  return { outputs: { "zip-path": zipPath, "asset-url": released.url } };
}
