/** The package action's input boundary: the only place that reads its inputs. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { flag, oneOf, optionalText, readInputs, requiredText, wholeNumber } from "../shared/input-values.js";
import type { ReadOptions } from "../shared/runner.js";

/** Literal defaults, the same as actions/package/action.yml declares (a test compares them). */
export const packageDefaults = {
  out: "submission",
  "max-size": "102400",
  profile: "default",
  verify: "true",
  "release-publish": "true",
} as const;

/** What to package, and where the zip goes. */
export interface PackageSettings {
  /** The action's one step. */
  mode: "package";
  /** The evidence folder (`submission_runs/<run_version>`), relative to the workspace. */
  runDir: string;
  /** Folder for the zip, relative to the workspace. */
  out: string;
  /** Largest zip allowed, in bytes. */
  maxSize: number;
  /** The sweep config to include; default the manifest's sweep_config_path. */
  config: string | undefined;
  /** Verification profile used before packaging. */
  profile: "default" | "kaggle";
  /** Verify the evidence first (invalid evidence is not packaged). */
  verify: boolean;
  /**
   * Release the zip under this tag: into the tag's draft release (created when there is none),
   * replacing an earlier zip of the same run_version, then published (see `releasePublish`).
   */
  releaseTag: string | undefined;
  /** Publish the draft once the zip is on it; false leaves the draft for a person to publish. */
  releasePublish: boolean;
  /** Token for the release upload (never logged). */
  token: string;
}

const schema = z.object({
  "run-dir": requiredText,
  out: optionalText,
  "max-size": wholeNumber({ min: 1, max: 2 ** 31 }),
  config: optionalText,
  profile: oneOf(["default", "kaggle"], "default"),
  verify: flag(true),
  "release-tag": optionalText,
  "release-publish": flag(true),
  token: optionalText,
});

/** Reads the package action's inputs. */
export function readPackageInputs({
  action = "tunix-rt/package",
}: ReadOptions<"package"> = {}): PackageSettings {
  const raw = readInputs(schema, action);
  if (raw["release-tag"] !== undefined && raw.token === undefined) {
    throw new InputError(
      `${action}: with.token: missing; uploading to a release needs a token with contents: write (the default is \${{ github.token }})`,
    );
  }
  return Object.freeze({
    mode: "package",
    runDir: raw["run-dir"],
    out: raw.out ?? packageDefaults.out,
    maxSize: raw["max-size"] ?? Number(packageDefaults["max-size"]),
    config: raw.config,
    profile: raw.profile ?? "default",
    verify: raw.verify,
    releaseTag: raw["release-tag"],
    releasePublish: raw["release-publish"],
    token: raw.token ?? "",
  });
}
