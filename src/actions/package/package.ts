/**
 * package: what `tunix-rt package` does (verify, gates, the deterministic zip), and with
 * `release-tag` the zip goes to that release, replacing an earlier zip of the same run_version.
 */
import path from "node:path";
import { InputError } from "../../core/errors.js";
import { InvalidEvidenceError, packageRunDir } from "../../runtime/package.js";
import { type RunContext, repoPath, repositoryParts } from "../shared/context.js";
import { annotateProblems, type StepOutcome } from "../shared/step.js";
import type { PackageSettings } from "./inputs.js";

/** Builds the submission zip and uploads it to the release when asked. */
export async function packageStep(settings: PackageSettings, context: RunContext): Promise<StepOutcome> {
  let file: string;
  try {
    file = await packageRunDir({
      runDir: settings.runDir,
      cwd: context.workspace,
      env: process.env,
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
  const [{ createOctokit }, { uploadReleaseAsset }] = await Promise.all([
    import("../../github/octokit.js"),
    import("../../github/release.js"),
  ]);
  const asset = await uploadReleaseAsset(createOctokit({ token: settings.token, baseUrl: context.apiUrl }), {
    owner,
    repo,
    tag: settings.releaseTag,
    file,
    runVersion,
  });
  return { outputs: { "zip-path": zipPath, "asset-url": asset.url } };
}
