/** The verify-evidence action's input boundary: the only place that reads its inputs. */
import * as core from "@actions/core";
import { z } from "zod";
import { oneOf, parseInputs, pathList } from "../shared/input-values.js";

/** Literal defaults, the same as actions/verify-evidence/action.yml declares (a test compares them). */
export const verifyDefaults = { profile: "default" } as const;

/** What to verify. */
export interface VerifySettings {
  /** Evidence folders (`submission_runs/<run_version>`) and submission zips, relative to the workspace. */
  paths: readonly string[];
  /** `kaggle` also requires a Gemma model id. */
  profile: "default" | "kaggle";
}

const schema = z.object({
  path: pathList.refine((list) => list.length > 0, {
    message: "missing; expected one or more evidence folders or submission zips",
  }),
  profile: oneOf(["default", "kaggle"], "default"),
});

/** Reads the verify-evidence action's inputs. */
export function readVerifyInputs(action = "tunix-rt/verify-evidence"): VerifySettings {
  const raw = parseInputs(schema, { path: core.getInput("path"), profile: core.getInput("profile") }, action);
  return Object.freeze({ paths: Object.freeze([...raw.path]), profile: raw.profile ?? "default" });
}
