/**
 * The input schemas every action boundary shares: strings in, typed values or one-line
 * messages out (`with.<input>: got "x"; expected ...`), all bad inputs reported at once, and
 * never a secret's text in a message.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  flag,
  oneOf,
  optionalJson,
  parseInputs,
  pathList,
  requiredOneOf,
  requiredText,
  secretEnvLines,
  wholeNumber,
} from "../../src/actions/shared/input-values.js";
import { trainerEnvironment } from "../../src/actions/shared/trial-files.js";
import { InputError } from "../../src/core/errors.js";

const schema = z.object({
  mode: requiredOneOf(["plan", "trial"]),
  count: wholeNumber({ min: 1, max: 256 }),
  upload: flag(true),
  sampler: oneOf(["auto", "random"]),
  path: pathList,
  trial: optionalJson,
  "run-dir": requiredText,
});

const parse = (raw: Partial<Record<string, string>>) =>
  parseInputs(
    schema,
    {
      mode: "plan",
      count: "",
      upload: "",
      sampler: "",
      path: "",
      trial: "",
      "run-dir": "x",
      ...raw,
    } as Record<string, string>,
    "tunix-rt/test",
  );

function problemsOf(raw: Partial<Record<string, string>>): string[] {
  try {
    parse(raw);
  } catch (error) {
    if (error instanceof InputError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe("action inputs", () => {
  it("reads empty inputs as not given, and gives a frozen settings object", () => {
    const settings = parse({});
    expect(settings).toEqual({
      mode: "plan",
      count: undefined,
      upload: true,
      sampler: undefined,
      path: [],
      trial: undefined,
      "run-dir": "x",
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it("parses what a workflow writes", () => {
    const settings = parse({
      count: " 12 ",
      upload: "False",
      sampler: "random",
      path: "a/b\nc/d, e",
      trial: '{"trial_id": "t0001"}',
    });
    expect(settings).toMatchObject({
      count: 12,
      upload: false,
      sampler: "random",
      path: ["a/b", "c/d", "e"],
      trial: { trial_id: "t0001" },
    });
  });

  it("reports every bad input at once, each as with.<name>: got ...; expected ...", () => {
    expect(
      problemsOf({ mode: "plna", count: "0", upload: "yes", sampler: "tpe2", trial: "{", "run-dir": " " }),
    ).toEqual([
      'with.mode: got "plna"; expected plan or trial',
      'with.count: got "0"; expected a whole number from 1 to 256',
      'with.upload: got "yes"; expected true or false',
      'with.sampler: got "tpe2"; expected auto or random',
      expect.stringMatching(/^with\.trial: not valid JSON/),
      "with.run-dir: missing; this input is required",
    ]);
    expect(() => parse({ count: "1.5" })).toThrow(
      'tunix-rt/test: with.count: got "1.5"; expected a whole number from 1 to 256',
    );
    expect(problemsOf({ mode: "" })).toEqual(["with.mode: missing; expected plan or trial"]);
  });

  it("reads secret env lines, and names a bad line without showing it", () => {
    const ok = secretEnvLines.parse("HF_TOKEN=hf_abc=def\n\n# note\nWANDB_API_KEY= spaced \n");
    expect(ok).toEqual({ HF_TOKEN: "hf_abc=def", WANDB_API_KEY: " spaced " });
    const bad = secretEnvLines.safeParse("GOOD=1\nthis is the secret sauce\n1BAD=x");
    expect(bad.success).toBe(false);
    const messages = bad.error?.issues.map((i) => i.message) ?? [];
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^line 2: expected NAME=value/);
    expect(messages[1]).toMatch(/^line 3: /);
    expect(messages.join(" ")).not.toMatch(/sauce|BAD=x/);
  });
});

describe("the trainer's environment", () => {
  it("keeps the step's environment and adds the secret env, without the runner's own variables", () => {
    const env = trainerEnvironment(
      {
        PATH: "/bin",
        HF_TOKEN: "hf",
        CUDA_VISIBLE_DEVICES: "1",
        GITHUB_REPOSITORY: "o/r",
        INPUT_TOKEN: "ghs_x",
        "INPUT_SECRET-ENV": "A=1",
        ACTIONS_RUNTIME_TOKEN: "rt",
        ACTIONS_RESULTS_URL: "https://results",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc",
        GITHUB_OUTPUT: "/tmp/out",
        GITHUB_ENV: "/tmp/env",
        GITHUB_STEP_SUMMARY: "/tmp/sum",
      },
      { EXTRA: "x" },
    );
    expect(env).toEqual({
      PATH: "/bin",
      HF_TOKEN: "hf",
      CUDA_VISIBLE_DEVICES: "1",
      GITHUB_REPOSITORY: "o/r",
      EXTRA: "x",
    });
  });
});
