/** The verify-evidence action's input boundary: the only place that reads its inputs. */
import { z } from "zod";
import { oneOf, optionalText, pathList, readInputs } from "../shared/input-values.js";
import type { ReadOptions } from "../shared/runner.js";

/** Literal defaults, the same as actions/verify-evidence/action.yml declares (a test compares them). */
export const verifyDefaults = { profile: "default", "working-directory": "." } as const;

/** What to verify. */
export interface VerifySettings {
  /** The action's one step. */
  mode: "verify";
  /** Evidence folders (`submission_runs/<run_version>`) and submission zips, relative to the workspace. */
  paths: readonly string[];
  /** `kaggle` also requires a Gemma model id. */
  profile: "default" | "kaggle";
  /**
   * The checkout to verify in, relative to the workspace (`.`: the workspace): paths are
   * relative to it, the files the evidence names are read from it, annotations name files
   * relative to it, and nothing outside it is read (a pull request's head checked out as data).
   */
  workingDirectory: string;
}

const schema = z.object({
  path: pathList.refine((list) => list.length > 0, {
    message: "missing; expected one or more evidence folders or submission zips",
  }),
  profile: oneOf(["default", "kaggle"], "default"),
  "working-directory": optionalText,
});

/** Reads the verify-evidence action's inputs. */
export function readVerifyInputs({
  action = "tunix-rt/verify-evidence",
}: ReadOptions<"verify"> = {}): VerifySettings {
  const raw = readInputs(schema, action);
  return Object.freeze({
    mode: "verify",
    paths: Object.freeze([...raw.path]),
    profile: raw.profile ?? "default",
    workingDirectory: raw["working-directory"] ?? verifyDefaults["working-directory"],
  });
}
