/**
 * Running the actions as the runner runs them, and as `@github/local-action` runs their
 * sources: a workspace (a temp folder with the example trainer and a small sweep config),
 * `node dist/<action>.js` with `INPUT_*` variables, a `GITHUB_OUTPUT` and a
 * `GITHUB_STEP_SUMMARY` file, and parsers for what the step leaves behind.
 */

import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "../helpers/cli.js";

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** What one action step left behind. */
export interface StepResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Outputs as the runner reads them from GITHUB_OUTPUT (or local-action prints them). */
  outputs: Record<string, string>;
  /** The job summary the step appended. */
  summary: string;
  /** `::error ...::` lines, parsed. */
  errors: Annotation[];
}

/** A workflow command annotation (`::error file=a,line=3::message`). */
export interface Annotation {
  properties: Record<string, string>;
  message: string;
}

/** A small sweep of the example trainer: 3 trials of 200 steps, two at a time. */
export const testSweepYaml = `name: Actions test sweep
run_version: actions_v1
dataset_key: example-arithmetic-v1
base_model_id: tunix-rt/example-digit-adder
metric_name: answer_correctness
metric_mode: max
num_samples: 3
max_concurrent_trials: 2
max_failed_trials: null
seed: 7
sampler: random
evalset: training/evalsets/example_eval.jsonl
search_space:
  learning_rate: { type: loguniform, min: 1.0e-2, max: 2.0e-1 }
  per_device_batch_size: { type: choice, values: [4, 8] }
  weight_decay: { type: uniform, min: 0.0, max: 0.1 }
  warmup_steps: { type: choice, values: [0, 50] }
trainer:
  command: [node, training/example/train.mjs, --learning-rate, "{learning_rate}", --batch-size,
            "{per_device_batch_size}", --weight-decay, "{weight_decay}", --warmup-steps,
            "{warmup_steps}", --seed, "{seed}", --steps, "200", --output-dir, "{output_dir}"]
  timeout_minutes: 2
  env: {}
`;

/** A fresh workspace: the example trainer, its evalset, and `training/sweep.yaml` (the test sweep). */
export async function makeWorkspace(prefix = "tunix-rt-actions-"): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await cp(path.join(repoRoot, "training/example"), path.join(dir, "training/example"), { recursive: true });
  await mkdir(path.join(dir, "training/evalsets"), { recursive: true });
  await cp(
    path.join(repoRoot, "training/evalsets/example_eval.jsonl"),
    path.join(dir, "training/evalsets/example_eval.jsonl"),
  );
  await writeFile(path.join(dir, "training/sweep.yaml"), testSweepYaml);
  return dir;
}

/**
 * The environment of a test step: this process's, without anything a real runner (when the
 * tests themselves run on GitHub Actions) set for the test job, plus what is given.
 */
export function stepEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(GITHUB_|INPUT_|RUNNER_|ACTIONS_|LOCAL_ACTION_)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Inputs as the runner passes them: `INPUT_` and the name upper-cased, dashes kept (`INPUT_RUN-DIR`). */
export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]),
  );
}

export { runProcess };

/**
 * Runs a committed bundle as the runner runs a JavaScript action: `node <main>` in the
 * workspace, inputs in `INPUT_*`, fresh `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files.
 */
export async function runBundle(
  main: string,
  inputs: Record<string, string>,
  { workspace, env = {} }: { workspace: string; env?: Record<string, string> },
): Promise<StepResult> {
  const files = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-step-"));
  const outputFile = path.join(files, "output");
  const summaryFile = path.join(files, "summary");
  await writeFile(outputFile, "");
  await writeFile(summaryFile, "");
  const ran = await runProcess([process.execPath, path.join(repoRoot, main)], {
    cwd: workspace,
    env: stepEnv({
      GITHUB_WORKSPACE: workspace,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: files,
      ...inputEnv(inputs),
      ...env,
    }),
  });
  return {
    ...ran,
    outputs: parseOutputFile(await readFile(outputFile, "utf8")),
    summary: await readFile(summaryFile, "utf8"),
    errors: parseAnnotations(ran.stdout, "error"),
  };
}

/** Parses a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIMITER` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const block = /^([^=<]+)<<(.+)$/.exec(line);
    if (block) {
      const [, name, delimiter] = block as unknown as [string, string, string];
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] as string);
      outputs[name] = value.join("\n");
    } else if (line.includes("=")) {
      outputs[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return outputs;
}

/** Parses workflow command annotations of one kind from a step's log. */
export function parseAnnotations(log: string, kind: "error" | "warning" | "notice"): Annotation[] {
  const found: Annotation[] = [];
  for (const line of log.split(/\r?\n/)) {
    const match = new RegExp(`^::${kind}(?: ([^:]*))?::(.*)$`).exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[1] ?? "").split(",").filter(Boolean)) {
      const at = pair.indexOf("=");
      properties[pair.slice(0, at)] = decodeProperty(pair.slice(at + 1));
    }
    found.push({ properties, message: decodeData(match[2] ?? "") });
  }
  return found;
}

// The escapes of @actions/core's workflow commands (toCommandValue / escapeProperty).
const decodeData = (s: string) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
const decodeProperty = (s: string) => decodeData(s.replace(/%3A/g, ":").replace(/%2C/g, ","));

/**
 * Runs an action's source entry point under `@github/local-action` (it stubs @actions/core,
 * @actions/github and @actions/artifact): `local-action <action dir> <entry> <env file>`,
 * from the repository root, where it finds the packages it stubs.
 */
export async function runLocalAction(
  actionDir: string,
  entry: string,
  envFile: string,
  { workspace, env = {} }: { workspace: string; env?: Record<string, string> },
): Promise<StepResult> {
  const files = await mkdtemp(path.join(os.tmpdir(), "tunix-rt-local-action-"));
  const summaryFile = path.join(files, "summary");
  await writeFile(summaryFile, "");
  const bin = path.join(repoRoot, "node_modules/@github/local-action/bin/local-action.js");
  const ran = await runProcess([process.execPath, bin, actionDir, entry, envFile], {
    cwd: repoRoot,
    env: stepEnv({ GITHUB_WORKSPACE: workspace, GITHUB_STEP_SUMMARY: summaryFile, ...env }),
  });
  const outputs: Record<string, string> = {};
  for (const line of ran.stdout.split(/\r?\n/)) {
    const match = /^::set-output name=([^:]+)::(.*)$/.exec(line);
    if (match) outputs[match[1] as string] = match[2] as string;
  }
  return {
    ...ran,
    outputs,
    summary: await readFile(summaryFile, "utf8"),
    errors: parseAnnotations(ran.stdout, "error"),
  };
}

/** A later wave's plan inputs: the earlier plan's, this wave, the sweep's id and what it planned. */
export const laterWave = (common: Record<string, string>, wave: number, id: string, planned: string) => ({
  ...common,
  wave: String(wave),
  "sweep-id": id,
  planned,
  "history-from-artifacts": "true",
});
